"""Listing payments by status over any period, consistently: the API pages at most 90 days and 1,000 payments at a
time, and payments keep arriving while the pages are read. ``Listing`` is the part of ``IamportClient`` that does it
(a mixin: it needs the client's ``call``, ``_exchange`` and ``_map``):

* the period is cut into 90-day windows (``split_windows``), read in parallel;
* each window is read page by page; when its total moves while it is read (a deposit landed), the window is read
  again from a snapshot bounded by the first page's newest time (``_snapshot``), split in halves when needed;
* payments come back as the API's dicts (``*_raw``) for the tables, or as typed ``Payment``s.
"""

from __future__ import annotations

from typing import Any

import gc
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor, as_completed
from lib.domain import i18n
from lib.domain.models import Payment, PaymentPage
from lib.iamport.errors import ApiUnavailable
from lib.iamport.transport import ClientConfig, _seg, Reply, _parse


NINETY_DAYS = 90 * 86400


PAGE_LIMIT = 1000




# The time each status list filters on (from/to), as the API documents it.
STATUS_TIME_FIELD = {"ready": "started_at", "paid": "paid_at", "cancelled": "cancelled_at", "failed": "failed_at",
                     "all": "started_at"}


Progress = Callable[[int, int], None]


Unavailable = ApiUnavailable


def split_windows(t_from: int, t_to: int, span: int = NINETY_DAYS) -> list[tuple[int, int]]:
    """[t_from, t_to] as consecutive windows at most ``span`` seconds long (inclusive bounds)."""
    if t_from > t_to:
        raise ValueError("from must not be after to")
    out, start = [], t_from
    while True:
        end = min(start + span, t_to)
        out.append((start, end))
        if end >= t_to:
            return out
        start = end + 1



