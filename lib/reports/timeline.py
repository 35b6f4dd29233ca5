"""A payment's whole story, oldest first: issued, every change of amount or due date, the deposit, each refund
(with the account it went to, masked, and its fee), approval requests and decisions, unknown outcomes and how they
were resolved — each with who and when. From the API's payment and vbank-desk's own audit records; pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from lib.domain import banks
from lib.domain.clock import KST
from lib.domain.fees import with_vat
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.domain.names import method_name, outcome_name, page_name
from lib.domain.settings import Rules
from lib.domain.text import WRITE_TAG_RX, without_tag


@dataclass(frozen=True)
class Event:
    at: datetime | None
    what: str
    who: str
    detail: str
    rank: int = 1       # order within one second: issue/start 0, changes 1, deposit 2, refunds 3


def _ts(v: Any) -> datetime | None:
    if v is None or v == 0:
        return None
    if isinstance(v, datetime):
        return v
    return datetime.fromtimestamp(int(v), KST)


def _load(s: Any) -> dict:
    try:
        return json.loads(s) if isinstance(s, str) and s else {}
    except ValueError:
        return {}


def build(p: Payment, audit: pd.DataFrame, rules: Rules) -> list[Event]:
    """Every event of the payment, oldest first (``audit``: its audit records, any order)."""
    out: list[Event] = []
    buyer = p.buyer_name or _("the customer")
    rows = audit.sort_values("id") if not audit.empty else audit
    if p.is_vbank:
        # As issued, not as it is now: the values before the first change of each recorded by vbank-desk.
        issued_amount, issued_due = p.amount, p.vbank_date
        seen_amount = seen_due = False
        for _i, r in rows.iterrows():
            if r["action"] != "update_vbank" or r["outcome"] not in ("succeeded", "resolved"):
                continue
            before, after = _load(r.get("detail")).get("before", {}), _load(r.get("detail")).get("after", {})
            if not seen_amount and before.get("amount") is not None and before.get("amount") != after.get("amount"):
                issued_amount, seen_amount = before["amount"], True
            if not seen_due and before.get("vbank_due") and before.get("vbank_due") != after.get("vbank_due"):
                issued_due, seen_due = _ts(before["vbank_due"]), True
        out.append(Event(p.vbank_issued_at or p.started_at, _("Virtual account issued"), "PG",
                         _("{bank} account, {amount}, due {due}").format(
                             bank=p.vbank_name or "", amount=krw(issued_amount), due=kst(issued_due)), rank=0))
    else:
        out.append(Event(p.started_at, _("Payment started"), buyer, f"{method_name(p.pay_method)}, {krw(p.amount)}",
                         rank=0))
    if p.paid_at:
        out.append(Event(p.paid_at, _("Deposit received") if p.is_vbank else _("Paid"), buyer, krw(p.amount), rank=2))
    if p.failed_at:
        out.append(Event(p.failed_at, _("Failed"), "PG", p.fail_reason or ""))
    rule = rules.fee_rule(p.pg_provider)
    sent_refunds: list[tuple[dict, str]] = []
    revoke_notes: dict[str, str] = {}
    for _i, r in rows.iterrows():
        detail, request = _load(r.get("detail")), _load(r.get("request"))
        at, who, action, outcome = r["at"], r["operator"], r["action"], r["outcome"]
        thing = {"refund": _("Refund"), "revoke_vbank": _("Account cancellation")}.get(action, _("Change"))
        if action == "update_vbank" and outcome in ("succeeded", "resolved") and detail.get("after"):
            before, after = detail.get("before", {}), detail["after"]
            parts = []
            if before.get("amount") is not None and before.get("amount") != after.get("amount"):
                parts.append(_("amount {before} → {after}").format(before=krw(before.get("amount")),
                                                                   after=krw(after.get("amount"))))
            if before.get("vbank_due") and before.get("vbank_due") != after.get("vbank_due"):
                parts.append(_("due {before} → {after}").format(before=kst(_ts(before["vbank_due"])),
                                                                after=kst(_ts(after.get("vbank_due")))))
            out.append(Event(at, _("Changed"), who, ", ".join(parts) or _("confirmed by a re-read")))
        elif action == "revoke_vbank" and outcome == "sent":
            revoke_notes[r["correlation_id"]] = detail.get("note") or ""
        elif action == "revoke_vbank" and (outcome == "succeeded" or (outcome == "resolved"
                                                                      and detail.get("why") == "applied_reread")):
            out.append(Event(at, _("Virtual account cancelled"), who,
                             revoke_notes.get(r["correlation_id"]) or _("no longer accepts deposits")))
        elif action == "refund" and outcome == "sent":
            sent_refunds.append((request, who))
        elif outcome == "unknown":
            out.append(Event(at, _("{thing}: outcome unknown").format(thing=thing), who,
                             detail.get("note") or r.get("api_message") or ""))
        elif outcome == "resolved":
            out.append(Event(at, _("{thing} resolved").format(thing=thing), who, str(detail.get("resolution", ""))))
        elif action in ("refund_request", "bulk_extend_request") and outcome in (
                "requested", "approved", "rejected", "withdrawn", "expired", "refused"):
            amount = detail.get("amount")
            note = detail.get("note") or r.get("api_message") or ""
            out.append(Event(at, _("Approval {state}").format(state=outcome_name(outcome)), who,
                             (_("refund of {amount}").format(amount=krw(amount)) if amount and outcome == "requested"
                              else "") + (f" — {note}" if note else "")))
        elif action == "reveal_personal":
            out.append(Event(at, _("Full numbers shown"), who, page_name(detail.get("page"))))
    if p.is_vbank and p.status == "cancelled" and not p.paid_at and p.cancelled_at and not revoke_notes:
        # closed before anything was paid in, not by this app (the PG console, or the API by another system)
        out.append(Event(p.cancelled_at, _("Virtual account cancelled"), "PG", without_tag(p.cancel_reason)))
    used: set[int] = set()
    for i, h in enumerate(p.cancel_history):
        # Our own refund by its write tag (lib/domain/text.write_tag); else one we sent of this amount; else made
        # elsewhere (the PG console), shown as the PG's.
        tag = WRITE_TAG_RX.search(h.reason or "")
        j = next((k for k, (s, _w) in enumerate(sent_refunds) if k not in used and tag
                  and tag.group(0).strip() in str(s.get("reason") or "")), None)
        if j is None:
            j = next((k for k, (s, _w) in enumerate(sent_refunds) if k not in used and s.get("amount") == h.amount
                      and not WRITE_TAG_RX.search(str(s.get("reason") or ""))), None)
        account, by = (sent_refunds[j][0], sent_refunds[j][1]) if j is not None else ({}, "PG")
        if j is not None:
            used.add(j)
        bank = banks.bank_label(p.pg_provider, str(account.get("refund_bank", ""))) if account else ""
        text = krw(h.amount)
        if account:
            text = _("{amount} to {account}").format(
                amount=text, account=f"{bank} {account.get('refund_account', '')}".strip())
        fee = with_vat(rule.remittance_fee, rule) if p.is_vbank else 0
        if fee:
            text += ", " + _("remittance fee {fee}").format(fee=krw(fee))
        out.append(Event(h.cancelled_at, _("Refund registered"), by,
                         text + (f" — {without_tag(h.reason)}" if h.reason else ""), rank=3))

    # The API counts in whole seconds: within one second, the natural order (issue, changes, deposit, refunds).
    def key(e: Event) -> tuple[int, int]:
        return (int(e.at.timestamp()) if e.at else 0, e.rank)
    return sorted(out, key=key)
