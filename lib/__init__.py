"""vbank-desk's library, one package per layer (README "Where things live"); only ``lib/ui`` imports streamlit."""

import os

# polars' allocator (jemalloc) keeps memory it freed for ~10 s before giving it back: a month-end match frees
# hundreds of MB that the rest of the app (glibc, Arrow) cannot reuse meanwhile. Give it back within 200 ms, as
# Arrow's (lib/reports/columnar.py). Measured: at once (0 ms) cost every read its page faults again — the pending list
# from the mirror 55–65 ms against 24–26 ms, the month end 3.49 against 3.16 CPU-s (bench/reconcile.py what-if), for
# 80 MB less at its peak; 10 s kept 1.67 GB at the peak of a 1 M-row reconciliation against 1.42. jemalloc reads it
# when polars loads: set here, before any module of lib can import polars.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:200,muzzy_decay_ms:200")
