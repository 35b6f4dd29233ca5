"""The morning digest (오늘의 요약) as numbers: the pending accounts, what is overdue and due today, yesterday's
deposits and refunds, open approvals, unknown outcomes and reconciliation exceptions still open. Built from data the
caller read; pure. The watcher posts it (lib/services/watcher.py); lib/reports/digest.py makes it an Excel sheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lib.domain.clock import KST
from lib.domain.i18n import N_


@dataclass(frozen=True)
class Digest:
    day: date
    pending_count: int
    pending_amount: int
    overdue_count: int
    overdue_amount: int
    due_today_count: int
    due_today_amount: int
    deposits_yesterday: int
    deposits_yesterday_amount: int
    refunds_yesterday: int
    refunds_yesterday_amount: int
    open_approvals: int
    unknown_outcomes: int
    open_exceptions: int = 0      # reconciliation exceptions a run showed and nobody closed yet


LABELS = {"pending_count": N_("Pending accounts"), "pending_amount": N_("Pending amount"),
          "overdue_count": N_("Overdue"), "overdue_amount": N_("Overdue amount"),
          "due_today_count": N_("Due today"), "due_today_amount": N_("Due today (amount)"),
          "deposits_yesterday": N_("Deposits yesterday"), "deposits_yesterday_amount": N_("Deposited yesterday"),
          "refunds_yesterday": N_("Refunds yesterday"),                 # sent through vbank-desk (the audit log)
          "refunds_yesterday_amount": N_("Refunded yesterday"),
          "open_approvals": N_("Requests waiting for approval"), "unknown_outcomes": N_("Writes with an unknown outcome"),
          "open_exceptions": N_("Open reconciliation exceptions")}


def day_bounds(day: date) -> tuple[int, int]:
    start = datetime.combine(day, datetime.min.time(), KST)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp()) - 1


def build(*, now: datetime, pending: list[dict[str, Any]], paid: list[dict[str, Any]], refunds: list[dict[str, Any]],
          open_approvals: int, unknown_outcomes: int, open_exceptions: int = 0) -> Digest:
    """``pending``: ready virtual accounts; ``paid``: virtual accounts paid (any time: yesterday's are counted);
    ``refunds``: refunds sent (``{"at", "amount"}``)."""
    today = now.astimezone(KST).date()
    y0, y1 = day_bounds(today - timedelta(days=1))
    t0, t1 = day_bounds(today)
    ts = now.timestamp()

    def amount(rows: list[dict[str, Any]]) -> int:
        return sum(int(r.get("amount") or 0) for r in rows)
    overdue = [p for p in pending if p.get("vbank_date") and p["vbank_date"] < ts]
    due_today = [p for p in pending if p.get("vbank_date") and ts <= p["vbank_date"] <= t1]
    dep = [p for p in paid if y0 <= (p.get("paid_at") or 0) <= y1]
    ref = [r for r in refunds if y0 <= r["at"] <= y1]
    return Digest(today, len(pending), amount(pending), len(overdue), amount(overdue), len(due_today),
                  amount(due_today), len(dep), amount(dep), len(ref), amount(ref), open_approvals, unknown_outcomes,
                  open_exceptions)
