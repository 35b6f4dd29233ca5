"""The API's pages straight into columns (lib/iamport/columns.py, lib/domain/payment_table.py): the same values as
the JSON says, against the real sandbox and against pages the sandbox never sends (types the spec does not promise,
error envelopes, HTML)."""

from __future__ import annotations

import json
import time

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.domain import payment_table
from lib.iamport import columns
from lib.iamport.errors import ApiError, Refused
from lib.iamport.listing import _unique
from lib.iamport.transport import Reply
from tests.spec_contract import SPEC_PATH

NOW = lambda: int(time.time())  # noqa: E731
SPEC_KIND = {"string": "s", "integer": "i", "number": "n", "boolean": "b"}


def page(items: list, total: int | None = None, code: int = 0, status: int = 200) -> Reply:
    body = {"code": code, "message": None if code == 0 else "권한이 없습니다",
            "response": {"total": len(items) if total is None else total, "previous": 0, "next": 0, "list": items}
            if code == 0 else None}
    return Reply(status, "OK", json.dumps(body).encode())


def expected_value(v, kind):
    return None if v is None else int(v) if kind in "in" else v


def test_every_listing_field_is_the_specs_with_the_specs_type():
    """The schema is the contract's: a field renamed or retyped in the spec fails here."""
    spec = json.loads(SPEC_PATH.read_text())
    props = spec["definitions"]["PaymentAnnotation"]["properties"]
    for name, kind in payment_table.FIELDS.items():
        assert SPEC_KIND[props[name]["type"]] == kind, name
    cancel = spec["definitions"]["PaymentCancelAnnotation"]["properties"]
    assert {k: SPEC_KIND[cancel[k]["type"]] for k in payment_table.CANCEL_FIELDS} == payment_table.CANCEL_FIELDS
    assert props["cancel_history"]["items"]["$ref"].endswith("PaymentCancelAnnotation")


def test_the_listing_holds_exactly_what_the_sandbox_sends(fresh, client):
    """Every field of every payment, as the JSON says it (the sandbox's own pages read with plain json)."""
    want = {p["imp_uid"]: p for p in fresh.all_payments("all")}
    t = client.list_columns("all", NOW() - 90 * 86400 + 60, NOW() + 60)
    assert t.schema == payment_table.schema()
    got = {r["imp_uid"]: r for r in t.to_pylist()}
    assert got.keys() == want.keys() and len(got) == t.num_rows
    for imp_uid, row in got.items():
        p = want[imp_uid]
        for f, kind in payment_table.FIELDS.items():
            assert row[f] == expected_value(p.get(f), kind), (imp_uid, f)
        assert row["cancel_history"] == [{k: expected_value(h.get(k), payment_table.CANCEL_FIELDS[k])
                                          for k in payment_table.CANCEL_FIELDS} for h in p["cancel_history"]]
    assert any(r["cancel_history"] for r in got.values())                # the sandbox has refunds: compared above


def test_a_projection_reads_only_its_fields_and_the_pay_method_filter(fresh, client):
    t = client.list_columns("ready", NOW() - 90 * 86400 + 60, NOW() + 60, fields=("amount", "vbank_num"),
                            pay_method="vbank")
    assert t.column_names == ["imp_uid", "amount", "vbank_num"]
    assert sorted(t["imp_uid"].to_pylist()) == sorted(p["imp_uid"] for p in fresh.pending_vbanks())
    with pytest.raises(ValueError):
        payment_table.schema(("amount", "no_such_field"))


def test_values_of_surprising_types_are_read_leniently_not_refused():
    """A PG's field as a number where the spec says string, an amount as "1,000"-free text or 1000.0, a flag as
    "Y", a number past 64 bits: the page is read (the fast decoder refuses it; the lenient one coerces)."""
    items = [{"imp_uid": "imp_1", "merchant_uid": "o1", "vbank_code": 4, "amount": "12000", "escrow": "Y",
              "paid_at": 2**70, "cancel_history": [{"pg_tid": 77, "amount": 500.0, "cancelled_at": "1700000000"}]},
             {"imp_uid": "imp_2", "merchant_uid": "o2", "amount": 9900.0, "cancel_history": None, "custom_data": {"a": 1}}]
    total, t = columns.decode_page(page(items), "/payments/status/all")
    rows = {r["imp_uid"]: r for r in t.to_pylist()}
    assert total == 2 and rows["imp_1"]["vbank_code"] == "4" and rows["imp_1"]["amount"] == 12000
    assert rows["imp_1"]["escrow"] is True and rows["imp_1"]["paid_at"] is None
    assert rows["imp_1"]["cancel_history"][0] | {} == {"pg_tid": "77", "amount": 500, "cancelled_at": 1700000000,
                                                       "reason": None, "cancellation_id": None, "receipt_url": None}
    assert rows["imp_2"]["amount"] == 9900 and rows["imp_2"]["cancel_history"] == []


def test_the_fast_path_takes_whole_won_floats_and_nulls():
    items = [{"imp_uid": "imp_1", "merchant_uid": "o1", "amount": 9900.0, "paid_at": None, "buyer_name": "김<b>민수"}]
    _total, t = columns.decode_page(page(items), "/x", ("amount", "paid_at", "buyer_name"))
    assert t.to_pylist() == [{"imp_uid": "imp_1", "amount": 9900, "paid_at": None, "buyer_name": "김<b>민수"}]


