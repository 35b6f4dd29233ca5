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
