"""Refund wizard helpers that are not the write itself: the list of refundable payments and the typed confirmation
(the wizard's state, ``RefundDraft``, lives beside the wizard: lib/ui/refund_draft.py; the holder check in
lib/domain/holder_check.py). How the fee impact is presented lives on the UI side (lib/ui/present.py)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from lib.domain import pg_rules
from lib.domain.clock import KST
from lib.domain.fmt import digits_only
from lib.domain.holder_check import holder_check_key  # noqa: F401  (kept here: the wizard's helpers' old home)
from lib.reports import columnar

PAID_COLUMNS = ["imp_uid", "merchant_uid", "buyer_name", "amount", "cancel_amount", "pg_provider", "vbank_name",
                "paid_at", "pay_method", "status", "cancel_requested_amount"]


def paid_vbank_frame(rows: pa.Table | list[dict]) -> pd.DataFrame:
    """Paid virtual-account payments that still have a refundable balance."""
    df = columnar.frame(rows, [*PAID_COLUMNS, "api"])
    df["api"] = df["api"].astype(object).fillna("v1").astype(str)     # the API version (listing(with_api=True))
    df = df[(df["pay_method"] == "vbank") & (df["status"] == "paid")].copy()
    for c in ("amount", "cancel_amount", "cancel_requested_amount"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
    # A V2 refund requested and not yet done is not refundable again (the wizard refuses a second one meanwhile).
    df = df[df["cancel_requested_amount"] <= 0]
    df["refundable"] = df["amount"] - df["cancel_amount"]
    df = df[df["refundable"] > 0]
    df.attrs["not_refundable_here"] = int(df["pg_provider"].isin(pg_rules.NO_VBANK_REFUND).sum())
    df = df[~df["pg_provider"].isin(pg_rules.NO_VBANK_REFUND)]      # Danal: refunded outside the API (said on the page)
    df["paid_at"] = pd.to_datetime(df["paid_at"], unit="s", utc=True).dt.tz_convert(KST)
    for c in ("imp_uid", "merchant_uid", "buyer_name", "pg_provider", "vbank_name"):
        df[c] = df[c].fillna("").astype(str)
    return df.drop(columns=["pay_method", "status"]).sort_values("paid_at", ascending=False).reset_index(drop=True)


def typed_amount_ok(typed: str, amount: int) -> bool:
    digits = digits_only(typed or "")
    return bool(digits) and int(digits) == amount
