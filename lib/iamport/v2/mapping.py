"""A PortOne V2 payment (the official SDK's objects) as the desk's V1-shaped payment: the same fields, words and
units the pages, reports and rules already read, plus what only V2 has as extras (``api_version``, ``v2_status``,
``transaction_id``, ``cancel_requests``).

* ids: ``imp_uid`` = ``merchant_uid`` = the V2 ``paymentId`` (V2 has one id the merchant chooses);
* status: READY / VIRTUAL_ACCOUNT_ISSUED / PENDING → ready, PAID / PARTIAL_CANCELLED → paid (with ``cancel_amount``),
  CANCELLED → cancelled, FAILED → failed (a closed virtual account reads failed in V2);
* PG: the V2 ``PgProvider`` as the desk's PG code (lib/domain/portone_v2.PG_PROVIDERS);
* the account: bank (V2 ``Bank`` enum → KFTC code and Korean name), number, holder, due (``expiredAt``);
* amounts from ``amount.total`` / ``amount.cancelled``; ``cancel_history`` = the SUCCEEDED cancellations; those still
  REQUESTED (an asynchronous cancel) are ``cancel_requests`` with their sum in ``cancel_requested_amount``;
* times as UNIX seconds (RFC 3339 in V2, nanoseconds cut to microseconds).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from portone_server_sdk.payment import (
    CancelledPayment,
    FailedPayment,
    FailedPaymentCancellation,
    PaidPayment,
    PartialCancelledPayment,
    PaymentMethodCard,
    PaymentMethodEasyPay,
    PaymentMethodMobile,
    PaymentMethodTransfer,
    PaymentMethodVirtualAccount,
    PayPendingPayment,
    ReadyPayment,
    RequestedPaymentCancellation,
    SucceededPaymentCancellation,
    VirtualAccountIssuedPayment,
)

from lib.domain import banks, portone_v2
from lib.domain.models import Payment

STATUS_OF_TYPE: dict[type, str] = {
    ReadyPayment: "READY", VirtualAccountIssuedPayment: "VIRTUAL_ACCOUNT_ISSUED", PayPendingPayment: "PENDING",
    PaidPayment: "PAID", PartialCancelledPayment: "PARTIAL_CANCELLED", CancelledPayment: "CANCELLED",
    FailedPayment: "FAILED",
}
_METHODS: dict[type, str] = {PaymentMethodVirtualAccount: "vbank", PaymentMethodCard: "card",
                             PaymentMethodTransfer: "trans", PaymentMethodMobile: "phone",
                             PaymentMethodEasyPay: "point"}
_FRACTION = re.compile(r"(\.\d{6})\d+")


class UnknownShape(ValueError):
    """The SDK gave a payment in a shape it does not know (a status newer than this SDK): not mapped."""


def unix(value: str | None) -> int | None:
    """An RFC 3339 time as UNIX seconds (None stays None; a time that cannot be read is None)."""
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("z", "Z"))).timestamp())
    except ValueError:
        return None


def v2_status(p: Any) -> str:
    for cls, status in STATUS_OF_TYPE.items():
        if isinstance(p, cls):
            return status
    raise UnknownShape("a payment of a kind this SDK does not know")


def _cancellation(c: Any) -> dict[str, Any]:
    return {"pg_tid": c.pg_cancellation_id, "amount": c.total_amount,
            "cancelled_at": unix(c.cancelled_at) or unix(c.requested_at), "reason": c.reason,
            "cancellation_id": c.id, "receipt_url": getattr(c, "receipt_url", None)}


def as_dict(p: Any) -> dict[str, Any]:
    """The V2 payment ``p`` (an SDK payment object) as the desk's payment fields (a dict of the listing's schema,
    lib/domain/payment_table.py, plus the V2 extras)."""
    status = v2_status(p)
    method = p.method
    va = method if isinstance(method, PaymentMethodVirtualAccount) else None
    channel = p.channel
    customer = p.customer
    cancellations = list(getattr(p, "cancellations", None) or [])
    done = [c for c in cancellations if isinstance(c, SucceededPaymentCancellation)]
    asked = [c for c in cancellations if isinstance(c, RequestedPaymentCancellation)]
    failure = getattr(p, "failure", None)
    bank_key = portone_v2.BANKS.get(va.bank or "") if va is not None else None
    address = getattr(customer, "address", None)
    return {
        "imp_uid": p.id, "merchant_uid": p.id, "pay_method": next(
            (code for cls, code in _METHODS.items() if isinstance(method, cls)), None),
        "pg_provider": portone_v2.pg_code(channel.pg_provider) if channel is not None else None,
        "pg_tid": getattr(p, "pg_tx_id", None), "pg_id": channel.pg_merchant_id if channel is not None else None,
        # V1's channel (pc / mobile / api) from V2's origin: where the customer paid (MOBILE → mobile, else pc).
        "channel": _channel(getattr(getattr(p, "origin", None), "platform_type", None)),
        "vbank_code": (banks.BANKS[bank_key][2] if bank_key else va.bank) if va is not None else None,
        "vbank_name": (banks.BANKS[bank_key][1] if bank_key else va.bank) if va is not None else None,
        "vbank_num": va.account_number if va is not None else None,
        "vbank_holder": va.remittee_name if va is not None else None,
        "vbank_date": unix(va.expired_at) if va is not None else None,
        "vbank_issued_at": unix(va.issued_at) if va is not None else None,
        "name": p.order_name, "amount": p.amount.total, "cancel_amount": p.amount.cancelled,
        "currency": p.currency, "buyer_name": customer.name, "buyer_email": customer.email,
        "buyer_tel": customer.phone_number, "buyer_addr": getattr(address, "one_line", None),
        "buyer_postcode": customer.zipcode, "custom_data": p.custom_data,
        "status": portone_v2.STATUSES[status],
        "started_at": unix(p.requested_at), "paid_at": unix(getattr(p, "paid_at", None)),
        "failed_at": unix(getattr(p, "failed_at", None)), "cancelled_at": unix(getattr(p, "cancelled_at", None)),
        "fail_reason": (failure.pg_message or failure.reason) if failure is not None else None,
        "cancel_reason": done[-1].reason if done else None,
        "receipt_url": getattr(p, "receipt_url", None),
        "cancel_history": [_cancellation(c) for c in done],
        # V2's own, kept as extras of the desk's payment (lib/domain/models.Payment allows them)
        "api_version": portone_v2.V2, "v2_status": status, "v2_version": p.version, "transaction_id": p.transaction_id,
        "store_id": p.store_id, "v2_pg_provider": channel.pg_provider if channel is not None else None,
        "v2_bank": va.bank if va is not None else None,
        "vbank_refund_status": va.refund_status if va is not None else None,
        "cancel_requests": [{**_cancellation(c), "status": "REQUESTED"} for c in asked],
        "cancel_requested_amount": sum(c.total_amount for c in asked),
        "cancel_failures": [{**_cancellation(c), "status": "FAILED"} for c in cancellations
                            if isinstance(c, FailedPaymentCancellation)],
    }


def to_payment(p: Any) -> Payment:
    """The V2 payment as the desk's typed ``Payment``."""
    return Payment.model_validate(as_dict(p))


def cancel_status(c: Any) -> str:
    """An SDK cancellation's status: ``succeeded``, ``requested`` or ``failed`` (UnknownShape otherwise)."""
    if isinstance(c, SucceededPaymentCancellation):
        return "succeeded"
    if isinstance(c, RequestedPaymentCancellation):
        return "requested"
    if isinstance(c, FailedPaymentCancellation):
        return "failed"
    raise UnknownShape("a cancellation of a kind this SDK does not know")


def _channel(platform: object) -> str | None:
    """V2's ``origin.platformType`` (PC, MOBILE, …) in V1's channel words; None when V2 says nothing."""
    if platform is None:
        return None
    v = str(getattr(platform, "value", platform)).upper()
    return "mobile" if "MOBILE" in v else "pc" if "PC" in v else None
