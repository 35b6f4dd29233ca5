"""The morning digest (오늘의 요약) as numbers: the pending accounts, what is overdue and due today; what moved since
the last business day (lib/domain/since.py: deposits, refunds, revokes and new accounts by when the money moved) beside
the same days a week earlier; open approvals, unknown outcomes and reconciliation exceptions still open; and, when the
caller adds them, the payouts ahead (what each PG should pay on the next business days, and what is late). Built from
data the caller read; pure. The watcher posts it as a short message (``lines``); lib/reports/digest.py makes it an
Excel sheet; the page /today shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from lib.domain import since
from lib.domain.clock import KST
from lib.domain.fmt import krw, number
from lib.domain.i18n import N_, _


@dataclass(frozen=True)
class PayoutDay:
    """What the PGs should pay into the bank account on one business day (expected net, after fees)."""
    day: date
    amount: int
    pgs: int


@dataclass(frozen=True)
class LatePayout:
    """An expected payout a business day late: nothing from its sender on its day in a matched bank statement."""
    day: date
    sender: str                                     # the name the PG transfers under
    pgs: str                                        # the PGs it pays for, by trade name
    expected: int
    received: int = 0


@dataclass(frozen=True)
class Ahead:
    """The payouts ahead, as the digest tells them."""
    days: tuple[PayoutDay, ...] = ()
    late: int = 0                                   # expected payouts a business day late in a matched statement
    late_amount: int = 0
    statement_to: date | None = None                # the last day a matched bank statement covers (None: none)
    late_rows: tuple[LatePayout, ...] = ()


@dataclass(frozen=True)
class Digest:
    day: date
    pending_count: int
    pending_amount: int
    overdue_count: int
    overdue_amount: int
    due_today_count: int
    due_today_amount: int
    span_from: date                                 # 지난 영업일 이후: the first and last day covered
    span_to: date
    moved: since.Moved
    week_before: since.Moved                        # the same days a week earlier
    open_approvals: int
    unknown_outcomes: int
    open_exceptions: int = 0      # reconciliation exceptions a run showed and nobody closed yet
    ahead: Ahead | None = field(default=None)


LABELS = {"pending_count": N_("Pending accounts"), "pending_amount": N_("Pending amount"),
          "overdue_count": N_("Overdue"), "overdue_amount": N_("Overdue amount"),
          "due_today_count": N_("Due today"), "due_today_amount": N_("Due today (amount)"),
          "open_approvals": N_("Requests waiting for approval"), "unknown_outcomes": N_("Writes with an unknown outcome"),
          "open_exceptions": N_("Open reconciliation exceptions")}
MOVED_LABELS = {"deposits": N_("Money deposited"), "refunds": N_("Money refunded"), "revokes": N_("Revoked accounts"),
                "issued": N_("New accounts")}


def day_bounds(day: date) -> tuple[int, int]:
    start = datetime.combine(day, datetime.min.time(), KST)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp()) - 1


def build(*, now: datetime, pending: list[dict[str, Any]], payments: list[dict[str, Any]], open_approvals: int,
          unknown_outcomes: int, open_exceptions: int = 0, ahead: Ahead | None = None) -> Digest:
    """``pending``: ready virtual accounts; ``payments``: virtual accounts whose money may have moved since a week
    before the span (deposits, refunds, revokes and issues are counted by their own times)."""
    today = now.astimezone(KST).date()
    _t0, t1 = day_bounds(today)
    ts = now.timestamp()
    first, last = since.span(today)

    def amount(rows: list[dict[str, Any]]) -> int:
        return sum(int(r.get("amount") or 0) for r in rows)
    overdue = [p for p in pending if p.get("vbank_date") and p["vbank_date"] < ts]
    due_today = [p for p in pending if p.get("vbank_date") and ts <= p["vbank_date"] <= t1]
    week = timedelta(days=7)
    return Digest(today, len(pending), amount(pending), len(overdue), amount(overdue), len(due_today),
                  amount(due_today), first, last, since.moved(payments, first, last),
                  since.moved(payments, first - week, last - week), open_approvals, unknown_outcomes, open_exceptions,
                  ahead)


# ------------------------------------------------------------------ in words
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def day_name(d: date) -> str:
    """12월 4일 (금) / Dec 4 (Fri)."""
    return _("{month}/{day} ({weekday})").format(month=d.month, day=d.day, weekday=_(WEEKDAYS[d.weekday()]))


def span_name(first: date, last: date) -> str:
    return day_name(first) if first == last else f"{day_name(first)} ~ {day_name(last)}"


def count(n: int) -> str:
    """12건 / 12 items."""
    return _("{n} items").format(n=number(n))


def count_amount(n: int, amount: int) -> str:
    """12건 ₩1,234,000 (a count of nothing: 0건)."""
    return count(n) if n == 0 else f"{count(n)} {krw(amount)}"


def moved_line(kind: str, now_: since.Moved, before: since.Moved) -> str:
    n, a = getattr(now_, kind), getattr(now_, f"{kind}_amount")
    n0, a0 = getattr(before, kind), getattr(before, f"{kind}_amount")
    return _("{what} {now} (a week earlier {before})").format(what=_(MOVED_LABELS[kind]), now=count_amount(n, a),
                                                             before=count_amount(n0, a0))


def lines(d: Digest) -> list[str]:
    """The digest as a short message: each figure with its unit (건, 원) and the week before beside what moved."""
    out = [_("Today's summary ({day})").format(day=day_name(d.day)),
           _("Since the last business day ({span}), beside the same days a week earlier:").format(
               span=span_name(d.span_from, d.span_to))]
    out += [f"· {moved_line(k, d.moved, d.week_before)}" for k in since.KINDS]
    out.append(_("Pending {pending} — overdue {overdue}, due today {today}").format(
        pending=count_amount(d.pending_count, d.pending_amount),
        overdue=count_amount(d.overdue_count, d.overdue_amount),
        today=count_amount(d.due_today_count, d.due_today_amount)))
    if d.ahead is not None:
        out.append(ahead_line(d.ahead))
    out.append(_("Waiting for approval {approvals} · unknown outcomes {unknown} · open reconciliation exceptions "
                 "{exceptions}").format(approvals=count(d.open_approvals), unknown=count(d.unknown_outcomes),
                                        exceptions=count(d.open_exceptions)))
    return out


def ahead_line(a: Ahead) -> str:
    days = " · ".join(f"{day_name(p.day)} {krw(p.amount)}" for p in a.days) \
        or _("none in the next business days")
    line = _("Payouts ahead: {days}").format(days=days)
    if a.statement_to is None:
        return line + " " + _("(no bank statement matched yet: late payouts cannot be told)")
    return line + " " + _("— late {late} (bank statement up to {day})").format(
        late=count_amount(a.late, a.late_amount), day=day_name(a.statement_to))