class Listing:
    # What the mixin needs from IamportClient (declared for the type checker; the client defines them).
    config: ClientConfig

    def _exchange(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                  json_body: Any = None) -> Reply:
        raise NotImplementedError

    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        raise NotImplementedError

    def status_page(self, status: str, *, page: int = 1, limit: int = PAGE_LIMIT, t_from: int | None = None,
                    t_to: int | None = None, sorting: str | None = None) -> PaymentPage:
        return PaymentPage.model_validate(self._status_page_raw(status, page, limit, t_from, t_to, sorting))

    def _status_page_raw(self, status: str, page: int, limit: int, t_from: int | None, t_to: int | None,
                         sorting: str | None) -> dict[str, Any]:
        path, reply = self._status_page_reply(status, page, limit, t_from, t_to, sorting)
        data, err = _parse(reply, "GET", path)
        if err:
            raise err
        return dict(data)

    def _status_page_reply(self, status: str, page: int, limit: int, t_from: int | None, t_to: int | None,
                           sorting: str | None) -> tuple[str, Reply]:
        params: dict[str, Any] = {"page": page, "limit": limit}
        if t_from is not None:
            params["from"] = t_from
        if t_to is not None:
            params["to"] = t_to
        if sorting:
            params["sorting"] = sorting
        path = f"/payments/status/{_seg(status)}"
        return path, self._exchange("GET", path, params=params)

    def list_by_status_raw(self, status: str, t_from: int, t_to: int, *, progress: Progress | None = None,
                           sorting: str = "started", keep: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
        """Every payment with ``status`` whose status time is in [t_from, t_to], as raw dicts
        (only those ``keep`` accepts, when given).

        Ranges longer than 90 days are split into 90-day windows; each window's
        first page gives ``total``, the remaining pages are fetched concurrently
        (bounded by ``settings.concurrency``). Pages are taken in as they arrive,
        while the others are still on the wire. When payments changed while the
        pages were read (a page's ``total`` differs from the first's), the window
        is read again by time, one page per sub-window, so nothing is skipped and
        nothing stale is kept.
        """
        with _gc_paused():
            return self._list_by_status_raw(status, t_from, t_to, progress, sorting, keep)

    def _list_by_status_raw(self, status: str, t_from: int, t_to: int, progress: Progress | None,
                            sorting: str, keep: Callable[[dict[str, Any]], bool] | None) -> list[dict[str, Any]]:
        windows = split_windows(t_from, t_to)
        firsts = self._map(lambda w: self._status_page_raw(status, 1, PAGE_LIMIT, w[0], w[1], sorting), windows)
        per_window: list[dict[str, dict[str, Any]]] = [{} for _w in windows]     # kept items, by imp_uid
        all_ids: list[set[str]] = [set() for _w in windows]             # every item seen (for the check)
        totals: list[set[int | None]] = [{f["total"]} for f in firsts]

        def take(w: int, page: dict[str, Any]) -> None:
            totals[w].add(page.get("total"))
            ids, kept = all_ids[w], per_window[w]
            for item in page.get("list") or ():
                i = item["imp_uid"]
                ids.add(i)
                if keep is None or keep(item):
                    kept[i] = item

        jobs = [(w, p) for w, first in enumerate(firsts) for p in range(2, math.ceil(first["total"] / PAGE_LIMIT) + 1)]
        pages_total = len(windows) + len(jobs)
        # Progress is reported from this (the caller's) thread, so a UI callback may draw.
        if progress:
            progress(len(windows), pages_total)
        if not jobs:
            for w, first in enumerate(firsts):
                take(w, first)
        else:
            with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(jobs)), thread_name_prefix="iamport",
                                    initializer=i18n.set_lang, initargs=(i18n.lang(),)) as pool:   # errors in the caller's language
                # Workers only move bytes (the GIL is free while they wait); this thread parses each page
                # as it arrives, so parsing overlaps the network instead of fighting over the GIL.
                futures = {pool.submit(self._status_page_reply, status, p, PAGE_LIMIT, *windows[w], sorting): w
                           for w, p in jobs}
                for w, first in enumerate(firsts):          # while the other pages are on the wire
                    take(w, first)
                for n, fut in enumerate(as_completed(futures), start=1):
                    path, reply = fut.result()
                    data, err = _parse(reply, "GET", path)
                    if err:
                        raise err
                    take(futures[fut], data)
                    if progress:
                        progress(len(windows) + n, pages_total)
        # Offset pages are consistent only if nothing moved while they were read. Every page reports the
        # window's total: if one differs from the first (payments were paid, issued or cancelled meanwhile), the
        # pages shifted and some payments were skipped or are stale. Such a window is read again by time:
        # sub-windows small enough for one page each, so no change can shift one payment past another.
        for w, (a, b) in enumerate(windows):
            if len(totals[w]) > 1 or len(all_ids[w]) != firsts[w]["total"]:
                field = STATUS_TIME_FIELD.get(status, "started_at")
                hint = sorted(int(x.get(field) or a) for x in per_window[w].values())
                per_window[w] = {x["imp_uid"]: x for x in self._snapshot(status, a, b, sorting, hint)
                                 if keep is None or keep(x)}
        if len(per_window) == 1:
            return list(per_window[0].values())
        out: dict[str, dict[str, Any]] = {}
        for items in per_window:
            out.update(items)
        return list(out.values())

    def _snapshot(self, status: str, a: int, b: int, sorting: str, hint: list[int]) -> list[dict[str, Any]]:
        """Every payment of the window [a, b] as of one request per sub-window: the window is cut where the
        payments seen (``hint``, their time field, sorted) would fill most of a page."""
        per = max(1, PAGE_LIMIT * 4 // 5)
        subs, lo = [], a
        for i in range(per, len(hint), per):
            cut = max(lo + 1, min(hint[i], b))
            if cut > lo and cut <= b:
                subs.append((lo, cut - 1))
                lo = cut
        subs.append((lo, b))
        out: list[dict[str, Any]] = []
        for part in self._map(lambda w: self._snapshot_one(status, w[0], w[1], sorting, 0), subs):
            out.extend(part)
        return out

    def _snapshot_one(self, status: str, lo: int, hi: int, sorting: str, depth: int) -> list[dict[str, Any]]:
        first = self._status_page_raw(status, 1, PAGE_LIMIT, lo, hi, sorting)
        if first["total"] <= PAGE_LIMIT:
            return list(first.get("list") or ())
        if hi > lo and depth < 20:                  # more than a page now: halve the time range
            mid = (lo + hi) // 2
            return (self._snapshot_one(status, lo, mid, sorting, depth + 1)
                    + self._snapshot_one(status, mid + 1, hi, sorting, depth + 1))
        items = {x["imp_uid"]: x for x in first.get("list") or ()}    # > 1,000 in one second: page through it
        for p in range(2, math.ceil(first["total"] / PAGE_LIMIT) + 1):
            for x in self._status_page_raw(status, p, PAGE_LIMIT, lo, hi, sorting).get("list") or ():
                items[x["imp_uid"]] = x
        return list(items.values())

    def list_by_status(self, status: str, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[Payment]:
        return [Payment.model_validate(p) for p in self.list_by_status_raw(status, t_from, t_to, progress=progress)]

    def list_pending_vbanks_raw(self, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[dict[str, Any]]:
        """Virtual accounts waiting for their deposit: status ``ready``, pay_method ``vbank``."""
        return self.list_by_status_raw("ready", t_from, t_to, progress=progress,
                                       keep=lambda p: p.get("pay_method") == "vbank")

    def list_pending_vbanks(self, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[Payment]:
        return [Payment.model_validate(p) for p in self.list_pending_vbanks_raw(t_from, t_to, progress=progress)]



_gc_lock = threading.Lock()


_gc_holders = 0


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of parsed dicts are created.

    JSON from the API has no reference cycles, yet every few thousand allocations
    the collector walks them all: measured ~70 ms (and most of the variance) of a
    100,000-payment listing. Reference counting still frees everything; the
    collector resumes when the last concurrent listing ends.
    """
    global _gc_holders
    with _gc_lock:
        if _gc_holders == 0:
            _gc_holders_was_enabled[0] = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_holders_was_enabled[0]:
                gc.enable()


_gc_holders_was_enabled = [True]


