"""vbank-desk's library: everything but the UI. Only ``lib/ui*`` may import streamlit."""
