"""Issue 31 point 7: the statuses a person uses, from a payment's own fields, one function for lists and exports."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from lib.domain import status
from lib.domain.clock import KST
from lib.domain.i18n import lang, set_lang


@pytest.fixture(autouse=True)
def back_to_the_language_before():
    before = lang()
    yield
    set_lang(before)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=KST)
PAST, FUTURE, PAID_AT = int(NOW.timestamp()) - 3600, int(NOW.timestamp()) + 3600, int(NOW.timestamp()) - 86400

CASES = [  # (fields, code, Korean)
    (dict(status="ready", vbank_date=FUTURE), "ready", "입금대기"),
    (dict(status="ready", vbank_date=PAST), "overdue", "기한 경과"),
    (dict(status="paid", amount=50000, cancel_amount=0, paid_at=PAID_AT), "paid", "결제완료"),
    (dict(status="paid", amount=50000, cancel_amount=10000, paid_at=PAID_AT), "partial", "부분취소"),
    (dict(status="cancelled", amount=50000, cancel_amount=50000, paid_at=PAID_AT), "cancelled", "전액취소"),
    (dict(status="cancelled", amount=50000, cancel_amount=0, paid_at=0, pay_method="vbank"), "revoked", "발급취소"),
    (dict(status="failed"), "failed", "실패"),
]


@pytest.mark.parametrize("fields,code,ko", CASES)
def test_one_payment_reads_as_the_team_says_it(fields, code, ko):
    assert status.code(now=NOW, **fields) == code
    set_lang("ko")
    assert status.name(now=NOW, **fields) == ko


def test_a_column_of_payments_gives_the_same_codes_as_one_by_one():
    df = pd.DataFrame([{"amount": 0, "cancel_amount": 0, "paid_at": 0, "vbank_date": 0, "pay_method": "vbank", **f}
                       for f, _c, _k in CASES])
    assert status.column(df, NOW).tolist() == [c for _f, c, _k in CASES]
    set_lang("ko")
    assert status.labels(status.column(df, NOW)).tolist() == [k for _f, _c, k in CASES]


def test_a_revoked_account_and_a_refunded_payment_are_told_apart():
    """Before: both read 취소."""
    set_lang("ko")
    revoked = status.name("cancelled", amount=30000, cancel_amount=0, paid_at=None, pay_method="vbank")
    refunded = status.name("cancelled", amount=30000, cancel_amount=30000, paid_at=PAID_AT,
                           cancel_history=[{"amount": 30000}])
    assert {revoked, refunded} == {"발급취소", "전액취소"}
