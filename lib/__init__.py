"""vbank-desk's library, one package per layer (README "Where things live"); only ``lib/ui`` imports streamlit."""