def test_an_error_envelope_or_a_foreign_page_is_the_apis_error_not_an_empty_list():
    with pytest.raises(Refused) as e:
        columns.decode_page(page([], code=-1, status=401), "/payments/status/all")
    assert "권한이 없습니다" in e.value.message
    with pytest.raises(ApiError):
        columns.decode_page(Reply(200, "OK", b"<html>maintenance</html>"), "/payments/status/all")
    with pytest.raises(ApiError):
        columns.decode_page(Reply(502, "Bad Gateway", b"<html>502</html>"), "/payments/status/all")


def test_a_payment_seen_twice_is_kept_once_as_last_seen_in_first_seen_order():
    t = payment_table.from_dicts([{"imp_uid": "a", "amount": 1}, {"imp_uid": "b", "amount": 2},
                                  {"imp_uid": "a", "amount": 3}], ("amount",))
    assert _unique(t).to_pylist() == [{"imp_uid": "a", "amount": 3}, {"imp_uid": "b", "amount": 2}]
    same = payment_table.from_dicts([{"imp_uid": "a"}], ())
    assert _unique(same) is same


def test_a_sandbox_page_decodes_to_the_same_rows_fast_or_lenient(fresh):
    """The two readings agree on a real page (the lenient one is the fallback, so it must not drift)."""
    r = fresh.api("GET", "/payments/status/all", params={"limit": 200, "from": NOW() - 90 * 86400 + 60,
                                                          "to": NOW() + 60})
    _total, fast = columns.decode_page(Reply(200, "OK", r.content), "/x")
    lenient = payment_table.from_dicts(json.loads(r.content)["response"]["list"])
    assert fast.equals(lenient) and fast.num_rows == 200
    assert isinstance(fast, pa.Table)


def test_a_payment_in_two_windows_is_found_by_looking_the_small_ones_up_in_the_large_one():
    from lib.iamport.listing import _overlap
    big = payment_table.from_dicts([{"imp_uid": f"imp_{i}"} for i in range(50)], ())
    assert not _overlap([payment_table.from_dicts([{"imp_uid": "imp_x"}], ()), big])
    assert _overlap([payment_table.from_dicts([{"imp_uid": "imp_7"}], ()), big])


def test_a_value_nested_past_any_reason_is_an_api_error_not_a_crash():
    """Even in a field the listing skips: a hostile or broken page ends as the API's error sentence."""
    for field in ("custom_data", "vbank_code"):
        deep = (b'{"code":0,"message":null,"response":{"total":1,"list":[{"imp_uid":"imp_1","merchant_uid":"o","'
                + field.encode() + b'":' + b"[" * 200_000 + b"]" * 200_000 + b"}]}}")
        with pytest.raises(ApiError):
            columns.decode_page(Reply(200, "OK", deep), "/payments/status/all")


_VALUE = {"s": st.one_of(st.none(), st.text(max_size=12)), "i": st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)),
          "n": st.one_of(st.none(), st.integers(-10**12, 10**12)), "b": st.one_of(st.none(), st.booleans())}
_ODD = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-2**70, 2**70), st.text(max_size=4),
                 st.booleans(), st.lists(st.integers(), max_size=2), st.none())
_CANCEL = st.fixed_dictionaries({k: _VALUE[v] for k, v in payment_table.CANCEL_FIELDS.items()})


@st.composite
def _payments(draw, odd: bool):
    out = []
    for _i in range(draw(st.integers(0, 4))):
        p = {f: draw(_ODD if odd and draw(st.booleans()) else _VALUE[k]) for f, k in payment_table.FIELDS.items()
             if draw(st.booleans()) or f == "imp_uid"}
        if draw(st.booleans()):
            p["cancel_history"] = draw(st.one_of(st.none(), st.lists(_CANCEL, max_size=2)))
        if draw(st.booleans()):
            p["custom_data"] = draw(st.one_of(st.none(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
        out.append(p)
    return out


@settings(max_examples=60, deadline=None)
@given(items=_payments(odd=False))
def test_a_page_of_the_specs_types_reads_the_same_fast_and_lenient(items):
    """The fast reader and its fallback give the same table for any page of the spec's types (missing fields, nulls,
    no refunds or null for them, fields the listing skips)."""
    got = columns._msgspec_page(page(items).content, payment_table.ALL)
    assert got is not None and got[1].equals(payment_table.from_dicts(items, payment_table.ALL))


@settings(max_examples=60, deadline=None)
@given(items=_payments(odd=True))
def test_a_page_with_surprising_values_is_read_not_refused(items):
    """Values of other types than the spec's (fractions, numbers past 64 bits, text for numbers, lists): the page is
    read — by the fast reader when it can, else leniently — with every payment and every imp_uid that was text."""
    _total, t = columns.decode_page(Reply(200, "OK", page(items).content), "/x", payment_table.ALL)
    fast = columns._msgspec_page(page(items).content, payment_table.ALL)
    assert fast is None or fast[1].equals(t)
    assert t.num_rows == len(items)
    ids = t["imp_uid"].to_pylist()
    assert all(got == p.get("imp_uid") for got, p in zip(ids, items) if isinstance(p.get("imp_uid"), str))
