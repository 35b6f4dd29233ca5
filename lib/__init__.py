"""vbank-desk's library, one package per layer (README "Where things live"); only ``lib/ui`` imports streamlit."""

import os

# polars' allocator (jemalloc) keeps memory it freed for ~10 s before giving it back: a month-end match frees
# hundreds of MB that the rest of the app (glibc, Arrow) cannot reuse meanwhile. Give it back at once (measured,
# bench/reconcile.py: peak RSS of a 1 M-row reconciliation 1.67 → 1.42 GB, 1.63 → 1.09 GB after it; the price is
# time, the match 0.6 → 0.9 s at 1 M rows, 3.5 → 5.6 s at 5 M). jemalloc reads it when polars loads: set here, before
# any module of lib can import polars.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
