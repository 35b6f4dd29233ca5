"""Refund wizard rules that are not the write itself: the list of refundable payments, the holder
check, the typed confirmation, and the fee-impact presentation data."""

from __future__ import annotations

import pandas as pd

from .fees import FeeImpact
from .fmt import digits_only, krw
from .clock import KST


def paid_vbank_frame(rows: list[dict]) -> pd.DataFrame:
    """Paid virtual-account payments that still have a refundable balance."""
    cols = ["imp_uid", "merchant_uid", "buyer_name", "amount", "cancel_amount", "pg_provider", "vbank_name",
            "paid_at", "pay_method", "status"]
    df = pd.DataFrame.from_records(rows, columns=cols)
    df = df[(df["pay_method"] == "vbank") & (df["status"] == "paid")].copy()
    for c in ("amount", "cancel_amount"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
    df["refundable"] = df["amount"] - df["cancel_amount"]
    df = df[df["refundable"] > 0]
    df["paid_at"] = pd.to_datetime(df["paid_at"], unit="s", utc=True).dt.tz_convert(KST)
    for c in ("imp_uid", "merchant_uid", "buyer_name", "pg_provider", "vbank_name"):
        df[c] = df[c].fillna("").astype(str)
    return df.drop(columns=["pay_method", "status"]).sort_values("paid_at", ascending=False).reset_index(drop=True)


def normalize_name(name: str) -> str:
    """Lenient comparison of account holder names: spaces and letter case do not matter."""
    return "".join((name or "").split()).casefold()


def holder_matches(typed: str, looked_up: str) -> bool:
    return bool(normalize_name(typed)) and normalize_name(typed) == normalize_name(looked_up)


def holder_check_key(bank_code: str, account: str, holder: str) -> tuple[str, str, str]:
    """A holder check is valid only for exactly these fields; any change makes it stale."""
    return (bank_code, digits_only(account), normalize_name(holder))


def typed_amount_ok(typed: str, amount: int) -> bool:
    digits = digits_only(typed or "")
    return bool(digits) and int(digits) == amount


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
