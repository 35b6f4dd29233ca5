"""The capability matrix (lib/domain/capabilities.py) and the V2 rules (lib/domain/portone_v2.py)."""

from __future__ import annotations

import pytest

from lib.domain import capabilities as caps
from lib.domain import portone_v2
from lib.domain.capabilities import Capability
from lib.domain.models import Payment
from lib.domain.rules import RefundRequest
from lib.domain.settings import Rules


def test_v1_follows_the_pg_rules():
    assert caps.actions("v1", "kcp") == {Capability.REFUND, Capability.REVOKE, Capability.CHANGE_AMOUNT,
                                         Capability.CHANGE_DUE}
    assert Capability.REFUND not in caps.actions("v1", "danal_tpay")          # no vbank refund through the API
    assert Capability.REVOKE not in caps.actions("v1", "html5_inicis")        # wants its own PG key
    assert Capability.CHANGE_DUE not in caps.actions("v1", "ksnet")
    assert Capability.CHANGE_DUE in caps.actions("v1", "ksnet", Rules(vbank_update_pgs=["ksnet"]))


@pytest.mark.parametrize("pg", ["kcp", "html5_inicis", "ksnet", "danal_tpay", None])
def test_v2_never_changes_an_account_but_offers_close_and_reissue(pg):
    can = caps.actions("v2", pg)
    assert not can & {Capability.CHANGE_AMOUNT, Capability.CHANGE_DUE}
    assert {Capability.REVOKE, Capability.CLOSE_AND_REISSUE} <= can
    assert caps.offers_change("v2", pg) == Capability.CLOSE_AND_REISSUE
    assert (Capability.REFUND in can) == (pg != "danal_tpay")     # Danal refunds no virtual account on either API


def test_change_is_the_change_itself_on_v1_and_nothing_where_the_pg_cannot():
    assert caps.offers_change("v1", "kcp") == Capability.CHANGE_DUE
    assert caps.offers_change("v1", "ksnet") is None


def test_labels_are_korean_first(korean):
    assert caps.label(Capability.CLOSE_AND_REISSUE) != "Close and issue a new account"
    assert "계좌번호" in caps.reissue_warning()


def test_an_unknown_version_is_an_error():
    with pytest.raises(ValueError):
        caps.actions("v3", "kcp")


def _paid_v2(**extra) -> Payment:
    return Payment.model_validate({"imp_uid": "o1", "merchant_uid": "o1", "pay_method": "vbank", "pg_provider": "ksnet",
                                   "amount": 30_000, "cancel_amount": 0, "status": "paid", "api_version": "v2",
                                   **extra})


def _req(**kw) -> RefundRequest:
    base = dict(imp_uid="o1", amount=10_000, reason_code="CUSTOMER_REQUEST", refund_holder="홍길동",
                refund_bank="SHINHAN", refund_account="110-123-456789")
    return RefundRequest(**{**base, **kw})


def test_a_v2_refund_takes_the_standard_bank_enum_for_any_pg():
    assert portone_v2.validate_refund(_paid_v2(), _req(), Rules()) == []
    problems = portone_v2.validate_refund(_paid_v2(), _req(refund_bank="088"), Rules())    # a V1 code is not a V2 bank
    assert any("bank" in p for p in problems)


def test_a_v2_refund_waits_while_another_is_requested():
    assert portone_v2.validate_refund(_paid_v2(cancel_requested_amount=5_000), _req(), Rules())


def test_version_of_a_payment():
    assert portone_v2.api_version(_paid_v2()) == "v2"
    assert portone_v2.api_version(Payment(imp_uid="a", merchant_uid="a", amount=1, status="paid")) == "v1"


def test_v2_close_needs_an_issued_account_only():
    pending = Payment.model_validate({"imp_uid": "o1", "merchant_uid": "o1", "pay_method": "vbank", "amount": 1,
                                      "status": "ready", "vbank_num": "123", "pg_provider": "html5_inicis",
                                      "api_version": "v2"})
    assert portone_v2.revoke_blockers(pending) == []
    assert portone_v2.revoke_blockers(pending.model_copy(update={"status": "paid"}))


def test_a_v2_smartro_refund_needs_the_holders_phone():
    smartro = _paid_v2(pg_provider="smartro_v2")
    assert any("phone" in x for x in portone_v2.validate_refund(smartro, _req(), Rules()))
    assert portone_v2.validate_refund(smartro, _req(refund_tel="010-1234-5678"), Rules()) == []


def test_a_v2_danal_account_is_not_refunded_through_the_api():
    assert portone_v2.validate_refund(_paid_v2(pg_provider="danal_tpay"), _req(), Rules())
