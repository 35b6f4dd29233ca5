"""A payment's status as the finance team says it: 입금대기, 기한 경과, 결제완료, 부분취소, 전액취소, 발급취소, 실패.

The API has four statuses (ready, paid, cancelled, failed); a person needs seven. From a payment's own fields:

* ``ready`` past its ``vbank_date`` → 기한 경과 (overdue: the customer can no longer pay into it);
* ``paid`` with part of it refunded (``0 < cancel_amount < amount``) → 부분취소;
* ``paid`` with a PortOne V2 refund requested and not yet done (``cancel_requested_amount``) → 결제완료 · 환불 요청됨;
* ``cancelled`` after money came in (``paid_at``, or a refund in ``cancel_history``) → 전액취소;
* ``cancelled`` with nothing ever paid in (a virtual account closed: DELETE /vbanks) → 발급취소.

One function for a payment (``code`` / ``name``) and one for a column of payments (``column``), used by lists, the
search and the exports alike. Pure: no Streamlit, no HTTP.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from lib.domain.clock import KST, now_kst
from lib.domain.i18n import N_, _

CODES = ("ready", "overdue", "paid", "partial", "requested", "cancelled", "revoked", "failed")


NAMES = {"ready": N_("Awaiting deposit"), "overdue": N_("Overdue"), "paid": N_("Paid"),
         "partial": N_("Partially cancelled"), "requested": N_("Paid · refund requested"),
         "cancelled": N_("Fully cancelled"),
         "revoked": N_("Account cancelled (not paid)"), "failed": N_("Failed")}


def _when(v: Any) -> datetime | None:
    """A time from the API (UNIX seconds, 0 for none) or a model (datetime)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, datetime):
        return v
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    try:
        n = int(v)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(n, KST) if n > 0 else None


def code(status: str | None, *, amount: int | None = 0, cancel_amount: int | None = 0, paid_at: Any = None,
         vbank_date: Any = None, pay_method: str | None = "vbank", cancel_history: Any = None,
         now: datetime | None = None, cancel_requested_amount: int | None = 0) -> str:
    """The person's status code of one payment (see the module's docstring); an unknown API status as it is."""
    s = (status or "").strip()
    if s == "ready":
        due = _when(vbank_date)
        return "overdue" if due is not None and due < (now or now_kst()) else "ready"
    if s == "paid":
        if int(cancel_requested_amount or 0) > 0:          # PortOne V2: a refund the PG has not carried out yet
            return "requested"
        return "partial" if 0 < int(cancel_amount or 0) < int(amount or 0) else "paid"
    if s == "cancelled":
        money_came_in = _when(paid_at) is not None or bool(cancel_history)
        return "revoked" if (pay_method in (None, "", "vbank") and not money_came_in) else "cancelled"
    return s


def of_payment(p: Any, now: datetime | None = None) -> str:
    """``code`` of a lib.domain.models.Payment (or any object with the API's fields)."""
    return code(p.status, amount=p.amount, cancel_amount=p.cancel_amount, paid_at=p.paid_at,
                vbank_date=getattr(p, "vbank_date", None), pay_method=getattr(p, "pay_method", None),
                cancel_history=getattr(p, "cancel_history", None), now=now,
                cancel_requested_amount=int((getattr(p, "model_extra", None) or {}).get("cancel_requested_amount")
                                            or getattr(p, "cancel_requested_amount", 0) or 0))


def label(c: str | None) -> str:
    """입금대기 / 기한 경과 / … for a code of ``code``; an unknown code as it is, none as —."""
    if not c:
        return "—"
    return _(NAMES[c]) if c in NAMES else c


def name(status: str | None, **fields: Any) -> str:
    """The person's status of one payment in words (``code``'s arguments)."""
    return label(code(status, **fields))


def name_of(p: Any, now: datetime | None = None) -> str:
    return label(of_payment(p, now))


def _times(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out: pd.Series = s.dt.tz_convert(KST) if getattr(s.dt, "tz", None) is not None else s.dt.tz_localize(KST)
        return out
    n = pd.to_numeric(s, errors="coerce")
    return pd.to_datetime(n.where(n > 0), unit="s", utc=True).dt.tz_convert(KST)


def column(df: pd.DataFrame, now: datetime | None = None) -> pd.Series:
    """``code`` of every row of a frame with the API's columns (status, amount, cancel_amount, paid_at, vbank_date,
    pay_method; the times as UNIX seconds or datetimes; missing columns read as empty), vectorised."""
    n = len(df)

    def col(name: str, default: Any) -> pd.Series:
        return df[name] if name in df else pd.Series([default] * n, index=df.index)
    status = col("status", "").fillna("").astype(str)
    amount = pd.to_numeric(col("amount", 0), errors="coerce").fillna(0)
    cancel = pd.to_numeric(col("cancel_amount", 0), errors="coerce").fillna(0)
    paid = _times(col("paid_at", 0))
    due = _times(col("vbank_date", 0))
    method = col("pay_method", "vbank").fillna("").astype(str)
    now_ts = pd.Timestamp(now or now_kst())
    out = status.copy()
    out[(status == "ready") & due.notna() & (due < now_ts)] = "overdue"
    out[(status == "paid") & (cancel > 0) & (cancel < amount)] = "partial"
    asked = pd.to_numeric(col("cancel_requested_amount", 0), errors="coerce").fillna(0)
    out[(status == "paid") & (asked > 0)] = "requested"
    cancelled = status == "cancelled"
    revoked = cancelled & paid.isna() & (cancel <= 0) & method.isin(["vbank", ""])
    out[revoked] = "revoked"
    return out.astype(object)


def labels(codes: pd.Series) -> pd.Series:
    """``label`` of a column of codes, each distinct code translated once."""
    out: pd.Series = codes.map({c: label(c) for c in codes.dropna().unique()}).fillna("—")
    return out
