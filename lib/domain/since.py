"""지난 영업일 이후: the days since the last business day (Monday: Friday, Saturday and Sunday; after a holiday, the
holiday too), and what moved in them — counted by **when the money moved**, so a day's figures are fixed once it is
over: a deposit by its ``paid_at``, a refund by its cancel's ``cancelled_at`` (a payment paid on Saturday and refunded
on Monday stays Saturday's deposit; the refund is Monday's), a revoked account (발급취소: cancelled, never paid) by
its ``cancelled_at``, a new account by its issue time (``vbank_issued_at``, else ``started_at``). The same days a week
earlier are counted the same way, beside them. Pure: the caller reads the payments (virtual accounts, as the
listing's dicts). Business days: weekends and Korean public holidays (the ``holidays`` package)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import holidays

from lib.domain.clock import KST

_KR: Any = holidays.KR          # untyped in the package


def is_business_day(d: date) -> bool:
    return d.weekday() < 5 and d not in _KR(years=d.year)


def previous_business_day(d: date) -> date:
    """The last business day strictly before ``d``."""
    p = d - timedelta(days=1)
    while not is_business_day(p):
        p -= timedelta(days=1)
    return p


def next_business_day(d: date) -> date:
    """The first business day strictly after ``d``."""
    p = d + timedelta(days=1)
    while not is_business_day(p):
        p += timedelta(days=1)
    return p


def span(today: date) -> tuple[date, date]:
    """The days the morning digest of ``today`` covers, first and last (inclusive): from the last business day before
    today to yesterday. Every day is covered by exactly one business day's digest (Tuesday: Monday; Monday: Friday to
    Sunday)."""
    return previous_business_day(today), today - timedelta(days=1)


def bounds(first: date, last: date) -> tuple[int, int]:
    """[start, end) in unix seconds of KST days ``first`` … ``last``."""
    a = datetime.combine(first, datetime.min.time(), KST)
    b = datetime.combine(last + timedelta(days=1), datetime.min.time(), KST)
    return int(a.timestamp()), int(b.timestamp())


@dataclass(frozen=True)
class Moved:
    """What moved in a span: counts and KRW amounts."""
    deposits: int = 0
    deposits_amount: int = 0
    refunds: int = 0
    refunds_amount: int = 0
    revokes: int = 0
    revokes_amount: int = 0
    issued: int = 0
    issued_amount: int = 0


KINDS = ("deposits", "refunds", "revokes", "issued")


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def moved(payments: list[dict[str, Any]], first: date, last: date) -> Moved:
    """What moved on KST days ``first`` … ``last`` among ``payments`` (virtual accounts; others are skipped)."""
    a, b = bounds(first, last)
    n = dict.fromkeys(("deposits", "deposits_amount", "refunds", "refunds_amount", "revokes", "revokes_amount",
                       "issued", "issued_amount"), 0)
    for p in payments:
        if p.get("pay_method") != "vbank":
            continue
        amount, paid_at = _int(p.get("amount")), _int(p.get("paid_at"))
        if paid_at and a <= paid_at < b:
            n["deposits"] += 1
            n["deposits_amount"] += amount
        if paid_at:
            for h in p.get("cancel_history") or ():
                at = _int(h.get("cancelled_at")) if isinstance(h, dict) else 0
                if a <= at < b and _int(h.get("amount")) > 0:
                    n["refunds"] += 1
                    n["refunds_amount"] += _int(h.get("amount"))
        elif p.get("status") == "cancelled" and a <= _int(p.get("cancelled_at")) < b:
            n["revokes"] += 1
            n["revokes_amount"] += amount
        issued = _int(p.get("vbank_issued_at")) or _int(p.get("started_at"))
        if issued and a <= issued < b:
            n["issued"] += 1
            n["issued_amount"] += amount
    return Moved(**n)
