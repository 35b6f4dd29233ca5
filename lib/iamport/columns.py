"""The API's payment pages straight into Arrow columns: no dict per payment.

A page of ``GET /payments/status/{status}`` is 1,000 payments of ~1.2 KB JSON each. ``decode_page`` reads it with
Arrow's JSON reader against a schema of only the fields asked for (``fields``: a projection; the rest of each payment
is skipped), into one ``pyarrow.Table`` per page with a fixed schema (lib/domain/payment_table.py). The reader holds
no lock while it parses: the listing (``lib/iamport/listing.py``) decodes pages in its workers, on every core, and
joins them; the pending list, the search and reconciliation read those tables (pandas or polars over Arrow).

Arrow's reader takes a page only when every value has the spec's type. A page it refuses goes to a ``msgspec``
decoder of the same fields (a number with a fraction is cut to whole won), and a page whose values do not have the
spec's types (a number where a string is documented, as some PGs' fields do) is read leniently (``orjson`` to dicts,
each value coerced or left empty) — slower, but no listing fails because one value's type surprised us. Property
tests hold the three to the same table.

The typed ``Payment`` model stays for single payments and writes; this module is for lists.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from lib.domain.payment_table import ALL, ARROW, CANCEL_FIELDS, CANCEL_TYPE, FIELDS, from_dicts, schema, with_id
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
    attrs: list[tuple[str, Any, Any]] = [(f, list[_Cancel], []) if f == "cancel_history" else (f, _PY[FIELDS[f]], None)
                                         for f in fields]
    row = msgspec.defstruct("Row", attrs, gc=False)
    page = msgspec.defstruct("Page", [("total", int), ("list", list[row] | None, None)], gc=False)  # type: ignore[valid-type]
    env = msgspec.defstruct("Envelope", [("code", int), ("response", page | None, None)], gc=False)
    return msgspec.json.Decoder(env)


def _cancels(lists: list[list[Any]]) -> pa.Array:
    """cancel_history of every payment of a page: offsets and one flat list of the refunds (most payments have none)."""
    offsets = np.zeros(len(lists) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, lists), np.int32, count=len(lists)), out=offsets[1:])
    flat = list(chain.from_iterable(lists))
    children = [pa.array(list(map(attrgetter(k), flat)), ARROW[kind]) for k, kind in CANCEL_FIELDS.items()]
    entries = pa.StructArray.from_arrays(children, fields=list(CANCEL_TYPE.value_type))
    return pa.ListArray.from_arrays(pa.array(offsets), entries, type=CANCEL_TYPE)


@lru_cache(maxsize=32)
def _envelope(fields: tuple[str, ...]) -> pa.Schema:
    """The API's envelope as Arrow reads it: the page's payments as a list of ``fields`` (others skipped)."""
    row = pa.struct(list(schema(fields)))
    return pa.schema([("code", pa.int64()), ("response", pa.struct([("total", pa.int64()), ("list", pa.list_(row))]))])


def _arrow_page(content: bytes, fields: tuple[str, ...]) -> tuple[int, pa.Table] | None:
    """The page read by Arrow's JSON reader, which holds no lock while it parses (several pages at once, on every
    core, while the server's other sessions keep running). It takes the page only when every value has the spec's
    type: anything else (a number where a string is documented, a fraction, a key given twice, an error envelope,
    not JSON) is None, for the careful decoder below."""
    try:
        t = pj.read_json(pa.py_buffer(content), read_options=pj.ReadOptions(block_size=len(content) + 64,
                                                                            use_threads=False),
                         parse_options=pj.ParseOptions(explicit_schema=_envelope(fields), newlines_in_values=True,
                                                       unexpected_field_behavior="ignore"))
    except (pa.ArrowException, ValueError):
        return None
    if t.num_rows != 1 or t["code"][0].as_py() != 0 or not t["response"][0].is_valid:
        return None
    response = t["response"].chunk(0)
    total = response.field("total")[0].as_py()
    items = response.field("list")
    if total is None:
        return None
    rows = items.values if items[0].is_valid else pa.array([], items.type.value_type)
    t = pa.Table.from_struct_array(rows).cast(schema(fields))
    if "cancel_history" in fields:
        hist = t["cancel_history"].combine_chunks()
        if hist.values.null_count:                       # a refund given as null: the careful readers skip it
            return None
        if hist.null_count:                              # none given, or null: no refunds, as the other readers say
            hist = pc.if_else(pc.is_null(hist), pa.scalar([], hist.type), hist)
            t = t.set_column(t.schema.get_field_index("cancel_history"), "cancel_history", hist)
    return int(total), t


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
                else pa.array(list(map(attrgetter(f), items)), ARROW[FIELDS[f]]) for f in fields]
        return int(env.response.total), pa.Table.from_arrays(cols, schema=schema(fields))
    except (pa.ArrowException, OverflowError):
        return None                                     # a number past 64 bits: the lenient reading leaves it empty


def decode_page(reply: Reply, path: str, fields: tuple[str, ...] = ALL) -> tuple[int, pa.Table]:
    """(the page's ``total``, its payments as a table of ``fields``); an error envelope raises as ``_parse`` says.
    Arrow's reader first (no lock held: pages decode in parallel), msgspec for a page with a value Arrow's strict
    types refuse, the lenient reading (orjson, each value coerced or left empty) for the rest."""
    fields = with_id(fields)
    if reply.status_code < 400:
        for reader in (_arrow_page, _msgspec_page):
            got = reader(reply.content, fields)
            if got is not None:
                return got
    data, err = _parse(reply, "GET", path)
    if err:
        raise err
    return int(data.get("total") or 0), from_dicts(list(data.get("list") or ()), fields)
