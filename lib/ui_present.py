"""Presentation for people: how figures and requests are put into words and tables (no Streamlit calls, no
HTTP, no business rules — those decide; this only says)."""

from __future__ import annotations

import pandas as pd

from .approvals import ApprovalRequest
from .fees import FeeImpact
from .fmt import krw


def fee_rows(f: FeeImpact) -> list[dict]:
    rows = [
        {"": "Payment amount", "Amount": krw(f.amount)},
        {"": "Issuance fee kept by the PG", "Amount": krw(-f.issuance_fee)},
        {"": "Settled to you for this payment", "Amount": krw(f.settled)},
    ]
    if f.already_refunded:
        rows.append({"": "Refunded before (incl. their remittance fees)",
                     "Amount": krw(-(f.already_refunded + f.previous_remittance_fees))})
    rows += [
        {"": "This refund", "Amount": krw(-f.refund)},
        {"": "Remittance fee for this refund", "Amount": krw(-f.remittance_fee)},
        {"": "Your net result for this payment after the refund", "Amount": krw(f.net_after)},
    ]
    if f.balance_after:
        rows.append({"": "Balance that stays paid (refundable later)", "Amount": krw(f.balance_after)})
    return rows


def waterfall(f: FeeImpact) -> pd.DataFrame:
    """Steps from the payment amount to the merchant's net, for a waterfall chart."""
    steps = [("Payment", f.amount), ("Issuance fee", -f.issuance_fee)]
    if f.already_refunded:
        steps.append(("Earlier refunds", -(f.already_refunded + f.previous_remittance_fees)))
    steps += [("This refund", -f.refund), ("Remittance fee", -f.remittance_fee)]
    out, level = [], 0
    for i, (label, delta) in enumerate(steps):
        start, end = (0, delta) if i == 0 else (level, level + delta)
        out.append({"order": i, "step": label, "start": start, "end": end, "delta": delta,
                    "kind": "total" if i == 0 else ("cost" if delta < 0 else "gain")})
        level = end
    out.append({"order": len(steps), "step": "Net result", "start": 0, "end": level, "delta": level, "kind": "total"})
    return pd.DataFrame(out)


def cost_sentence(f: FeeImpact) -> str:
    s = (f"This refund costs you {krw(f.refund_cost)} ({krw(f.refund)} back to the customer plus a "
         f"{krw(f.remittance_fee)} remittance fee). The PG kept {krw(f.issuance_fee)} when the account was issued, "
         f"so your net result for this payment becomes {krw(f.net_after)}.")
    if f.balance_after:
        s += f" {krw(f.balance_after)} stays paid and can be refunded later."
    return s


def describe(req: ApprovalRequest) -> str:
    if req.kind == "refund":
        r = req.payload["request"]
        return f"Refund {krw(r['amount'])} of {req.imp_uid} ({req.payload['payment'].get('merchant_uid', '')})"
    n = len(req.payload["payments"])
    how = f"by {req.payload['extend_days']} days" if req.payload.get("extend_days") else f"to {req.payload['to']}"
    return f"Extend the due dates of {n} virtual accounts {how}"


def _j(v) -> dict:
    import json
    try:
        return json.loads(v) if isinstance(v, str) and v else {}
    except ValueError:
        return {}


def audit_sentence(r) -> str:
    """One audit record as a sentence for the finance team: what was done, before → after, in ₩ and KST."""
    from datetime import datetime

    from .clock import KST
    from .fmt import kst
    req, det = _j(r.get("request")), _j(r.get("detail"))
    action, outcome = r.get("action"), r.get("outcome")

    def due(v):
        return kst(datetime.fromtimestamp(int(v), KST)) if v else "—"
    if action == "update_vbank":
        if outcome == "sent":
            parts = ([f"amount → {krw(req['amount'])}"] if "amount" in req else []) + \
                    ([f"due → {due(req['vbank_due'])}"] if "vbank_due" in req else [])
            return "Sent a change: " + ", ".join(parts)
        if outcome == "succeeded":
            b, a = det.get("before", {}), det.get("after", {})
            parts = []
            if b.get("amount") != a.get("amount"):
                parts.append(f"amount {krw(b.get('amount'))} → {krw(a.get('amount'))}")
            if b.get("vbank_due") != a.get("vbank_due"):
                parts.append(f"due {due(b.get('vbank_due'))} → {due(a.get('vbank_due'))}")
            how = " (confirmed by a re-read)" if det.get("confirmed_by_reread") else ""
            return "Changed " + (", ".join(parts) or "the virtual account") + how
    if action == "refund":
        if outcome == "sent":
            holder = f" ({req['refund_holder']})" if req.get("refund_holder") else ""
            return (f"Sent a refund of {krw(req.get('amount'))} to {req.get('refund_bank', '')} "
                    f"{req.get('refund_account', '')}{holder}").rstrip()
        if outcome == "succeeded":
            b, a = det.get("before", {}), det.get("after", {})
            how = " (confirmed by a re-read)" if det.get("confirmed_by_reread") else ""
            return (f"Refund registered: refunded total {krw(b.get('cancel_amount'))} → "
                    f"{krw(a.get('cancel_amount'))}{how}")
    if outcome == "failed":
        return f"Not applied: “{r.get('api_message')}”" if r.get("api_message") else \
            f"Not applied: {det.get('resolution', 'nothing was sent')}"
    if outcome == "unknown":
        return "Outcome unknown: " + str(det.get("note") or r.get("api_message") or "")
    if outcome == "resolved":
        return "Resolved: " + str(det.get("resolution", ""))
    if action in ("refund_request", "bulk_extend_request"):
        what = "a refund" + (f" of {krw(det['amount'])}" if det.get("amount") and action == "refund_request" else "") \
            if action == "refund_request" else "a bulk due-date extension"
        note = det.get("note") or r.get("api_message")
        return f"Approval {outcome} for {what}" + (f" — {note}" if note else "")
    if action == "reveal_personal":
        return f"Showed full account and phone numbers ({det.get('page', '')})"
    if action == "recon_preset":
        return f"Saved the reconciliation preset “{det.get('name', '')}”"
    if action == "saved_view":
        return f"Saved the view “{det.get('name', '')}”"
    return f"{action}: {outcome}"
