"""Presentation for people: how figures and requests are put into words and tables (no Streamlit calls, no
HTTP, no business rules — those decide; this only says)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from lib.db.approvals import ApprovalRequest
from lib.domain.fees import FeeImpact
from lib.domain.fmt import krw
from lib.domain.i18n import N_, _
from lib.domain.names import page_name
from lib.domain.status import name_of


def requested_refund(p: Any) -> int:
    """What a V2 payment has asked the PG to refund that is not done yet (an asynchronous cancel, 환불 요청됨)."""
    return int((getattr(p, "model_extra", None) or {}).get("cancel_requested_amount") or 0)


def status_words(p: Any) -> str:
    """The payment's status in words (입금대기, 결제완료 …), with "환불 요청됨" while a V2 refund is still being processed."""
    return name_of(p)          # lib/domain/status.py names it 결제완료 · 환불 요청됨 itself (not said twice)


def fee_rows(f: FeeImpact) -> list[dict]:
    amt = _("Amount")
    rows = [
        {"": _("Payment amount"), amt: krw(f.amount)},
        {"": _("Issuance fee kept by the PG"), amt: krw(-f.issuance_fee)},
        {"": _("Settled to you for this payment"), amt: krw(f.settled)},
    ]
    if f.already_refunded:
        rows.append({"": _("Refunded before (incl. their remittance fees)"),
                     amt: krw(-(f.already_refunded + f.previous_remittance_fees))})
    rows += [
        {"": _("This refund"), amt: krw(-f.refund)},
        {"": _("Remittance fee for this refund"), amt: krw(-f.remittance_fee)},
        {"": _("Your net result for this payment after the refund"), amt: krw(f.net_after)},
    ]
    if f.balance_after:
        rows.append({"": _("Balance that stays paid (refundable later)"), amt: krw(f.balance_after)})
    return rows


def waterfall(f: FeeImpact) -> pd.DataFrame:
    """Steps from the payment amount to the merchant's net, for a waterfall chart."""
    steps = [(_("Payment"), f.amount), (_("Issuance fee"), -f.issuance_fee)]
    if f.already_refunded:
        steps.append((_("Earlier refunds"), -(f.already_refunded + f.previous_remittance_fees)))
    steps += [(_("This refund"), -f.refund), (_("Remittance fee"), -f.remittance_fee)]
    out, level = [], 0
    for i, (label, delta) in enumerate(steps):
        start, end = (0, delta) if i == 0 else (level, level + delta)
        out.append({"order": i, "step": label, "start": start, "end": end, "delta": delta,
                    "kind": "total" if i == 0 else ("cost" if delta < 0 else "gain")})
        level = end
    out.append({"order": len(steps), "step": _("Net result"), "start": 0, "end": level, "delta": level,
                "kind": "total"})
    return pd.DataFrame(out)


def cost_sentence(f: FeeImpact) -> str:
    s = _("This refund costs you {cost} ({refund} back to the customer plus a {fee} remittance fee). The PG kept "
          "{issuance} when the account was issued, so your net result for this payment becomes {net}.").format(
        cost=krw(f.refund_cost), refund=krw(f.refund), fee=krw(f.remittance_fee), issuance=krw(f.issuance_fee),
        net=krw(f.net_after))
    if f.balance_after:
        s += " " + _("{amount} stays paid and can be refunded later.").format(amount=krw(f.balance_after))
    return s


def describe(req: ApprovalRequest) -> str:
    if req.kind == "refund":
        r = req.payload["request"]
        return _("Refund {amount} of {imp_uid} ({merchant_uid})").format(
            amount=krw(r["amount"]), imp_uid=req.imp_uid, merchant_uid=req.payload["payment"].get("merchant_uid", ""))
    n = len(req.payload["payments"])
    if req.kind == "bulk_revoke":
        return _("Cancel {n} virtual accounts (발급취소)").format(n=n)
    if req.payload.get("extend_days"):
        return _("Extend the due dates of {n} virtual accounts by {days} days").format(
            n=n, days=req.payload["extend_days"])
    return _("Move the due dates of {n} virtual accounts to {to}").format(n=n, to=req.payload["to"])


def _j(v: Any) -> dict:
    import json
    try:
        return json.loads(v) if isinstance(v, str) and v else {}
    except ValueError:
        return {}


APPROVAL_OUTCOMES = {"requested": N_("requested"), "approved": N_("approved"), "rejected": N_("rejected"),
                     "withdrawn": N_("withdrawn"), "expired": N_("expired"), "executed": N_("approved and sent")}


def refund_account_text(req: dict, check: dict | None) -> str:
    """신한은행 110******456 (황준서): the bank by name, the holder as the bank has it, and the name typed beside it when
    the two differ ("황준서 — typed: 김준서")."""
    from lib.domain.names import bank_name
    chk = check or {}
    typed, says = req.get("refund_holder") or chk.get("typed"), chk.get("bank_says")
    if says and typed and not chk.get("ok"):
        holder = _("{bank_says} — typed: {typed}").format(bank_says=says, typed=typed)
    else:
        holder = says or typed or ""
    bank = bank_name(req.get("refund_bank")) or chk.get("bank") or ""
    text = f"{bank} {req.get('refund_account', '')}".strip()
    return f"{text} ({holder})" if holder else text


