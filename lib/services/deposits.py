"""Deposits as they land: the virtual accounts paid in the last days, kept current by small reads.

The first read asks for everything paid in the last ``keep_s`` seconds; every later one only for what was paid since
the previous read (with ``overlap_s`` of overlap, for the API's clock and the listing's consistency checks), merged by
imp_uid — and for what was cancelled (refunded in full) in the same window, which leaves the list: a deposit refunded
afterwards is no longer a new deposit. A shared feed is read at most once per ``min_interval_s``, however many
sessions look: the API sees one small request per interval, not one per open browser.

An outage is a state, not a hang: no lock is held across the API call (one caller reads, every other one gets what is
already known at once), a failed read moves the next try back (``min_interval_s`` doubled per failure, at most
``max_backoff_s``) for the whole app as a success does, and ``outage`` says since when the API is not answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.domain import payment_table
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError

DAY = 86_400


@dataclass(frozen=True)
class Outage:
    """The API is not answering the feed's reads: since when (this machine's clock), how many reads failed in a row,
    and the last failure's own message."""

    since: float
    failures: int
    message: str


class DepositFeed:
    def __init__(self, client: IamportClient | BothApis, *, keep_s: int = 7 * DAY, overlap_s: int = 120,
                 min_interval_s: float = 30.0, max_backoff_s: float = 600.0, clock: Callable[[], float] = time.time):
        self.client, self.keep_s, self.overlap_s, self.min_interval_s = client, keep_s, overlap_s, min_interval_s
        self.max_backoff_s = max(max_backoff_s, min_interval_s)
        self.clock = clock
        self._lock = threading.Lock()             # guards the fields below; never held across an API call
        self._paid: dict[str, dict[str, Any]] = {}
        self._newest_first: list[dict[str, Any]] = []   # sorted once per read, not per caller
        self._read_to: int | None = None          # the end of the last window read (API time)
        self._checked_at = 0.0                    # when it was last read successfully (this machine's clock)
        self._next_at = 0.0                       # no read before this (success: interval; failure: backoff)
        self._reading = False                     # one caller is reading: the others take what is known
        self._outage: Outage | None = None

    def refresh(self, *, force: bool = False) -> list[dict[str, Any]]:
        """Paid virtual accounts of the last ``keep_s`` seconds, newest first. Read again when due, by this caller
        alone: while another caller reads, or while a failed read's backoff runs, what is known is returned at once.
        A failed read raises nothing: ``outage`` says so."""
        with self._lock:
            now = self.clock()
            due = force or self._read_to is None or now >= self._next_at
            if self._reading or not due:
                return self._newest_first
            self._reading = True
            read_to = self._read_to
        try:
            t_to = int(now)
            t_from = t_to - self.keep_s if read_to is None else max(read_to - self.overlap_s, t_to - self.keep_s)
            rows = self.client.list_by_status_raw("paid", t_from, t_to)
            gone = self.client.list_by_status_raw("cancelled", t_from, t_to) if read_to is not None else []
        except ApiError as e:
            with self._lock:
                failures = (self._outage.failures if self._outage else 0) + 1
                self._outage = Outage(self._outage.since if self._outage else now, failures, e.message)
                self._next_at = now + min(self.min_interval_s * 2 ** (failures - 1), self.max_backoff_s)
                self._reading = False
                return self._newest_first
        except BaseException:
            with self._lock:
                self._reading = False
            raise
        with self._lock:
            for r in rows:
                if r.get("pay_method") == "vbank" and r.get("status") == "paid":
                    self._paid[r["imp_uid"]] = r
            for r in gone:                        # refunded in full (or closed) since: no longer a deposit to tell
                self._paid.pop(str(r.get("imp_uid")), None)
            horizon = t_to - self.keep_s
            self._paid = {k: v for k, v in self._paid.items() if (v.get("paid_at") or 0) >= horizon}
            self._newest_first = sorted(self._paid.values(), key=lambda r: r.get("paid_at") or 0, reverse=True)
            self._read_to, self._checked_at, self._next_at = t_to, now, now + self.min_interval_s
            self._outage, self._reading = None, False
            return self._newest_first

    def known(self) -> list[dict[str, Any]]:
        """What the last read returned (nothing is read)."""
        with self._lock:
            return self._newest_first

    @property
    def checked_at(self) -> float:
        """When the list was last read successfully (0: never)."""
        return self._checked_at

    @property
    def outage(self) -> Outage | None:
        """Set while the API does not answer the feed's reads; None once a read succeeds again."""
        return self._outage


class BothApis:
    """The feed's reads for a merchant on V1 and PortOne V2: each listing asked of both, V2's rows marked
    ``api: "v2"`` (their links open the payment through V2). A V2 outage is the feed's outage, said as one."""

    def __init__(self, v1: IamportClient, v2: Any):
        self.v1, self.v2 = v1, v2

    def list_by_status_raw(self, status: str, t_from: int, t_to: int) -> list[dict[str, Any]]:
        rows = self.v1.list_by_status_raw(status, t_from, t_to)
        more = self.v2.list_columns(status, t_from, t_to, fields=payment_table.ALL).to_pylist()
        return [*rows, *({**r, "api": "v2"} for r in more)]


def paid_since(deposits: list[dict[str, Any]], since: float) -> list[dict[str, Any]]:
    """The deposits paid after ``since`` (UNIX seconds), newest first (``deposits`` newest first: stops early)."""
    out = []
    for r in deposits:
        if (r.get("paid_at") or 0) <= since:
            break
        out.append(r)
    return out
