"""Listing payments by status over any period, consistently: the API pages at most 90 days and 1,000 payments at a
time, and payments keep arriving while the pages are read. ``Listing`` is the part of ``IamportClient`` that does it
(a mixin: it needs the client's ``call``, ``_exchange`` and ``_map``):

* the period is cut into 90-day windows (``split_windows``), read in parallel;
* each window is read page by page; when its total moves while it is read (a deposit landed), the window is read
  again from a snapshot bounded by the first page's newest time (``_snapshot``), split in halves when needed;
* payments come back as one Arrow table (``list_columns``: each page decoded straight into columns by
  lib/iamport/columns.py, no dict per payment), as dicts for small lists (``*_raw``) or as typed ``Payment``s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import islice
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from lib.domain import i18n, payment_table
from lib.domain.models import Payment, PaymentPage
from lib.iamport import columns
from lib.iamport.errors import ApiUnavailable
from lib.iamport.transport import ClientConfig, Reply, _parse, _seg

NINETY_DAYS = 90 * 86400


PAGE_LIMIT = 1000




# The time each status list filters on (from/to), as the API documents it. ``all`` filters each payment by the
# time of its own final status ("결제건의 최종 status에 따라 다른 검색기준": a paid one by paid_at, a refunded one by
# cancelled_at): a payment started in a period but paid or refunded after it is listed by that later time.
STATUS_TIME_FIELD = {"ready": "started_at", "paid": "paid_at", "cancelled": "cancelled_at", "failed": "failed_at"}
FINAL_TIME_FIELDS = ("status", "started_at", "paid_at", "cancelled_at", "failed_at")


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

    def list_columns(self, status: str, t_from: int, t_to: int, *, fields: tuple[str, ...] = payment_table.ALL,
                     pay_method: str | None = None, progress: Progress | None = None,
                     sorting: str = "started") -> pa.Table:
        """Every payment with ``status`` whose status time is in [t_from, t_to] (of ``pay_method`` only, when
        given), as one Arrow table of ``fields`` (lib/iamport/columns.py): no dict per payment.

        Ranges longer than 90 days are split into 90-day windows; each window's first page gives ``total``, the
        remaining pages are fetched concurrently (bounded by ``settings.concurrency``) and decoded in this thread
        as they arrive, while the others are still on the wire. When payments changed while the pages were read
        (a page's ``total`` differs from the first's, or the pages do not hold ``total`` distinct payments), the
        window is read again by time, one page per sub-window, so nothing is skipped and nothing stale is kept.
        """
        field = STATUS_TIME_FIELD.get(status, "started_at")
        want = tuple(dict.fromkeys(("imp_uid", *fields)))
        read = tuple(dict.fromkeys((*want, *(FINAL_TIME_FIELDS if status == "all" else (field,)),
                                    *(("pay_method",) if pay_method else ()))))
        windows = split_windows(t_from, t_to)

        firsts = self._map(lambda w: self._columns_page(status, 1, w[0], w[1], sorting, read), windows)
        per_window: list[list[pa.Table]] = [[t] for _total, t in firsts]
        totals: list[set[int]] = [{total} for total, _t in firsts]
        jobs = [(w, p) for w, (total, _t) in enumerate(firsts) for p in range(2, math.ceil(total / PAGE_LIMIT) + 1)]
        pages_total = len(windows) + len(jobs)
        # Progress is reported from this (the caller's) thread, so a UI callback may draw.
        if progress:
            progress(len(windows), pages_total)
        if jobs:
            with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(jobs)), thread_name_prefix="iamport",
                                    initializer=i18n.set_lang, initargs=(i18n.lang(),)) as pool:   # errors in the caller's language
                # Workers only move bytes (the GIL is free while they wait); this thread decodes each page as it
                # arrives, so decoding overlaps the network instead of fighting over the GIL. At most two pages per
                # worker are asked ahead of the decoding: the bytes waiting stay a few MB however long the list.
                todo = iter(jobs)
                ahead = 2 * min(self.config.concurrency, len(jobs))
                futures: dict[Any, int] = {}

                def ask() -> None:
                    for w, p in islice(todo, ahead - len(futures)):
                        futures[pool.submit(self._status_page_reply, status, p, PAGE_LIMIT, *windows[w], sorting)] = w
                ask()
                n = 0
                while futures:
                    done, _pending = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        w = futures.pop(fut)
                        path, reply = fut.result()
                        total, t = columns.decode_page(reply, path, read)
                        totals[w].add(total)
                        per_window[w].append(t)
                        n += 1
                        if progress:
                            progress(len(windows) + n, pages_total)
                    ask()
        tables = []
        for w, (a, b) in enumerate(windows):
            t = pa.concat_tables(per_window[w])
            # Offset pages are consistent only if nothing moved while they were read: every page reports the
            # window's total, and the pages hold exactly that many distinct payments. Otherwise the pages shifted
            # (payments were paid, issued or cancelled meanwhile) and the window is read again by time.
            if len(totals[w]) > 1 or t.num_rows != firsts[w][0] or _distinct(t) != t.num_rows:
                hint = sorted(x or a for x in (final_times(t) if status == "all" else t[field].to_pylist()))
                t = self._snapshot(status, a, b, sorting, hint, read)
            tables.append(t)
        # Each window now holds each payment once; one seen in two windows (its time moved between the reads) is
        # kept once.
        filled = sorted((t for t in tables if t.num_rows), key=lambda t: t.num_rows)
        out = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        if len(filled) > 1 and _overlap(filled):
            out = _unique(out)
        if pay_method:
            out = out.filter(pc.equal(out["pay_method"], pay_method))
        return out.select(list(want))

    def list_by_status_raw(self, status: str, t_from: int, t_to: int, *, progress: Progress | None = None,
                           sorting: str = "started", pay_method: str | None = None) -> list[dict[str, Any]]:
        """The same listing as dicts of the listing's fields: for the small lists (deposits since a cursor, the
        watcher's reads); the big ones read ``list_columns``."""
        rows: list[dict[str, Any]] = self.list_columns(status, t_from, t_to, progress=progress, sorting=sorting,
                                                       pay_method=pay_method).to_pylist()
        return rows

    def _snapshot(self, status: str, a: int, b: int, sorting: str, hint: list[int],
                  read: tuple[str, ...]) -> pa.Table:
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
        return pa.concat_tables(self._map(lambda w: self._snapshot_one(status, w[0], w[1], sorting, 0, read), subs))

    def _columns_page(self, status: str, page: int, lo: int, hi: int, sorting: str,
                      read: tuple[str, ...]) -> tuple[int, pa.Table]:
        """One page fetched and decoded into columns: (its total, its payments)."""
        path, reply = self._status_page_reply(status, page, PAGE_LIMIT, lo, hi, sorting)
        return columns.decode_page(reply, path, read)

    def _snapshot_one(self, status: str, lo: int, hi: int, sorting: str, depth: int, read: tuple[str, ...]) -> pa.Table:
        total, first = self._columns_page(status, 1, lo, hi, sorting, read)
        if total <= PAGE_LIMIT:
            return first
        if hi > lo and depth < 20:                  # more than a page now: halve the time range
            mid = (lo + hi) // 2
            return pa.concat_tables([self._snapshot_one(status, lo, mid, sorting, depth + 1, read),
                                     self._snapshot_one(status, mid + 1, hi, sorting, depth + 1, read)])
        # > 1,000 in one second: page through it (a payment seen twice is kept once, as last seen)
        return pa.concat_tables([first] + [self._columns_page(status, p, lo, hi, sorting, read)[1]
                                           for p in range(2, math.ceil(total / PAGE_LIMIT) + 1)])

    def list_by_status(self, status: str, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[Payment]:
        return [Payment.model_validate(p) for p in self.list_by_status_raw(status, t_from, t_to, progress=progress)]

    def list_pending_vbanks_raw(self, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[dict[str, Any]]:
        """Virtual accounts waiting for their deposit: status ``ready``, pay_method ``vbank``."""
        return self.list_by_status_raw("ready", t_from, t_to, progress=progress, pay_method="vbank")

    def list_pending_vbanks(self, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[Payment]:
        return [Payment.model_validate(p) for p in self.list_pending_vbanks_raw(t_from, t_to, progress=progress)]


def final_times(t: pa.Table) -> list[int | None]:
    """Each payment's final-status time (what ``all`` filters on): paid_at of a paid one, cancelled_at of a
    cancelled one, failed_at of a failed one, started_at otherwise."""
    pick = {"paid": "paid_at", "cancelled": "cancelled_at", "failed": "failed_at"}
    cols = {c: t[c].to_pylist() for c in FINAL_TIME_FIELDS}
    return [cols[pick.get(st or "", "started_at")][n] or cols["started_at"][n] for n, st in enumerate(cols["status"])]


def _overlap(tables: list[pa.Table]) -> bool:
    """Whether any payment is in two of ``tables`` (each already without repeats; smallest first): the smaller ones
    are looked up in the largest, which costs a hash of the small ones, not of everything."""
    big = tables[-1]["imp_uid"]
    small = pa.concat_tables(tables[:-1])["imp_uid"]
    return _hashes(small).n_unique() != len(small) or bool(pc.any(pc.is_in(big, value_set=small.combine_chunks())).as_py())


def _distinct(t: pa.Table) -> int:
    """How many different imp_uids, counted by a 64-bit hash of each (polars, both cores): pc.unique's hash table of
    the strings themselves grows past the caches (5 M payments: 3.3 s against 0.25 s; 1 M: 0.25 against 0.16). Two
    different ids with one hash count once — the pages then look shifted and the window is read again by time: a
    collision can cost requests (one in ~10⁶ listings of 5 M payments), never let a repeated payment through."""
    return _hashes(t["imp_uid"]).n_unique()


def _hashes(col: pa.ChunkedArray | pa.Array) -> pl.Series:
    s = pl.from_arrow(col)
    assert isinstance(s, pl.Series)
    return s.hash()


def _unique(t: pa.Table) -> pa.Table:
    """One row per imp_uid (the last seen), in first-seen order; a table without repeats is returned as it is."""
    if t.num_rows == 0 or _distinct(t) == t.num_rows:
        return t
    ids = t["imp_uid"].to_pylist()
    last = {i: n for n, i in enumerate(ids)}
    first = list(dict.fromkeys(ids))
    return t.take(pa.array([last[i] for i in first], pa.int64()))
