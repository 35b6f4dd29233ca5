"""lib/reports/search.py: any payment by what the caller says, over the sandbox's payments."""

from __future__ import annotations

import time

import pytest

from lib.reports import search


@pytest.mark.parametrize("text,kind,value", [
    ("imp_ABC123", "imp_uid", "imp_abc123"),
    ("Kim@Example.com", "email", "kim@example.com"),
    ("010-1234-5678", "phone", "01012345678"),
    ("01012345678", "phone", "01012345678"),
    ("+82 10-1234-5678", "phone", "01012345678"),
    ("+82 (0)10 1234 5678", "phone", "01012345678"),
    ("02-123-4567", "phone", "021234567"),
    ("₩55,000", "amount", "₩55,000"),
    ("55,000원", "amount", "55,000원"),
    ("5678", "text", "5678"),
    ("김민", "text", "김민"),
    ("ord_20261101_000042", "text", "ord_20261101_000042"),
])
def test_what_was_typed_is_read_as_what_it_is(text, kind, value):
    q = search.parse(text)
    assert (q.kind, q.value) == (kind, value)


def test_nothing_typed_is_no_search():
    assert search.parse("   ") is None and search.parse("\u202e") is None


def test_plus_82_with_a_kept_zero_is_the_same_number():
    assert search.phone_digits("+82 010-1234-5678") == "01012345678"


ROWS = [
    {"imp_uid": "imp_1", "merchant_uid": "ord_a", "buyer_name": "김민수", "buyer_tel": "010-1234-5678",
     "buyer_email": "minsu@example.com", "amount": 55000, "status": "paid", "started_at": 1_800_000_000},
    {"imp_uid": "imp_2", "merchant_uid": "ord_b", "buyer_name": "이영희", "buyer_tel": "+82 10 9999 5678",
     "buyer_email": "yh@example.com", "amount": 12000, "status": "ready", "started_at": 1_800_000_100},
    {"imp_uid": "imp_3", "merchant_uid": "ord_c", "buyer_name": "김 민지", "buyer_tel": None,
     "buyer_email": None, "amount": 55000, "status": "cancelled", "started_at": 1_800_000_200},
]


@pytest.mark.parametrize("text,statuses,ids", [
    ("010 1234 5678", search.STATUSES, ["imp_1"]),
    ("+821099995678", search.STATUSES, ["imp_2"]),
    ("5678", search.STATUSES, ["imp_2", "imp_1"]),            # the last four digits: both, newest first
    ("김민", search.STATUSES, ["imp_3", "imp_1"]),              # part of a name, spaces in it ignored
    ("₩55,000", search.STATUSES, ["imp_3", "imp_1"]),
    ("₩55,000", ("paid",), ["imp_1"]),
    ("MINSU@example.COM", search.STATUSES, ["imp_1"]),
    ("ord_b", search.STATUSES, ["imp_2"]),
    ("imp_3", search.STATUSES, ["imp_3"]),
    ("박", search.STATUSES, []),
])
def test_search_finds_by_each_kind(text, statuses, ids):
    found, n = search.search(search.frame(ROWS), search.parse(text), statuses)
    assert list(found["imp_uid"]) == ids and n == len(ids)


def test_results_are_capped_but_counted():
    rows = [dict(ROWS[0], imp_uid=f"imp_{i}", started_at=1_800_000_000 + i) for i in range(30)]
    found, n = search.search(search.frame(rows), search.parse("김민수"), limit=10)
    assert len(found) == 10 and n == 30 and found.iloc[0]["imp_uid"] == "imp_29"


def test_a_paid_payment_of_the_sandbox_is_found_by_its_phone_in_another_format(sandbox, client):
    now = int(time.time())
    rows = client.list_columns("all", now - 89 * 86400, now, fields=tuple(search.COLUMNS))       # as the page does
    paid = next(r for r in rows.to_pylist() if r["status"] == "paid" and r.get("buyer_tel"))
    typed = "+82 " + paid["buyer_tel"][1:].replace("-", " ")          # 010-1234-5678 → +82 10 1234 5678
    found, _n = search.search(search.frame(rows), search.parse(typed), ("paid",))
    assert paid["imp_uid"] in set(found["imp_uid"])
    assert set(found["status"]) == {"paid"}


def test_a_search_keeps_to_the_api_versions_asked_for_in_both_paths():
    rows = [{"imp_uid": f"imp_{i}", "merchant_uid": f"ord_{i}", "buyer_name": "김민수", "amount": 1000,
             "status": "paid", "started_at": 1_790_000_000 + i, "api": "v2" if i % 2 else "v1"} for i in range(10)]
    df = search.frame(rows)
    q = search.parse("김민")
    found, n = search.search(df, q, apis=("v2",))
    assert n == 5 and set(found["api"]) == {"v2"}
    plain = df.copy()                     # a frame not made by frame(): the pandas path, the same rule
    found2, n2 = search.search(plain, q, apis=("v2",))
    assert n2 == 5 and found2["imp_uid"].tolist() == found["imp_uid"].tolist()
    assert search.search(df, q)[1] == 10
