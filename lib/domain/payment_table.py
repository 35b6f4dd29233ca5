"""The payment as a row of a table: the fields of the API's payment (the spec's PaymentAnnotation) the app reads,
with their Arrow types, and payments given as dicts turned into that table. Lists of payments travel as Arrow
tables of this schema (lib/iamport/columns.py decodes the API's pages straight into it); the typed ``Payment``
model (lib/domain/models.py) stays for single payments and writes."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

# The payment's scalar fields the app reads (the spec's PaymentAnnotation; custom_data, promotion and the receipt
# URL lists are left out), by kind: "s" string, "i" integer, "n" number (KRW: whole won), "b" boolean.
FIELDS: dict[str, str] = {
    "imp_uid": "s", "merchant_uid": "s", "pay_method": "s", "channel": "s", "pg_provider": "s",
    "emb_pg_provider": "s", "pg_tid": "s", "pg_id": "s", "escrow": "b", "apply_num": "s", "bank_code": "s",
    "bank_name": "s", "card_code": "s", "card_name": "s", "card_quota": "i", "card_number": "s", "card_type": "i",
    "vbank_code": "s", "vbank_name": "s", "vbank_num": "s", "vbank_holder": "s", "vbank_date": "i",
    "vbank_issued_at": "i", "name": "s", "amount": "n", "cancel_amount": "n", "currency": "s", "buyer_name": "s",
    "buyer_email": "s", "buyer_tel": "s", "buyer_addr": "s", "buyer_postcode": "s", "status": "s",
    "started_at": "i", "paid_at": "i", "failed_at": "i", "cancelled_at": "i", "fail_reason": "s",
    "cancel_reason": "s", "cash_receipt_issued": "b", "customer_uid": "s", "customer_uid_usage": "s",
}
# Not V1's (the spec's) but the desk's: PortOne V2's refunds requested and not yet done (asynchronous PGs), summed.
# A V1 payment leaves it empty.
EXTRA: dict[str, str] = {"cancel_requested_amount": "n"}
KINDS: dict[str, str] = {**FIELDS, **EXTRA}
# One refund or cancellation of a payment (PaymentCancelAnnotation).
CANCEL_FIELDS: dict[str, str] = {"pg_tid": "s", "amount": "n", "cancelled_at": "i", "reason": "s",
                                 "cancellation_id": "s", "receipt_url": "s"}
ALL = (*KINDS, "cancel_history")

ARROW = {"s": pa.string(), "i": pa.int64(), "n": pa.int64(), "b": pa.bool_()}
CANCEL_TYPE = pa.list_(pa.struct([(k, ARROW[v]) for k, v in CANCEL_FIELDS.items()]))


def schema(fields: tuple[str, ...] = ALL) -> pa.Schema:
    """The table a listing of ``fields`` gives (imp_uid always first: the listing counts and joins by it)."""
    return pa.schema([("cancel_history", CANCEL_TYPE) if f == "cancel_history" else (f, ARROW[KINDS[f]])
                      for f in with_id(fields)])


def with_id(fields: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [f for f in fields if f not in KINDS and f != "cancel_history"]
    if unknown:
        raise ValueError(f"not a listing field: {unknown}")
    return ("imp_uid", *(f for f in dict.fromkeys(fields) if f != "imp_uid"))


def _coerce(v: Any, kind: str) -> Any:
    if v is None or v == "":
        return None if kind != "s" else v
    try:
        if kind == "s":
            return v if isinstance(v, str) else orjson.dumps(v).decode() if isinstance(v, (dict, list)) else str(v)
        if kind in ("i", "n"):
            n = int(v) if isinstance(v, int) else int(float(v))
            return n if -2**63 <= n < 2**63 else None
        return v.strip().lower() in ("true", "1", "y") if isinstance(v, str) else bool(v)
    except (TypeError, ValueError, OverflowError):
        return None


def from_dicts(items: list[dict[str, Any]], fields: tuple[str, ...] = ALL) -> pa.Table:
    """Payments as dicts (a lenient page, a lookup of single payments) as the listing's table."""
    fields = with_id(fields)
    cols = []
    for f in fields:
        if f == "cancel_history":
            cols.append(pa.array([[{k: _coerce(h.get(k), CANCEL_FIELDS[k]) for k in CANCEL_FIELDS}
                                   for h in (p.get("cancel_history") or ()) if isinstance(h, dict)]
                                  for p in items], CANCEL_TYPE))
        else:
            kind = KINDS[f]
            cols.append(pa.array([_coerce(p.get(f), kind) for p in items], ARROW[kind]))
    return pa.Table.from_arrays(cols, schema=schema(fields))


def empty(fields: tuple[str, ...] = ALL) -> pa.Table:
    return schema(fields).empty_table()
