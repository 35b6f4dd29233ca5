"""입금 예정 — payouts ahead: per business day and PG, what each PG should pay into the bank account (the expected
settlement of lib/reports/recon/expected.py, paid out D+N business days later by lib/reports/recon/payouts.py's
``expected_payouts``: ``settlement_days`` per PG, ``settlement_days_default`` otherwise; the fee schedule per PG), what
a matched bank statement already shows from that PG's sender, and what is late.

Bank statements are kept as their deposits per day and sender only (no personal transfers, no account numbers), with
the days they cover (``stored`` JSON, merged by ``remember``): a payout day no stored statement covers is "no statement
covers this day" — nothing is claimed about it. A payout is **late** when a statement covers its day, nothing (or
less) came from its sender that day, and a business day has passed since.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from lib.domain.digest import Ahead, LatePayout, PayoutDay
from lib.domain.i18n import N_
from lib.domain.names import PG_NAMES
from lib.domain.settings import Rules
from lib.reports.recon import expected as recon_expected
from lib.reports.recon import payouts as recon_payouts

BACK_DAYS = 14                 # payouts due this many days back are still shown (late ones matter)
KEEP_DAYS = 120                # stored statement days older than this are dropped

# Status codes; the page says them in words.
AHEAD, RECEIVED, SHORT, LATE, NO_STATEMENT, OFFSET, WAITING = (
    "ahead", "received", "short", "late", "no_statement", "offset", "waiting")
STATUS_WORDS = {AHEAD: N_("Expected"), RECEIVED: N_("Received"), SHORT: N_("Received less"),
                LATE: N_("Late"), NO_STATEMENT: N_("No bank statement covers this day"),
                OFFSET: N_("Nothing to pay (refunds and fees offset it)"),
                WAITING: N_("Due today — not in the statement yet")}


@dataclass(frozen=True)
class Stored:
    """The bank statements matched so far: the days they cover and the deposits per (day, sender)."""
    first: date | None
    last: date | None
    received: dict[tuple[date, str], int]

    def covers(self, d: date) -> bool:
        return self.first is not None and self.last is not None and self.first <= d <= self.last


def load(text: str | None) -> Stored | None:
    if not text:
        return None
    try:
        raw = json.loads(text)
        got = {(date.fromisoformat(d), str(s)): int(a) for d, s, a in raw.get("received", ())}
        return Stored(date.fromisoformat(raw["first"]), date.fromisoformat(raw["last"]), got)
    except (ValueError, KeyError, TypeError):
        return None


def remember(old_text: str | None, statement: pd.DataFrame, rules: Rules) -> str:
    """A bank statement (lib/reports/recon/normalize.py's rows: date, deposit, memo, depositor) merged into what is
    stored: its days replace the same days of earlier statements; only deposits a PG sender explains are kept."""
    old = load(old_text)
    days = [d for d in statement["date"] if isinstance(d, date)] if len(statement) else []
    if not days:
        return old_text or ""
    first, last = min(days), max(days)
    depositor = statement["depositor"] if "depositor" in statement else pd.Series("", index=statement.index)
    text = depositor.fillna("").astype(str).str.cat(statement["memo"].fillna("").astype(str), sep=" ")
    sender = recon_payouts.sender_of(text, rules)
    got = pd.DataFrame(statement.assign(sender=sender)[sender != ""].groupby(["date", "sender"], as_index=False)
                       .agg(deposit=("deposit", "sum")))
    received = {k: v for k, v in (old.received.items() if old else ()) if not first <= k[0] <= last}
    received.update({(r["date"], str(r["sender"])): int(r["deposit"]) for r in records(got) if int(r["deposit"]) > 0})
    keep_from = last - timedelta(days=KEEP_DAYS)
    if old and old.first is not None and old.last is not None:
        first, last = min(first, old.first), max(last, old.last)
    first = max(first, keep_from)
    rows = sorted([d.isoformat(), s, a] for (d, s), a in received.items() if d >= keep_from)
    return json.dumps({"first": first.isoformat(), "last": last.isoformat(), "received": rows}, ensure_ascii=False)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def pg_trade_name(code: str) -> str:
    return PG_NAMES.get(code, code)


def frame(payments: Any, today: date, rules: Rules, stored: Stored | None, *, ahead_days: int = 10) -> pd.DataFrame:
    """One row per payout day and sender: ``day``, ``sender``, ``pgs`` (trade names), ``pg_codes``, ``expected`` (the
    net the PGs should pay), ``received`` (in a stored statement that day; None when none covers it), ``status``,
    ``transaction_days``. From ``BACK_DAYS`` before today to ``ahead_days`` after."""
    cols = ["day", "sender", "pgs", "pg_codes", "expected", "received", "status", "transaction_days"]
    longest = max([rules.settlement_days_default, *rules.settlement_days.values()])
    d_from = today - timedelta(days=BACK_DAYS + 2 * longest + 10)     # transactions whose payouts fall in view
    ev = recon_expected.events(payments, d_from, today, rules)
    pay = recon_payouts.expected_payouts(recon_expected.expected_settlement(ev), rules)
    if pay.empty:
        return pd.DataFrame(columns=cols)
    pay = pay[(pay["payout_date"] >= today - timedelta(days=BACK_DAYS)) &
              (pay["payout_date"] <= today + timedelta(days=ahead_days))]
    groups = recon_payouts.sender_groups(rules)
    pay = pay.assign(sender=pay["pg"].map(lambda pg: groups.get(pg, pg)))
    g = pay.groupby(["payout_date", "sender"], as_index=False).agg(
        expected=("expected", "sum"), pg_codes=("pg", lambda x: sorted(set(x))),
        transaction_days=("transaction_days", lambda x: ", ".join(sorted(set(", ".join(x).split(", "))))))
    out = []
    for r in records(g):
        day, expected, sender = r["payout_date"], int(r["expected"]), str(r["sender"])
        received = stored.received.get((day, sender), 0) if stored and stored.covers(day) and day <= today else None
        if expected <= 0:
            status = OFFSET
        elif day > today:
            status = AHEAD
        elif received is None:
            status = NO_STATEMENT
        elif received >= expected:
            status = RECEIVED
        elif today < recon_payouts.business_days_after(day, 1):
            status = WAITING                   # its own day: the money may still come today
        else:
            status = LATE if received == 0 else SHORT
        out.append({"day": day, "sender": sender, "pgs": " / ".join(pg_trade_name(p) for p in r["pg_codes"]),
                    "pg_codes": ", ".join(r["pg_codes"]), "expected": expected, "received": received,
                    "status": status, "transaction_days": r["transaction_days"]})
    df = pd.DataFrame(out, columns=cols)
    df["received"] = pd.array(df["received"].tolist(), dtype="Int64")     # <NA>: no statement covers the day
    return df.sort_values(["day", "sender"]).reset_index(drop=True)


def summary(f: pd.DataFrame, today: date, stored: Stored | None, *, days: int = 3) -> Ahead:
    """What the digest tells: the next ``days`` payout days from today (totals, PGs), and the late payouts."""
    upcoming = f[(f["day"] >= today) & (f["expected"] > 0)] if len(f) else f
    by_day = []
    for day in sorted(set(upcoming["day"]))[:days] if len(upcoming) else []:
        rows = upcoming[upcoming["day"] == day]
        by_day.append(PayoutDay(day, int(rows["expected"].sum()), int(rows["pg_codes"].str.split(", ").explode()
                                                                        .nunique())))
    late = f[f["status"].isin([LATE, SHORT])] if len(f) else f
    rows = tuple(LatePayout(r["day"], str(r["sender"]), str(r["pgs"]), int(r["expected"]),
                            0 if pd.isna(r["received"]) else int(r["received"]))
                 for r in records(late))
    return Ahead(tuple(by_day), len(rows), sum(r.expected - r.received for r in rows),
                 stored.last if stored else None, rows)


def for_watcher(rules: Rules) -> Callable[[list[dict[str, Any]], str | None, Any], Ahead]:
    """The watcher's ``ahead`` (lib/services/watcher.py ``AheadFn``): payments, stored statements, now → Ahead."""
    def ahead(payments: list[dict[str, Any]], stored_text: str | None, now: Any) -> Ahead:
        stored = load(stored_text)
        today = now.date()
        return summary(frame(payments, today, rules, stored), today, stored)
    return ahead
