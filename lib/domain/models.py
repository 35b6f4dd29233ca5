"""Pydantic v2 models of the V1 API objects vbank-desk uses.

Timestamps arrive as UNIX seconds (0 means "none") and become timezone-aware
datetimes in Asia/Seoul; amounts are integer KRW. Unknown fields are kept
(``extra="allow"``) so a new API field never breaks a page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, List

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from lib.domain.clock import KST


def _to_kst(value: Any) -> datetime | None:
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, datetime):
        return value.astimezone(KST)
    return datetime.fromtimestamp(int(float(value)), tz=KST)


def _to_int_amount(value: Any) -> int:
    if value is None or value == "":
        return 0
    f = float(value)
    if f != int(f):
        raise ValueError(f"amount {value!r} is not a whole number of won")
    return int(f)


Timestamp = Annotated[
    datetime | None,
    BeforeValidator(_to_kst),
    PlainSerializer(lambda d: int(d.timestamp()) if d else 0, return_type=int),
]


Won = Annotated[int, BeforeValidator(_to_int_amount)]


class CancelHistory(BaseModel):
    model_config = ConfigDict(extra="allow")
    pg_tid: str | None = None
    amount: Won = 0
    cancelled_at: Timestamp = None
    reason: str | None = None
    cancellation_id: str | None = None
    receipt_url: str | None = None


class Promotion(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    discount: float | None = None


class Payment(BaseModel):
    """PaymentAnnotation: every field of the official spec."""

    model_config = ConfigDict(extra="allow")
    imp_uid: str
    merchant_uid: str
    pay_method: str | None = None
    channel: str | None = None
    pg_provider: str | None = None
    emb_pg_provider: str | None = None
    pg_tid: str | None = None
    pg_id: str | None = None
    escrow: bool | None = None
    apply_num: str | None = None
    bank_code: str | None = None
    bank_name: str | None = None
    card_code: str | None = None
    card_name: str | None = None
    card_issuer_code: str | None = None
    card_issuer_name: str | None = None
    card_publisher_code: str | None = None
    card_publisher_name: str | None = None
    card_quota: int | None = None
    card_number: str | None = None
    card_type: int | None = None
    vbank_code: str | None = None
    vbank_name: str | None = None
    vbank_num: str | None = None
    vbank_holder: str | None = None
    vbank_date: Timestamp = None
    vbank_issued_at: Timestamp = None
    name: str | None = None
    amount: Won
    cancel_amount: Won = 0
    currency: str | None = "KRW"
    buyer_name: str | None = None
    buyer_email: str | None = None
    buyer_tel: str | None = None
    buyer_addr: str | None = None
    buyer_postcode: str | None = None
    custom_data: str | None = None
    user_agent: str | None = None
    status: str
    started_at: Timestamp = None
    paid_at: Timestamp = None
    failed_at: Timestamp = None
    cancelled_at: Timestamp = None
    fail_reason: str | None = None
    cancel_reason: str | None = None
    receipt_url: str | None = None
    cancel_history: list[CancelHistory] = Field(default_factory=list)
    cancel_receipt_urls: list[str] = Field(default_factory=list)
    cash_receipt_issued: bool | None = None
    customer_uid: str | None = None
    customer_uid_usage: str | None = None
    promotion: Promotion | None = None

    @property
    def refundable(self) -> int:
        """Refundable balance: amount - cancel_amount (the refund ``checksum``)."""
        return self.amount - self.cancel_amount

    @property
    def is_vbank(self) -> bool:
        return self.pay_method == "vbank"


class PaymentPage(BaseModel):
    """PagedPaymentAnnotation."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    total: int
    previous: int = 0
    next: int = 0
    payments: List[Payment] = Field(default_factory=lambda: [], alias="list")


class Token(BaseModel):
    """AuthAnnotation: the server's clock (``now``) says how long it lives."""

    access_token: str
    expired_at: int
    now: int

    @property
    def lifetime(self) -> int:
        return self.expired_at - self.now

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(expired_at={self.expired_at}, now={self.now})"

    __str__ = __repr__


class Bank(BaseModel):
    code: str
    name: str
