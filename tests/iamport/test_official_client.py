"""The official Python client (iamport-rest-client) pointed at the sandbox: token, read, refund."""

from iamport import Iamport


def test_official_client_reads_and_refunds_a_paid_vbank(fresh):
    imp = Iamport(imp_key="sandbox_key", imp_secret="sandbox_secret", imp_url=fresh.url + "/")
    p = fresh.pick(status="paid", pg="html5_inicis", where=lambda x: x["cancel_amount"] == 0 and x["amount"] >= 5000)
    got = imp.find(imp_uid=p["imp_uid"])
    assert got["amount"] == p["amount"] and got["status"] == "paid"
    assert imp.find(merchant_uid=p["merchant_uid"])["imp_uid"] == p["imp_uid"]
    res = imp.cancel_by_imp_uid(p["imp_uid"], "official client refund", amount=1000, checksum=p["amount"],
                                refund_holder="홍길동", refund_bank="88", refund_account="56211105948400")
    assert res["cancel_amount"] == 1000
    assert res["cancel_history"][-1]["reason"] == "official client refund"
    assert fresh.refunds(p["imp_uid"])[-1]["refund_bank"] == "88"


def test_official_client_sees_api_refusals(fresh):
    imp = Iamport(imp_key="sandbox_key", imp_secret="sandbox_secret", imp_url=fresh.url + "/")
    p = fresh.pick(status="paid", pg="danal_tpay")
    try:
        imp.cancel_by_imp_uid(p["imp_uid"], "x", refund_holder="a", refund_bank="088", refund_account="123456789")
    except Iamport.ResponseError as e:
        assert e.code != 0 and "다날" in e.message
    else:
        raise AssertionError("a Danal virtual account refund must be refused")
