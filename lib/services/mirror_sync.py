"""Keeping the payments mirror (lib/db/mirror.py) fresh: one syncer at a time, from the API's status listings.

* **A minute's sync** (``MirrorSync.sync``): under the lease (lib/db/mirror_state.py), the four status listings from
  each one's cursor minus ``OVERLAP_S`` (ready on started_at, paid on paid_at, cancelled on cancelled_at, failed on
  failed_at: 4 API calls while each fits a page), merged by imp_uid in one commit. A payment listed again with
  nothing changed (the overlap) is not merged again: this process remembers what it last merged of each payment
  (a digest), so a minute with no change costs the four calls and no write.
* **The first sync** reads the whole lookback (``LOOKBACK_DAYS``) once.
* **The app's own writes** are re-read at once (``refresh_ids``: ``GET /payments?imp_uid[]``) and merged.
* **The nightly full re-read** (``full_reread``, due when the last is older than ``FULL_EVERY_S``) lists the last
  ``REREAD_DAYS`` again and counts the **drift**: payments the mirror had different (or not at all). Partial
  refunds and amount / due-date changes made in the PG's or PortOne's console do not move a payment's status
  time, so only this re-read catches them. It then compacts the table and removes files no commit names.

Every row carries ``synced_at``, the time its read *started*; a merge never replaces a row read later than its own
(a sync that read before the app's own re-read of a refund cannot put the refunded payment back).
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import pyarrow as pa

from lib.db.mirror import Mirror
from lib.db.mirror_state import MirrorState
from lib.domain import payment_table
from lib.domain.models import Payment

OVERLAP_S = 120                 # each listing starts this long before its cursor (late writes, clock skew)
LOOKBACK_DAYS = 400             # the first sync reads this far back (a year's search, with room)
REREAD_DAYS = 120               # the nightly re-read covers this window (the month end's lookback and more)
FULL_EVERY_S = 20 * 3600        # the re-read is due when the last one is older than this
LEASE_S = 300.0                 # a syncer holds the lease this long at most without renewing it
STATUS_TIME = {"ready": "started_at", "paid": "paid_at", "cancelled": "cancelled_at", "failed": "failed_at"}


class Source(Protocol):
    api_version: str

    def list_columns(self, status: str, t_from: int, t_to: int, *, fields: tuple[str, ...] = ...,
                     pay_method: str | None = None, progress: Any = None, sorting: str = ...) -> pa.Table: ...

    def get_payments(self, imp_uids: Any) -> list[Payment]: ...


@dataclass
class SyncReport:
    api: str
    at: float
    calls: int = 0
    listed: int = 0
    merged: int = 0
    inserted: int = 0
    updated: int = 0
    full: bool = False
    drift: int | None = None
    drift_ids: list[str] = field(default_factory=list)


def _holder() -> str:
    return f"{socket.gethostname()}|{os.getpid()}|{threading.get_ident()}"


def _digest(row: dict[str, Any]) -> bytes:
    return hashlib.blake2b(orjson.dumps(row, option=orjson.OPT_SORT_KEYS), digest_size=12).digest()


def payments_table(payments: list[Payment]) -> pa.Table:
    return payment_table.from_dicts([p.model_dump() for p in payments])


class MirrorSync:
    def __init__(self, source: Source, mirror: Mirror, state: MirrorState, *, api: str | None = None,
                 clock: Callable[[], float] = time.time, holder: str | None = None):
        self.source, self.mirror, self.state = source, mirror, state
        self.api: str = api or str(getattr(source, "api_version", "v1"))
        self.clock = clock
        self.holder = holder or f"{_holder()}|{id(self)}"
        self._seen: dict[str, bytes] = {}        # imp_uid → digest of what this syncer last merged
        self._lock = threading.Lock()            # one sync at a time in this process too

    # ------------------------------------------------------------------ the minute's sync
    def sync(self, *, full: bool | None = None) -> SyncReport | None:
        """One sync (a full re-read when ``full`` or when due); None when another syncer holds the lease."""
        with self._lock:
            now = self.clock()
            if not self.state.acquire(self.api, self.holder, now, LEASE_S):
                return None
            try:
                st = self.state.get(self.api)
                first = not st["cursors"] or not self.mirror.exists()
                due = st["last_full_at"] is None or now - float(st["last_full_at"]) >= FULL_EVERY_S
                if first:
                    rep = self._first(now)
                elif full or (full is None and due):
                    rep = self.full_reread(now)
                else:
                    rep = self._minute(now, st["cursors"])
                self.state.synced(self.api, self.holder, {s: int(now) for s in STATUS_TIME}, now)
                return rep
            except Exception as e:
                self.state.failed(self.api, self.holder, type(e).__name__ + ": " + str(e)[:300], self.clock())
                raise
            finally:
                self.state.release(self.api, self.holder, self.clock())

    def _minute(self, now: float, cursors: dict[str, int]) -> SyncReport:
        rep = SyncReport(self.api, now)
        parts = []
        for status, field_ in STATUS_TIME.items():
            since = int(cursors.get(status, now - LOOKBACK_DAYS * 86400)) - OVERLAP_S
            t = self.source.list_columns(status, since, math.ceil(now), fields=payment_table.ALL)
            rep.calls += 1 + t.num_rows // 1000
            if t.num_rows:
                parts.append(t)
        rows = pa.concat_tables(parts) if parts else payment_table.empty()
        rep.listed = rows.num_rows
        self._merge_new(_latest(rows), now, rep)
        return rep

    def _merge_new(self, rows: pa.Table, read_at: float, rep: SyncReport) -> None:
        """Merge the rows this syncer has not merged as they are (digest), marked as read at ``read_at``."""
        if rows.num_rows == 0:
            return
        dicts = rows.to_pylist()
        digests = [_digest(d) for d in dicts]
        keep = [i for i, (d, h) in enumerate(zip(dicts, digests)) if self._seen.get(d["imp_uid"]) != h]
        if not keep:
            return
        part = rows.take(pa.array(keep, pa.int64())) if len(keep) < rows.num_rows else rows
        m = self.mirror.merge(part, api=self.api, now=read_at)
        rep.merged += part.num_rows
        rep.inserted += m.inserted
        rep.updated += m.updated
        for i in keep:
            self._seen[dicts[i]["imp_uid"]] = digests[i]
        if len(self._seen) > 200_000:            # bounded: forget the oldest (they are merged again, harmlessly)
            for k in list(self._seen)[:100_000]:
                del self._seen[k]

    # ------------------------------------------------------------------ first and full reads
    def _first(self, now: float) -> SyncReport:
        rep = SyncReport(self.api, now, full=True)
        rows = self.source.list_columns("all", int(now - LOOKBACK_DAYS * 86400), math.ceil(now), fields=payment_table.ALL)
        rep.calls += 1 + rows.num_rows // 1000
        rep.listed = rows.num_rows
        m = self.mirror.merge(rows, api=self.api, now=now) if rows.num_rows else None
        if m:
            rep.merged, rep.inserted, rep.updated = rows.num_rows, m.inserted, m.updated
        self.state.full_reread(self.api, self.holder, 0, [], now)
        return rep

    def full_reread(self, now: float) -> SyncReport:
        """The lookback window read again: what differs from the mirror is the drift, counted and merged."""
        rep = SyncReport(self.api, now, full=True)
        rows = _latest(self.source.list_columns("all", int(now - REREAD_DAYS * 86400), math.ceil(now),
                                                fields=payment_table.ALL))
        rep.calls += 1 + rows.num_rows // 1000
        rep.listed = rows.num_rows
        changed, new = self.mirror.differ(rows, api=self.api)
        drifted = changed + new
        if drifted:
            idx = {i: n for n, i in enumerate(rows["imp_uid"].to_pylist())}
            part = rows.take(pa.array([idx[i] for i in drifted], pa.int64()))
            m = self.mirror.merge(part, api=self.api, now=now)
            rep.merged, rep.inserted, rep.updated = part.num_rows, m.inserted, m.updated
        rep.drift, rep.drift_ids = len(drifted), drifted[:20]
        self.state.full_reread(self.api, self.holder, len(drifted), drifted, now)
        self.mirror.compact()
        return rep

    # ------------------------------------------------------------------ the app's own writes
    def refresh_ids(self, imp_uids: list[str]) -> int:
        """Re-read these payments now and merge them (after the app's own write; an exception re-checked).
        Needs no lease: a merge is one commit, and an older read never replaces a newer one."""
        ids = [i for i in dict.fromkeys(imp_uids) if i]
        if not ids:
            return 0
        read_at = self.clock()
        rows = payments_table(self.source.get_payments(ids))
        if rows.num_rows:
            self.mirror.merge(rows, api=self.api, now=read_at)
        return rows.num_rows


    def recheck(self, imp_uids: list[str]) -> list[str]:
        """These payments read live and compared with the mirror: those it had different (or not at all) are merged;
        their ids returned (reconciliation's exceptions before they are shown)."""
        ids = [i for i in dict.fromkeys(imp_uids) if i]
        if not ids:
            return []
        read_at = self.clock()
        fresh = payments_table(self.source.get_payments(ids))
        if fresh.num_rows == 0:
            return []
        changed, new = self.mirror.differ(fresh, api=self.api)
        moved = changed + new
        if moved:
            idx = {i: n for n, i in enumerate(fresh["imp_uid"].to_pylist())}
            self.mirror.merge(fresh.take(pa.array([idx[i] for i in moved], pa.int64())), api=self.api, now=read_at)
        return moved


def _latest(rows: pa.Table) -> pa.Table:
    """One row per payment when the listings gave it more than once (issued and paid in the same minute): the one
    whose newest status time is the latest (a final status over an earlier one at equal times)."""
    if rows.num_rows < 2:
        return rows
    rank = {"ready": 0, "paid": 1, "failed": 2, "cancelled": 3}
    best: dict[str, tuple[tuple[int, int], int]] = {}
    cols = {c: rows[c].to_pylist() for c in ("imp_uid", "status", "started_at", "paid_at", "cancelled_at",
                                             "failed_at")}
    for n, i in enumerate(cols["imp_uid"]):
        t = max(x or 0 for x in (cols["started_at"][n], cols["paid_at"][n], cols["cancelled_at"][n],
                                 cols["failed_at"][n]))
        key = (t, rank.get(cols["status"][n] or "", 0))
        if i not in best or key >= best[i][0]:
            best[i] = (key, n)
    if len(best) == rows.num_rows:
        return rows
    return rows.take(pa.array(sorted(n for _k, n in best.values()), pa.int64()))
