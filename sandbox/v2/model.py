"""PortOne V2 payment documents and their state changes, with the JSON field names of the official SDK's types
(``portone_server_sdk._generated.payment``: Payment and its statuses, PaymentAmount, PaymentCancellation,
PaymentMethodVirtualAccount, SelectedChannel, PaymentEvent). Keys starting with ``_`` are the sandbox's own
(epoch seconds for filtering and ordering) and never leave it.
"""

from __future__ import annotations

from datetime import datetime, timezone

DAY = 86400
MERCHANT_ID = "merchant-sandbox"
REMITTEE = "(주)브이뱅크상점"

# The V2 PgProvider values seeded, with the names a person knows them by (channel names).
PGS: dict[str, str] = {
    "INICIS_V2": "KG이니시스", "KCP_V2": "NHN KCP", "TOSSPAYMENTS": "토스페이먼츠", "NICE_V2": "나이스페이먼츠",
    "KSNET": "KSNET", "SMARTRO_V2": "스마트로",
}
# Virtual-account banks seeded (V2 Bank enum values).
VA_BANKS = ["SHINHAN", "KOOKMIN", "WOORI", "HANA", "NONGHYUP", "IBK", "BUSAN", "DAEGU", "POST", "KFCC"]
# The V2 Bank enum (portone_server_sdk._generated.common.bank): what refundAccount.bank accepts.
BANKS = frozenset("""BANK_OF_KOREA KDB IBK KOOKMIN SUHYUP KEXIM NONGHYUP LOCAL_NONGHYUP WOORI STANDARD_CHARTERED CITI
SUHYUP_FEDERATION DAEGU BUSAN KWANGJU JEJU JEONBUK KYONGNAM KFCC SHINHYUP SAVINGS_BANK MORGAN_STANLEY HSBC DEUTSCHE JPMC
MIZUHO MUFG BANK_OF_AMERICA BNP_PARIBAS ICBC BANK_OF_CHINA NFCF UOB BOCOM CCB POST KODIT KIBO HANA SHINHAN K_BANK KAKAO
TOSS MISC_FOREIGN SGI KCIS""".split())
METHOD_TYPES = {"PaymentMethodVirtualAccount": "VIRTUAL_ACCOUNT", "PaymentMethodCard": "CARD"}
STATUSES = ("READY", "PENDING", "VIRTUAL_ACCOUNT_ISSUED", "PAID", "FAILED", "PARTIAL_CANCELLED", "CANCELLED")


def iso(ts: float) -> str:
    """RFC 3339 in UTC with milliseconds, as the API writes its times."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: object) -> float:
    """An RFC 3339 date-time (``Z`` or an offset) as epoch seconds; ValueError otherwise."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"not an RFC 3339 date-time: {str(value)[:40]}")
    d = datetime.fromisoformat(value)
    if d.tzinfo is None:
        raise ValueError(f"date-time without a time zone: {value[:40]}")
    return d.timestamp()


def vat_of(amount: int) -> int:
    return round(amount / 11)


def public(p: dict) -> dict:
    """The document as the API shows it (without the sandbox's own keys)."""
    return {k: v for k, v in p.items() if not k.startswith("_")}


def method_type(p: dict) -> str:
    return p["_method"]


def pending_amount(p: dict) -> int:
    return sum(c["totalAmount"] for c in p.get("cancellations", []) if c["status"] == "REQUESTED")


def cancellable(p: dict) -> int:
    """What a cancel may still take: paid, less what was cancelled and what is requested and not yet done."""
    a = p["amount"]
    return a["paid"] - a["cancelled"] - pending_amount(p)


def touch(p: dict, at: float) -> None:
    p["updatedAt"] = iso(at)
    p["_updated"] = at


def set_status(p: dict, status: str, at: float) -> None:
    p["status"] = status
    p["statusChangedAt"] = iso(at)
    p["_status_changed"] = at
    touch(p, at)


def new_payment(*, payment_id: str, transaction_id: str, store_id: str, pg: str, method: str, amount: int,
                requested: float, order_name: str, customer: dict, platform: str, seq: int) -> dict:
    vat = vat_of(amount)
    return {
        "status": "READY", "id": payment_id, "transactionId": transaction_id, "merchantId": MERCHANT_ID,
        "storeId": store_id,
        "channel": {"type": "LIVE", "id": f"channel-id-{pg.lower()}", "key": f"channel-key-{pg.lower()}",
                    "name": f"{PGS.get(pg, pg)} {'가상계좌' if method == 'VIRTUAL_ACCOUNT' else '카드'}",
                    "pgProvider": pg, "pgMerchantId": f"MID_{pg}"},
        "version": "V2", "requestedAt": iso(requested), "updatedAt": iso(requested),
        "statusChangedAt": iso(requested), "orderName": order_name,
        "amount": {"total": amount, "taxFree": 0, "vat": vat, "supply": amount - vat, "discount": 0, "paid": 0,
                   "cancelled": 0, "cancelledTaxFree": 0},
        "currency": "KRW", "customer": customer,
        "origin": {"platformType": platform, "ipAddress": f"203.0.113.{seq % 250 + 1}",
                   "userAgent": "Mozilla/5.0 (sandbox)"},
        "webhooks": [],
        "_method": method, "_requested": requested, "_status_changed": requested, "_updated": requested,
        "_seq": seq,
    }


