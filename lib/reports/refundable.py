"""Refund wizard helpers that are not the write itself: the list of refundable payments, the holder check and
the typed confirmation. How the fee impact is presented lives on the UI side (lib/ui/present.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
import pandas as pd
import pyarrow as pa
from lib.domain.fmt import digits_only
from lib.domain import pg_rules
from lib.domain.clock import KST
from lib.domain.models import Payment
from lib.domain.rules import RefundRequest, Seen, normalize_name
from lib.reports import columnar


PAID_COLUMNS = ["imp_uid", "merchant_uid", "buyer_name", "amount", "cancel_amount", "pg_provider", "vbank_name",
                "paid_at", "pay_method", "status"]


def paid_vbank_frame(rows: pa.Table | list[dict]) -> pd.DataFrame:
    """Paid virtual-account payments that still have a refundable balance."""
    df = columnar.frame(rows, PAID_COLUMNS)
    df = df[(df["pay_method"] == "vbank") & (df["status"] == "paid")].copy()
    for c in ("amount", "cancel_amount"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
    df["refundable"] = df["amount"] - df["cancel_amount"]
    df = df[df["refundable"] > 0]
    df.attrs["not_refundable_here"] = int(df["pg_provider"].isin(pg_rules.NO_VBANK_REFUND).sum())
    df = df[~df["pg_provider"].isin(pg_rules.NO_VBANK_REFUND)]      # Danal: refunded outside the API (said on the page)
    df["paid_at"] = pd.to_datetime(df["paid_at"], unit="s", utc=True).dt.tz_convert(KST)
    for c in ("imp_uid", "merchant_uid", "buyer_name", "pg_provider", "vbank_name"):
        df[c] = df[c].fillna("").astype(str)
    return df.drop(columns=["pay_method", "status"]).sort_values("paid_at", ascending=False).reset_index(drop=True)


def holder_check_key(bank_code: str, account: str, holder: str) -> tuple[str, str, str]:
    """A holder check is valid only for exactly these fields; any change makes it stale."""
    return (bank_code, digits_only(account), normalize_name(holder))


def typed_amount_ok(typed: str, amount: int) -> bool:
    digits = digits_only(typed or "")
    return bool(digits) and int(digits) == amount


@dataclass
class RefundDraft:
    """The refund wizard's answers, step by step (kept in the session; the send re-checks everything)."""

    step: int = 1
    imp_uid: str = ""
    payment: dict | None = None            # the payment as chosen in step 1 (the API's fields)
    seen: Seen | None = None
    amount: int | None = None
    reason_code: str | None = None
    note: str = ""
    tax_free: int | None = None
    vat_amount: int | None = None
    holder: str = ""
    bank: str | None = None
    account: str = ""
    tel: str = ""
    holder_check: dict | None = None       # {"key", "name", "ok", "error"?}
    holder_override: str = ""              # why to send although the bank's name differs / the check failed
    action: str | None = None              # one id per confirmation: the send happens once for it
    extra: dict = field(default_factory=dict)

    def chosen(self) -> Payment:
        return Payment.model_validate(self.payment)

    def request(self) -> RefundRequest:
        return RefundRequest(imp_uid=self.imp_uid, amount=int(self.amount or 0), reason_code=self.reason_code or "",
                             note=self.note, refund_holder=self.holder, refund_bank=self.bank or "",
                             refund_account=self.account, refund_tel=self.tel, tax_free=self.tax_free,
                             vat_amount=self.vat_amount, holder_override=self.holder_override)

    def holder_needs_reason(self) -> bool:
        """The current check did not confirm the name (it differs, or the lookup failed)."""
        chk = self.holder_check
        return bool(chk and not chk.get("ok")
                    and chk.get("key") == holder_check_key(self.bank or "", self.account, self.holder))

    def holder_mismatch(self) -> str | None:
        """The bank's name for the account when it differs from the holder typed and the check is current."""
        chk = self.holder_check
        if chk and chk.get("name") and not chk.get("ok") and \
                chk.get("key") == holder_check_key(self.bank or "", self.account, self.holder):
            return chk["name"]
        return None
