"""Deposits as they land: the virtual accounts paid in the last days, kept current by small reads.

The first read asks for everything paid in the last ``keep_s`` seconds; every later one only for what was paid since
the previous read (with ``overlap_s`` of overlap, for the API's clock and the listing's consistency checks), merged by
imp_uid. A shared feed is refreshed at most once per ``min_interval_s``, however many sessions look: the API sees one
small request per interval, not one per open browser.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from lib.iamport.client import IamportClient

DAY = 86_400


class DepositFeed:
    def __init__(self, client: IamportClient, *, keep_s: int = 7 * DAY, overlap_s: int = 120,
                 min_interval_s: float = 30.0, clock: Callable[[], float] = time.time):
        self.client, self.keep_s, self.overlap_s, self.min_interval_s = client, keep_s, overlap_s, min_interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._paid: dict[str, dict[str, Any]] = {}
        self._newest_first: list[dict[str, Any]] = []   # sorted once per read, not per caller
        self._read_to: int | None = None          # the end of the last window read (API time)
        self._checked_at = 0.0                    # when it was last read (this machine's clock)

    def refresh(self, *, force: bool = False) -> list[dict[str, Any]]:
        """Paid virtual accounts of the last ``keep_s`` seconds, newest first (read again when due)."""
        with self._lock:
            now = self.clock()
            if force or self._read_to is None or now - self._checked_at >= self.min_interval_s:
                t_to = int(now)
                t_from = t_to - self.keep_s if self._read_to is None else self._read_to - self.overlap_s
                rows = self.client.list_by_status_raw("paid", max(t_from, t_to - self.keep_s), t_to)
                for r in rows:
                    if r.get("pay_method") == "vbank":
                        self._paid[r["imp_uid"]] = r
                horizon = t_to - self.keep_s
                self._paid = {k: v for k, v in self._paid.items() if (v.get("paid_at") or 0) >= horizon}
                self._newest_first = sorted(self._paid.values(), key=lambda r: r.get("paid_at") or 0, reverse=True)
                self._read_to, self._checked_at = t_to, now
            return self._newest_first

    def known(self) -> list[dict[str, Any]]:
        """What the last read returned (nothing is read)."""
        with self._lock:
            return self._newest_first

    @property
    def checked_at(self) -> float:
        return self._checked_at


def paid_since(deposits: list[dict[str, Any]], since: float) -> list[dict[str, Any]]:
    """The deposits paid after ``since`` (UNIX seconds), newest first (``deposits`` newest first: stops early)."""
    out = []
    for r in deposits:
        if (r.get("paid_at") or 0) <= since:
            break
        out.append(r)
    return out
