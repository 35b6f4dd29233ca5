"""오늘의 요약 as one Excel sheet (the numbers: lib/domain/digest.py): each figure with its unit in the header, what
moved since the last business day beside the same days a week earlier, and the payouts ahead when known."""

from __future__ import annotations

import pandas as pd

from lib.domain import since
from lib.domain.digest import LABELS, MOVED_LABELS, Digest, day_name, span_name
from lib.domain.i18n import _


def frame(d: Digest) -> pd.DataFrame:
    """One sheet: 항목, 건수, 금액 (원), and for what moved the same days a week earlier; in the run's language."""
    fig, cnt, amt, cnt0, amt0 = (_("Figure"), _("Count (items)"), _("Amount (KRW)"),
                                 _("A week earlier (items)"), _("A week earlier (KRW)"))
    rows: list[dict] = []
    span = span_name(d.span_from, d.span_to)
    for k in since.KINDS:
        rows.append({fig: _("{what} since the last business day ({span})").format(what=_(MOVED_LABELS[k]), span=span),
                     cnt: getattr(d.moved, k), amt: getattr(d.moved, f"{k}_amount"),
                     cnt0: getattr(d.week_before, k), amt0: getattr(d.week_before, f"{k}_amount")})
    for k, a in (("pending_count", "pending_amount"), ("overdue_count", "overdue_amount"),
                 ("due_today_count", "due_today_amount")):
        rows.append({fig: _(LABELS[k]), cnt: getattr(d, k), amt: getattr(d, a)})
    for k in ("open_approvals", "unknown_outcomes", "open_exceptions"):
        rows.append({fig: _(LABELS[k]), cnt: getattr(d, k)})
    if d.ahead is not None:
        for p in d.ahead.days:
            rows.append({fig: _("Payouts expected on {day}").format(day=day_name(p.day)), cnt: p.pgs, amt: p.amount})
        if d.ahead.statement_to is not None:
            rows.append({fig: _("Late payouts"), cnt: d.ahead.late, amt: d.ahead.late_amount})
    return pd.DataFrame(rows, columns=[fig, cnt, amt, cnt0, amt0]).astype(
        {cnt: "Int64", amt: "Int64", cnt0: "Int64", amt0: "Int64"})