def audit_sentence(r: Mapping[str, Any]) -> str:
    """One audit record as a sentence for the finance team: what was done, before → after, in ₩ and KST."""
    from datetime import datetime

    from lib.domain.clock import KST
    from lib.domain.fmt import kst
    req, det = _j(r.get("request")), _j(r.get("detail"))
    action, outcome = r.get("action"), r.get("outcome")

    def due(v: Any) -> str:
        return kst(datetime.fromtimestamp(int(v), KST)) if v else "—"
    reread = " " + _("(confirmed by a re-read)") if det.get("confirmed_by_reread") else ""
    if action == "sign_in":          # built-in accounts (lib/db/accounts.py)
        if outcome == "succeeded":
            return _("Signed in with the authenticator code") if det.get("second_factor") \
                else _("Signed in with the password")
        if outcome == "refused":
            return _("Sign-in refused: the account is locked after repeated failures")
        return _("Sign-in failed: wrong code") if det.get("step") in ("code", "enrol") \
            else _("Sign-in failed: wrong e-mail address or password")
    if action == "account":
        return _("Account {email}: {change}").format(email=det.get("account", ""), change={
            "added": _("added"), "roles": _("roles changed"), "password reset": _("password reset"),
            "second factor reset": _("authenticator reset"), "disabled": _("disabled"), "enabled": _("enabled"),
            "second factor enrolled": _("authenticator turned on"), "password chosen": _("own password chosen"),
        }.get(det.get("change", ""), det.get("change", "")))
    if action == "update_vbank":
        if outcome == "sent":
            parts = ([_("amount → {to}").format(to=krw(req["amount"]))] if "amount" in req else []) + \
                    ([_("due → {to}").format(to=due(req["vbank_due"]))] if "vbank_due" in req else [])
            return _("Sent a change: {what}").format(what=", ".join(parts))
        if outcome == "succeeded":
            b, a = det.get("before", {}), det.get("after", {})
            parts = []
            if b.get("amount") != a.get("amount"):
                parts.append(_("amount {before} → {after}").format(before=krw(b.get("amount")),
                                                                   after=krw(a.get("amount"))))
            if b.get("vbank_due") != a.get("vbank_due"):
                parts.append(_("due {before} → {after}").format(before=due(b.get("vbank_due")),
                                                                after=due(a.get("vbank_due"))))
            return _("Changed {what}").format(what=", ".join(parts) or _("the virtual account")) + reread
    if action == "refund":
        if outcome == "sent":
            return _("Sent a refund of {amount} to {account}").format(
                amount=krw(req.get("amount")), account=refund_account_text(req, det.get("holder_check")))
        if outcome == "succeeded":
            b, a = det.get("before", {}), det.get("after", {})
            return _("Refund registered: refunded total {before} → {after}").format(
                before=krw(b.get("cancel_amount")), after=krw(a.get("cancel_amount"))) + reread
    if outcome == "failed":
        if r.get("api_message"):
            return _("Not applied: “{msg}”").format(msg=r.get("api_message"))
        return _("Not applied: {why}").format(why=det.get("resolution") or _("nothing was sent"))
    if outcome == "unknown":
        return _("Outcome unknown: {note}").format(note=str(det.get("note") or r.get("api_message") or ""))
    if outcome == "resolved":
        return _("Resolved: {how}").format(how=str(det.get("resolution", "")))
    if action in ("refund_request", "bulk_extend_request"):
        if action == "refund_request":
            what = _("a refund of {amount}").format(amount=krw(det["amount"])) if det.get("amount") else _("a refund")
        else:
            what = _("a bulk due-date extension")
        note = det.get("note") or r.get("api_message")
        state = _(APPROVAL_OUTCOMES[outcome]) if outcome in APPROVAL_OUTCOMES else outcome
        return _("Approval {state} for {what}").format(state=state, what=what) + (f" — {note}" if note else "")
    if action == "reveal_personal" and det.get("search"):          # 결제 찾기 by personal data (app_pages/search.py)
        if outcome == "refused":
            return _("Refused a search: too many searches narrowing a phone number or an e-mail address")
        if det.get("hidden_parts"):
            return _("Searched by hidden digits or letters of a phone number or an e-mail address")
        return _("Narrowed a search by a phone number or an e-mail address (shown masked)")
    if action == "reveal_personal":
        return _("Showed full account and phone numbers ({page})").format(page=page_name(det.get("page")))
    if action == "recon_preset":
        return _("Saved the reconciliation preset “{name}”").format(name=det.get("name", ""))
    if action == "saved_view":
        return _("Saved the view “{name}”").format(name=det.get("name", ""))
    if action == "recon_resolution":
        res = det.get("resolution") or {}
        if res.get("state") == "resolved":
            return _("Closed a reconciliation exception ({what}) — owner {owner}: {memo}").format(
                what=res.get("label", ""), owner=res.get("owner", ""), memo=res.get("memo", ""))
        return _("Reopened a reconciliation exception ({what})").format(what=res.get("label", ""))
    return f"{action}: {outcome}"


def text_px(text: object) -> int:
    """About how many pixels a cell's text takes in a table (Streamlit's 14px font): wide (Hangul) characters count
    about twice a Latin digit."""
    s = "" if text is None else str(text)
    return sum(14 if ord(ch) > 0x2E80 else 8 for ch in s)


def column_px(header: str, values: Iterable[Any], *, fmt: Callable[[Any], object] = str, pad: int = 28, at_most: int = 320) -> int:
    """A column width that shows its header and every value whole (₩1,200,000, not ",200,000"): the widest of them,
    measured on all rows (the table's own sizing looks at the first rows only)."""
    widest = max([text_px(header)] + [text_px(fmt(v)) for v in values], default=0)
    return min(at_most, widest + pad)
