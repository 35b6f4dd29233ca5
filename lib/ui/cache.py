"""A small shared TTL cache with single-flight loading.

Why not ``st.cache_data`` for the pending list: a cached function must not
draw, and operators need a progress bar while 20+ pages load. This cache
keeps the loader outside Streamlit's replay machinery, lets only one session
fetch a key at a time (the others wait and share the result), and is cleared
by every write (``services.WRITE_LISTENERS``).

An outage is a state, not a hang: with ``keep_on`` (the API's errors), a key
that was loaded before is never waited for — while one session reloads it the
others get the last value at once (with its age), a failed reload returns the
last value and backs off (the next try waits ``ttl`` doubled per failure, for
every session), and ``failure(key)`` says since when it fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

MAX_BACKOFF_S = 600.0


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 8):
        self.ttl, self.max_entries = ttl, max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._last: dict[Hashable, tuple[float, Any, int]] = {}  # the last value of each key (and its generation)
        self._failed: dict[Hashable, tuple[float, float, int, BaseException]] = {}  # since, retry at, count, error
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self.generation = 0

    def get_or_load(self, key: Hashable, loader: Callable[[], Any], keep_on: tuple[type[BaseException], ...] = (),
                    wait_s: float | None = None) -> tuple[Any, float]:
        """(value, loaded_at). Loads at most once per key at a time. With ``keep_on``: a key loaded before (and not
        cleared by a write since) is served from its last value while another caller loads it, while a failed load's
        backoff runs, and when the load raises one of ``keep_on``; with ``wait_s`` too, its reload is waited for
        that long at most (it goes on in the background and is kept when it ends): an outage never holds a page."""
        hit = self._fresh(key)
        if hit:
            return hit
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
            last = self._last.get(key) if keep_on else None
            failed = self._failed.get(key) if keep_on else None
        if last is not None and failed is not None and time.time() < failed[1]:
            return last[1], last[0]                  # backing off: nobody reads again before the retry time
        current = last is not None and last[2] == self.generation
        if current and last is not None:
            if not lock.acquire(blocking=False):     # someone else is loading it: the last value now (no write since)
                return last[1], last[0]
        else:
            lock.acquire()
        hit = self._fresh(key)                       # someone else loaded it while we waited
        if hit:
            lock.release()
            return hit
        box: dict[str, Any] = {}

        def load() -> None:                          # releases the lock when done, in whichever thread runs it
            try:
                box["out"] = self._load(key, loader, keep_on, last)
            except BaseException as e:  # noqa: BLE001 - handed to the caller that waits for it
                box["error"] = e
            finally:
                lock.release()

        if not (current and wait_s is not None):
            load()
        else:
            worker = threading.Thread(target=load, name="cache-reload", daemon=True)
            worker.start()
            worker.join(wait_s)
            if worker.is_alive():                    # I'mport is slow: the last value now, the reload goes on
                assert last is not None
                return last[1], last[0]
        if "error" in box:
            raise box["error"]
        return box["out"]

    def _load(self, key: Hashable, loader: Callable[[], Any], keep_on: tuple[type[BaseException], ...],
              last: tuple[float, Any, int] | None) -> tuple[Any, float]:
        gen = self.generation
        try:
            value = loader()
        except keep_on as e:
            now = time.time()
            with self._guard:
                prev = self._failed.get(key)
                n = (prev[2] if prev else 0) + 1
                self._failed[key] = (prev[0] if prev else now, now + min(self.ttl * 2 ** (n - 1), MAX_BACKOFF_S),
                                     n, e)
            if last is None:
                raise
            return last[1], last[0]
        loaded_at = time.time()
        with self._guard:
            self._failed.pop(key, None)
            if gen == self.generation:   # a clear() during the load makes this result stale: don't keep it
                self._data[key] = (loaded_at, value)
                self._last[key] = (loaded_at, value, gen)
                while len(self._data) > self.max_entries:
                    self._data.pop(next(iter(self._data)))
                while len(self._last) > self.max_entries:
                    self._last.pop(next(iter(self._last)))
        return value, loaded_at

    def failure(self, key: Hashable) -> tuple[float, BaseException] | None:
        """(since when, the last error) while loading ``key`` fails; None when its last load succeeded."""
        with self._guard:
            f = self._failed.get(key)
        return (f[0], f[3]) if f else None

    def _fresh(self, key: Hashable) -> tuple[Any, float] | None:
        with self._guard:
            entry = self._data.get(key)
        if entry and time.time() - entry[0] < self.ttl:
            return entry[1], entry[0]
        return None

    def clear(self) -> None:
        """Every value is read again at its next use (the last ones stay only to show, with their age, while reading
        them again fails)."""
        with self._guard:
            self._data.clear()
            self._failed.clear()
            self.generation += 1
