"""The API's payment pages straight into Arrow columns: no dict per payment.

A page of ``GET /payments/status/{status}`` is 1,000 payments of ~1.2 KB JSON each. ``decode_page`` reads it with a
``msgspec`` decoder that knows only the fields asked for (``fields``: a projection; the rest of each payment is
skipped by the parser, never built), into small slotted structs that live for one page, then into one
``pyarrow.Table`` per page with a fixed schema (lib/domain/payment_table.py). The listing (``lib/iamport/listing.py``) joins the
pages; the pending list, the search and reconciliation read those tables (pandas or polars over Arrow).

The typed ``Payment`` model stays for single payments and writes; this module is for lists.

A page whose values do not have the spec's types (a number where a string is documented, as some PGs' fields do) is
not refused: the page is read again leniently (``orjson`` to dicts, each value coerced or left empty) — slower, but
no listing fails because one value's type surprised us.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from lib.domain.payment_table import ALL, ARROW, CANCEL_FIELDS, CANCEL_TYPE, KINDS, from_dicts, schema, with_id
from lib.iamport.transport import Reply, _parse

# What the fast decoder accepts for each kind (lib/domain/payment_table.py); anything else: the lenient reading.
_PY: dict[str, Any] = {"s": str | None, "i": int | None, "n": int | float | None, "b": bool | None}


class _Cancel(msgspec.Struct, gc=False):
    pg_tid: str | None = None
    amount: int | float | None = None
    cancelled_at: int | None = None
    reason: str | None = None
    cancellation_id: str | None = None
    receipt_url: str | None = None


@lru_cache(maxsize=32)
def _decoder(fields: tuple[str, ...]) -> msgspec.json.Decoder[Any]:
    """A decoder of the API's envelope whose payments hold only ``fields`` (gc=False: they hold no cycles)."""
    attrs: list[tuple[str, Any, Any]] = [(f, list[_Cancel] | None, []) if f == "cancel_history"
                                         else (f, _PY[KINDS[f]], None) for f in fields]
    row = msgspec.defstruct("Row", attrs, gc=False)
    page = msgspec.defstruct("Page", [("total", int), ("list", list[row] | None, None)], gc=False)  # type: ignore[valid-type]
    env = msgspec.defstruct("Envelope", [("code", int), ("response", page | None, None)], gc=False)
    return msgspec.json.Decoder(env)


def _cancels(lists: list[list[Any]]) -> pa.Array:
    """cancel_history of every payment of a page: offsets and one flat list of the refunds (most payments have none)."""
    lists = [x if x is not None else [] for x in lists]    # null: no refunds, as the lenient reading says
    offsets = np.zeros(len(lists) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, lists), np.int32, count=len(lists)), out=offsets[1:])
    flat = list(chain.from_iterable(lists))
    children = [pa.array(list(map(attrgetter(k), flat)), ARROW[kind]) for k, kind in CANCEL_FIELDS.items()]
    entries = pa.StructArray.from_arrays(children, fields=list(CANCEL_TYPE.value_type))
    return pa.ListArray.from_arrays(pa.array(offsets), entries, type=CANCEL_TYPE)


def _msgspec_page(content: bytes, fields: tuple[str, ...]) -> tuple[int, pa.Table] | None:
    """The page read by msgspec into structs of ``fields``, then column by column (a number with a fraction is cut to
    whole won, as KRW amounts are whole); None for a page that is not the API's or has a value of a surprising type."""
    try:
        env = _decoder(fields).decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None             # not the API's page, a value of a surprising type, or nested past any reason
    if env.code != 0 or env.response is None:
        return None
    items = env.response.list or []
    try:
        cols = [_cancels(list(map(attrgetter(f), items))) if f == "cancel_history"
                else pa.array(list(map(attrgetter(f), items)), ARROW[KINDS[f]]) for f in fields]
        return int(env.response.total), pa.Table.from_arrays(cols, schema=schema(fields))
    except (pa.ArrowException, OverflowError):
        return None                                     # a number past 64 bits: the lenient reading leaves it empty


def decode_page(reply: Reply, path: str, fields: tuple[str, ...] = ALL) -> tuple[int, pa.Table]:
    """(the page's ``total``, its payments as a table of ``fields``); an error envelope raises as ``_parse`` says.
    msgspec first; the lenient reading (orjson, each value coerced or left empty) for a page it refuses."""
    fields = with_id(fields)
    if reply.status_code < 400:
        got = _msgspec_page(reply.content, fields)
        if got is not None:
            return got
    data, err = _parse(reply, "GET", path)
    if err:
        raise err
    return int(data.get("total") or 0), from_dicts(list(data.get("list") or ()), fields)
