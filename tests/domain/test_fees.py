"""lib/domain/fees.py: the fee impact of a refund."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.domain import fees
from lib.domain.settings import FeeRule


def test_fee_example_from_the_product_document():
    """10,000 won paid: merchant settled 9,700; a full refund costs it 10,300 (the product document's example
    leaves the fees' VAT out; with it, as the default schedule now charges it, see the next test)."""
    f = fees.fee_impact(10_000, 0, 10_000, FeeRule(vat_on_fees=False))
    assert (f.settled, f.refund_cost, f.net_after, f.balance_after) == (9_700, 10_300, -600, 0)


def test_fee_with_vat():
    f = fees.fee_impact(10_000, 0, 10_000, FeeRule(vat_on_fees=True))
    assert (f.issuance_fee, f.remittance_fee, f.refund_cost) == (330, 330, 10_330)


@given(amount=st.integers(1, 10**9), data=st.data(), issuance=st.integers(0, 5000), remit=st.integers(0, 5000),
       vat=st.booleans(), prev=st.integers(0, 5))
def test_fee_arithmetic_properties(amount, data, issuance, remit, vat, prev):
    refunded = data.draw(st.integers(0, amount - 1))
    refund = data.draw(st.integers(1, amount - refunded))
    rule = FeeRule(issuance_fee=issuance, remittance_fee=remit, vat_on_fees=vat)
    f = fees.fee_impact(amount, refunded, refund, rule, previous_refunds=prev)
    assert f.refund_cost == refund + f.remittance_fee
    assert f.balance_after == amount - refunded - refund >= 0
    # everything the customer keeps paid minus every fee = merchant's net
    assert f.net_after == f.balance_after - f.fees_total
    assert f.remittance_fee == remit + ((remit * 10 + 50) // 100 if vat else 0)   # 10% VAT, half up to the won


@given(amount=st.integers(1, 10**6), data=st.data())
def test_fee_rejects_impossible_refunds(amount, data):
    bad = data.draw(st.one_of(st.integers(max_value=0), st.integers(min_value=amount + 1)))
    with pytest.raises(ValueError):
        fees.fee_impact(amount, 0, bad, FeeRule())