def issue_virtual_account(p: dict, *, bank: str, number: str, expires: float, at: float) -> None:
    p["method"] = {"type": "PaymentMethodVirtualAccount", "accountNumber": number, "bank": bank,
                   "accountType": "NORMAL", "remitteeName": REMITTEE, "expiredAt": iso(expires), "issuedAt": iso(at)}
    p["pgTxId"] = f"{p['channel']['pgProvider'][:4]}{int(at)}{p['_seq']:05d}"
    p["_expires"] = expires
    set_status(p, "VIRTUAL_ACCOUNT_ISSUED", at)


def mark_paid(p: dict, at: float) -> None:
    """Paid (a deposit into the virtual account, or a card's approval)."""
    p["amount"]["paid"] = p["amount"]["total"]
    p["paidAt"] = iso(at)
    p["disputes"] = []
    p["receiptUrl"] = f"https://sandbox-v2.receipt.local/{p['id']}"
    p.setdefault("pgTxId", f"{p['channel']['pgProvider'][:4]}{int(at)}{p['_seq']:05d}")
    if p["_method"] == "VIRTUAL_ACCOUNT":
        p["method"]["remitterName"] = p["customer"].get("name") or "입금자"
    set_status(p, "PAID", at)


def mark_failed(p: dict, at: float, reason: str) -> None:
    p["failedAt"] = iso(at)
    p["failure"] = {"reason": reason, "pgCode": "F001", "pgMessage": reason}
    set_status(p, "FAILED", at)


def close_account(p: dict, at: float) -> None:
    """A virtual account closed (말소) before any deposit: the payment is cancelled with nothing refunded."""
    p["cancellations"] = p.get("cancellations", [])
    p["cancelledAt"] = iso(at)
    p["_closed"] = at
    set_status(p, "CANCELLED", at)


def new_cancellation(p: dict, *, amount: int, tax_free: int, reason: str, at: float, requested: bool) -> dict:
    n = len(p.get("cancellations", [])) + 1
    c = {"status": "REQUESTED" if requested else "SUCCEEDED", "id": f"cancel-{p['id']}-{n}",
         "pgCancellationId": f"{p.get('pgTxId', p['id'])}C{n}", "totalAmount": amount, "taxFreeAmount": tax_free,
         "vatAmount": vat_of(amount - tax_free), "reason": reason, "requestedAt": iso(at), "trigger": "API"}
    p.setdefault("cancellations", []).append(c)
    if p["_method"] == "VIRTUAL_ACCOUNT":
        p["method"]["refundStatus"] = "PENDING" if requested else "COMPLETED"
    touch(p, at)
    return c


def succeed_cancellation(p: dict, c: dict, at: float) -> str:
    """The cancellation done: the payment's cancelled amount and status follow. Returns the event type."""
    c["status"] = "SUCCEEDED"
    c["cancelledAt"] = iso(at)
    c["receiptUrl"] = f"https://sandbox-v2.receipt.local/{p['id']}/cancel/{c['id']}"
    p["amount"]["cancelled"] += c["totalAmount"]
    p["amount"]["cancelledTaxFree"] += c["taxFreeAmount"]
    p["cancelledAt"] = iso(at)
    if p["_method"] == "VIRTUAL_ACCOUNT" and not pending_amount(p):
        p["method"]["refundStatus"] = "COMPLETED"
    kind = "CANCELLED" if p["amount"]["cancelled"] >= p["amount"]["paid"] else "PARTIAL_CANCELLED"
    set_status(p, kind, at)
    return kind


def fail_cancellation(p: dict, c: dict, at: float) -> None:
    c["status"] = "FAILED"
    c["cancelledAt"] = iso(at)
    c.pop("receiptUrl", None)
    if p["_method"] == "VIRTUAL_ACCOUNT" and not pending_amount(p):
        p["method"]["refundStatus"] = "PARTIAL_REFUND_FAILED" if p["amount"]["cancelled"] else "FAILED"
    touch(p, at)


def event(p: dict, kind: str, at: float, amount: int, cancellation: dict | None = None) -> dict:
    """A payment event (PaidPaymentEvent / PartialCancelledPaymentEvent / CancelledPaymentEvent) as of now."""
    e = {"type": kind, "id": "", "paymentId": p["id"], "transactionId": p["transactionId"],
         "merchantId": p["merchantId"], "storeId": p["storeId"], "channel": p["channel"], "version": "V2",
         "requestedAt": p["requestedAt"], "createdAt": iso(at), "orderName": p["orderName"],
         "totalAmount": dict(p["amount"]), "currency": "KRW", "customer": p["customer"], "eventAmount": amount,
         "origin": p["origin"], "method": dict(p["method"]) if "method" in p else None,
         "pgTxId": p.get("pgTxId"), "receiptUrl": p.get("receiptUrl"), "_created": at}
    if kind == "PAID":
        e["disputes"] = []
    if cancellation is not None:
        e["cancellation"] = dict(cancellation)
    return {k: v for k, v in e.items() if v is not None}
