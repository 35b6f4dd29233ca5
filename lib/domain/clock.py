"""Time for vbank-desk: Korea Standard Time, and UNIX seconds as the API speaks them.

A small module on its own so rules, stores and pages need not import the API models for a time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")


def now_kst() -> datetime:
    return datetime.now(KST)


def to_unix(d: datetime | None) -> int:
    """UNIX seconds; 0 for "none", as the API sends it."""
    return int(d.timestamp()) if d else 0


def from_unix(ts: float | int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, KST) if ts else None
