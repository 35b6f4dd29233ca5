"""The V2 list reads: GET /payments (PaymentFilterInput, PageInput) and the cursor reads over payments (by creation
time) and payment events (by their time). Filters the sandbox does not implement are refused with 400, never
ignored, so a caller never takes an unfiltered list for a filtered one."""

from __future__ import annotations

import base64

from . import model as m
from .errors import V2Error

DAY = 86400
PLATFORMS = {"SDK_PC": "PC", "SDK_MOBILE": "MOBILE", "API": "API"}
METHOD_TYPES = {"CARD", "TRANSFER", "VIRTUAL_ACCOUNT", "GIFT_CERTIFICATE", "MOBILE", "EASY_PAY", "CONVENIENCE_STORE",
                "CRYPTO"}
UNSUPPORTED = ("webhookStatus", "escrowStatus", "cardBrand", "cardType", "cardOwnerType", "giftCertificateType",
               "cashReceiptType", "cashReceiptStatus", "cashReceiptIssuedAtRange", "cashReceiptCancelledAtRange")


def _time(value: object, name: str) -> float:
    try:
        return m.parse_time(value)
    except ValueError:
        raise V2Error("INVALID_REQUEST", f"{name}: RFC 3339 날짜-시간 형식이 아닙니다.")


def _int(value: object, name: str, default: int, lo: int, hi: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise V2Error("INVALID_REQUEST", f"{name}는 {lo} 이상 {hi} 이하의 정수여야 합니다.")
    return value


def _list(value: object, name: str, allowed: set[str] | None = None) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise V2Error("INVALID_REQUEST", f"{name}는 문자열 목록이어야 합니다.")
    bad = [v for v in value if allowed is not None and v not in allowed]
    if bad:
        raise V2Error("INVALID_REQUEST", f"{name}에 알 수 없는 값이 있습니다: {', '.join(bad)[:80]}")
    return value


def range_of(body: dict, now: float) -> tuple[float, float]:
    until = _time(body["until"], "until") if body.get("until") is not None else now
    start = _time(body["from"], "from") if body.get("from") is not None else until - 90 * DAY
    return start, until


def _text(p: dict, field: str) -> list[str]:
    meth, cust = p.get("method") or {}, p["customer"]
    fields = {"PAYMENT_ID": [p["id"]], "TX_ID": [p["transactionId"]], "ORDER_NAME": [p["orderName"]],
              "CUSTOMER_NAME": [cust.get("name")], "CUSTOMER_EMAIL": [cust.get("email")],
              "CUSTOMER_PHONE_NUMBER": [cust.get("phoneNumber")], "PG_TX_ID": [p.get("pgTxId")],
              "PG_MERCHANT_ID": [p["channel"]["pgMerchantId"]], "VIRTUAL_ACCOUNT_NUMBER": [meth.get("accountNumber")],
              "VIRTUAL_ACCOUNT_BANK": [meth.get("bank")], "VIRTUAL_ACCOUNT_HOLDER_NAME": [meth.get("remitterName")],
              "FAIL_REASON": [(p.get("failure") or {}).get("reason")],
              "CANCEL_REASON": [c["reason"] for c in p.get("cancellations", [])]}
    if field == "ALL":
        return [v for vs in fields.values() for v in vs if v]
    if field not in fields:
        raise V2Error("INVALID_REQUEST", f"샌드박스가 지원하지 않는 textSearch.field입니다: {field[:40]}")
    return [v for v in fields[field] if v]


def filtered(payments: list[dict], f: dict, store_id: str, now: float) -> list[dict]:
    """The payments PaymentFilterInput ``f`` selects, sorted by its sortBy / sortOrder."""
    for k in UNSUPPORTED:
        if f.get(k) is not None:
            raise V2Error("INVALID_REQUEST", f"샌드박스가 지원하지 않는 필터입니다: {k}")
    if f.get("storeId") is not None and f["storeId"] != store_id:
        raise V2Error("FORBIDDEN", "접근 권한이 없는 상점 아이디입니다.")
    ts_type = f.get("timestampType") or "STATUS_CHANGED_AT"
    if not isinstance(ts_type, str) or ts_type not in ("CREATED_AT", "STATUS_CHANGED_AT"):
        raise V2Error("INVALID_REQUEST", "timestampType은 CREATED_AT 또는 STATUS_CHANGED_AT입니다.")
    key = "_requested" if ts_type == "CREATED_AT" else "_status_changed"
    start, until = range_of(f, now)
    statuses = _list(f.get("status"), "status", set(m.STATUSES))
    methods = _list(f.get("methods"), "methods", METHOD_TYPES)
    pgs = _list(f.get("pgProvider"), "pgProvider")
    texts = f.get("textSearch") or []
    if not isinstance(texts, list) or not all(isinstance(t, dict) and isinstance(t.get("value"), str)
                                              and isinstance(t.get("field"), str) for t in texts):
        raise V2Error("INVALID_REQUEST", "textSearch는 {field, value} 목록이어야 합니다.")
    platform = f.get("platformType")
    if platform is not None and (not isinstance(platform, str) or platform not in PLATFORMS):
        raise V2Error("INVALID_REQUEST", "platformType은 SDK_PC, SDK_MOBILE, API 중 하나입니다.")

    def keep(p: dict) -> bool:
        if not start <= p[key] <= until:
            return False
        if statuses is not None and p["status"] not in statuses:
            return False
        if methods is not None and p["_method"] not in methods:
            return False
        if pgs is not None and p["channel"]["pgProvider"] not in pgs:
            return False
        if f.get("merchantId") is not None and f["merchantId"] != p["merchantId"]:
            return False
        if f.get("isTest") is not None and f["isTest"] != (p["channel"]["type"] == "TEST"):
            return False
        if f.get("isScheduled") is True or f.get("isEscrow") is True:
            return False
        if f.get("version") is not None and f["version"] != p["version"]:
            return False
        if f.get("currency") is not None and f["currency"] != p["currency"]:
            return False
        if platform is not None and PLATFORMS[platform] != p["origin"]["platformType"]:
            return False
        return all(any(t["value"] in v for v in _text(p, t["field"])) for t in texts)

    out = [p for p in payments if keep(p)]
    sort_by = f.get("sortBy") or "REQUESTED_AT"
    order = f.get("sortOrder") or "DESC"
    if not isinstance(sort_by, str) or not isinstance(order, str) or sort_by not in ("REQUESTED_AT", "STATUS_CHANGED_AT") \
            or order not in ("ASC", "DESC"):
        raise V2Error("INVALID_REQUEST", "sortBy / sortOrder 값이 올바르지 않습니다.")
    sk = "_requested" if sort_by == "REQUESTED_AT" else "_status_changed"
    out.sort(key=lambda p: (p[sk], p["_seq"]), reverse=order == "DESC")
    return out


def page(payments: list[dict], body: dict, store_id: str, now: float) -> dict:
    pg = body.get("page") or {}
    f = body.get("filter") or {}
    if not isinstance(pg, dict) or not isinstance(f, dict):
        raise V2Error("INVALID_REQUEST", "page와 filter는 객체여야 합니다.")
    number = _int(pg.get("number"), "page.number", 0, 0, 10**6)
    size = _int(pg.get("size"), "page.size", 10, 1, 1000)
    rows = filtered(payments, f, store_id, now)
    chunk = rows[number * size:(number + 1) * size]
    return {"items": [m.public(p) for p in chunk], "page": {"number": number, "size": size, "totalCount": len(rows)}}


def encode_cursor(*parts: float | int) -> str:
    return base64.urlsafe_b64encode(":".join(str(int(x)) for x in parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: object, n: int) -> tuple[int, ...]:
    try:
        if not isinstance(cursor, str):
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = tuple(int(x) for x in raw.split(":"))
        if len(parts) != n:
            raise ValueError
        return parts
    except ValueError:
        raise V2Error("INVALID_REQUEST", "cursor 값이 올바르지 않습니다.")


def payments_by_cursor(payments: list[dict], body: dict, now: float) -> dict:
    """Every payment created in [from, until], oldest first; each item's cursor resumes after it."""
    start, until = range_of(body, now)
    size = _int(body.get("size"), "size", 10, 1, 1000)
    rows = sorted((p for p in payments if start <= p["_requested"] <= until), key=lambda p: (p["_requested"], p["_seq"]))
    if body.get("cursor") is not None:
        after = decode_cursor(body["cursor"], 2)
        rows = [p for p in rows if (int(p["_requested"]), p["_seq"]) > after]
    return {"items": [{"payment": m.public(p), "cursor": encode_cursor(p["_requested"], p["_seq"])}
                      for p in rows[:size]]}


def events_by_cursor(events: list[dict], body: dict, now: float) -> dict:
    """Every payment event created in [from, until], in the order they happened."""
    start, until = range_of(body, now)
    size = _int(body.get("size"), "size", 10, 1, 1000)
    after = decode_cursor(body["cursor"], 1)[0] if body.get("cursor") is not None else 0
    rows = [e for e in events if start <= e["_created"] <= until and e["_seq"] > after]
    return {"items": [{"paymentEvent": m.public(e), "cursor": encode_cursor(e["_seq"])} for e in rows[:size]]}
