"""A small shared TTL cache with single-flight loading.

Why not ``st.cache_data`` for the pending list: a cached function must not
draw, and operators need a progress bar while 20+ pages load. This cache
keeps the loader outside Streamlit's replay machinery, lets only one session
fetch a key at a time (the others wait and share the result), and is cleared
by every write (``services.WRITE_LISTENERS``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 8):
        self.ttl, self.max_entries = ttl, max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self.generation = 0

    def get_or_load(self, key: Hashable, loader: Callable[[], Any]) -> tuple[Any, float]:
        """(value, loaded_at). Loads at most once per key at a time."""
        hit = self._fresh(key)
        if hit:
            return hit
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._fresh(key)          # someone else loaded it while we waited
            if hit:
                return hit
            gen = self.generation
            value = loader()
            loaded_at = time.time()
            with self._guard:
                if gen == self.generation:   # a clear() during the load makes this result stale: don't keep it
                    self._data[key] = (loaded_at, value)
                    while len(self._data) > self.max_entries:
                        self._data.pop(next(iter(self._data)))
            return value, loaded_at

    def _fresh(self, key) -> tuple[Any, float] | None:
        with self._guard:
            entry = self._data.get(key)
        if entry and time.time() - entry[0] < self.ttl:
            return entry[1], entry[0]
        return None

    def clear(self) -> None:
        with self._guard:
            self._data.clear()
            self.generation += 1
