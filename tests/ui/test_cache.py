"""lib/ui/cache.py: the shared TTL cache with single flight."""

from __future__ import annotations


def test_ttl_cache_single_flight_and_clear():
    import threading

    from lib.ui.cache import TTLCache
    c = TTLCache(ttl=60)
    calls, gate = [], threading.Event()

    def loader():
        calls.append(1)
        gate.wait(5)
        return len(calls)

    out = []
    ts = [threading.Thread(target=lambda: out.append(c.get_or_load("k", loader)[0])) for _ in range(4)]
    for t in ts:
        t.start()
    gate.set()
    for t in ts:
        t.join()
    assert calls == [1] and out == [1, 1, 1, 1]
    c.clear()
    assert c.get_or_load("k", loader)[0] == 2


def test_ttl_cache_drops_a_result_loaded_across_a_clear():
    from lib.ui.cache import TTLCache
    c = TTLCache(ttl=60)

    def loader():
        c.clear()                      # a write happened while we were loading
        return "stale"

    assert c.get_or_load("k", loader)[0] == "stale"
    assert c.get_or_load("k", lambda: "fresh")[0] == "fresh"
