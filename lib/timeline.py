"""A payment's whole story, oldest first: issued, every change of amount or due date, the deposit, each refund
(with the account it went to, masked, and its fee), approval requests and decisions, unknown outcomes and how they
were resolved — each with who and when. From the API's payment and vbank-desk's own audit records; pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from . import banks
from .clock import KST
from .fees import with_vat
from .fmt import krw, kst
from .models import Payment
from .settings import Rules


@dataclass(frozen=True)
class Event:
    at: datetime | None
    what: str
    who: str
    detail: str


def _ts(v) -> datetime | None:
    if v is None or v == 0:
        return None
    if isinstance(v, datetime):
        return v
    return datetime.fromtimestamp(int(v), KST)


def _load(s) -> dict:
    try:
        return json.loads(s) if isinstance(s, str) and s else {}
    except ValueError:
        return {}


def build(p: Payment, audit: pd.DataFrame, rules: Rules) -> list[Event]:
    """Every event of the payment, oldest first (``audit``: its audit records, any order)."""
    out: list[Event] = []
    buyer = p.buyer_name or "the customer"
    if p.is_vbank:
        out.append(Event(p.vbank_issued_at or p.started_at, "Virtual account issued", "PG",
                         f"{p.vbank_name or ''} account, {krw(p.amount)}, due {kst(p.vbank_date)}"))
    else:
        out.append(Event(p.started_at, "Payment started", buyer, f"{p.pay_method}, {krw(p.amount)}"))
    if p.paid_at:
        out.append(Event(p.paid_at, "Deposit received" if p.is_vbank else "Paid", buyer, krw(p.amount)))
    if p.failed_at:
        out.append(Event(p.failed_at, "Failed", "PG", p.fail_reason or ""))
    rule = rules.fee_rule(p.pg_provider)
    sent_refunds = []
    rows = audit.sort_values("id") if not audit.empty else audit
    for _, r in rows.iterrows():
        detail, request = _load(r.get("detail")), _load(r.get("request"))
        at, who, action, outcome = r["at"], r["operator"], r["action"], r["outcome"]
        if action == "update_vbank" and outcome in ("succeeded", "resolved") and detail.get("after"):
            before, after = detail.get("before", {}), detail["after"]
            parts = []
            if before.get("amount") is not None and before.get("amount") != after.get("amount"):
                parts.append(f"amount {krw(before.get('amount'))} → {krw(after.get('amount'))}")
            if before.get("vbank_due") and before.get("vbank_due") != after.get("vbank_due"):
                parts.append(f"due {kst(_ts(before['vbank_due']))} → {kst(_ts(after.get('vbank_due')))}")
            out.append(Event(at, "Changed", who, ", ".join(parts) or "confirmed by a re-read"))
        elif action == "refund" and outcome == "sent":
            sent_refunds.append(request)
        elif outcome == "unknown":
            out.append(Event(at, f"{'Refund' if action == 'refund' else 'Change'}: outcome unknown", who,
                             detail.get("note") or r.get("api_message") or ""))
        elif outcome == "resolved":
            out.append(Event(at, f"{'Refund' if action == 'refund' else 'Change'} resolved", who,
                             str(detail.get("resolution", ""))))
        elif action in ("refund_request", "bulk_extend_request") and outcome in (
                "requested", "approved", "rejected", "withdrawn", "expired", "refused"):
            amount = detail.get("amount")
            note = detail.get("note") or r.get("api_message") or ""
            out.append(Event(at, f"Approval {outcome}", who,
                             (f"refund of {krw(amount)}" if amount and outcome == "requested" else "")
                             + (f" — {note}" if note else "")))
        elif action == "reveal_personal":
            out.append(Event(at, "Full numbers shown", who, str(detail.get("page", ""))))
    for i, h in enumerate(p.cancel_history):
        account = next((s for s in sent_refunds if s.get("amount") == h.amount), {})
        bank = banks.bank_by_code(p.pg_provider, str(account.get("refund_bank", ""))) if account else None
        to = (f" to {bank.name_ko if bank else account.get('refund_bank', '')} {account.get('refund_account', '')}"
              .rstrip() if account else "")
        fee = with_vat(rule.remittance_fee, rule) if p.is_vbank else 0
        out.append(Event(h.cancelled_at, "Refund registered", "PG",
                         f"{krw(h.amount)}{to}" + (f", remittance fee {krw(fee)}" if fee else "")
                         + (f" — {h.reason}" if h.reason else "")))
    # The API counts in whole seconds: within one second, the natural order (issue, changes, deposit, refunds).
    rank = {"Virtual account issued": 0, "Payment started": 0, "Deposit received": 2, "Paid": 2,
            "Refund registered": 3}

    def key(e: Event):
        return (int(e.at.timestamp()) if e.at else 0, rank.get(e.what, 1))
    return sorted(out, key=key)
