"""Both readings of the spec checked against it: the sandbox's replies and the client's requests."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jsonschema
import orjson
import pytest

from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError
from tests.spec_contract import operation, validate_request, validate_response

NOW = lambda: int(time.time())  # noqa: E731


def check(sb, method: str, path: str, expect_status: int | None = None, **kw):
    r = sb.api(method, path, **kw)
    validate_response(method, path, r.status_code, r.json())
    if expect_status is not None:
        assert r.status_code == expect_status, r.text
    return r.json()


def test_bridge_does_not_hide_a_wrong_type(fresh):
    p = fresh.pick(status="paid")
    body = fresh.api("GET", f"/payments/{p['imp_uid']}").json()
    body["response"]["amount"] = "1000"
    with pytest.raises(jsonschema.ValidationError):
        validate_response("GET", f"/payments/{p['imp_uid']}", 200, body)
    body["response"]["amount"] = 1000
    del body["response"]["imp_uid"]
    with pytest.raises(jsonschema.ValidationError):
        validate_response("GET", f"/payments/{p['imp_uid']}", 200, body)


def test_token(fresh):
    r = fresh.http.post(fresh.url + "/users/getToken", data={"imp_key": "sandbox_key", "imp_secret": "sandbox_secret"})
    validate_response("POST", "/users/getToken", r.status_code, r.json())
    r2 = fresh.http.post(fresh.url + "/users/getToken", json={"imp_key": "sandbox_key", "imp_secret": "sandbox_secret"})
    assert r2.json()["response"]["access_token"] == r.json()["response"]["access_token"]   # reused before expiry
    bad = fresh.http.post(fresh.url + "/users/getToken", json={"imp_key": "sandbox_key", "imp_secret": "nope"})
    assert bad.status_code == 401
    validate_response("POST", "/users/getToken", bad.status_code, bad.json())


@pytest.mark.parametrize("status", ["all", "ready", "paid", "cancelled", "failed"])
def test_status_pages(fresh, status):
    t = NOW()
    body = check(fresh, "GET", f"/payments/status/{status}", 200, params={"limit": 1000, "from": t - 86400 * 89, "to": t})
    assert body["response"]["total"] >= len(body["response"]["list"]) > 0
    assert all(p["status"] == status for p in body["response"]["list"] if status != "all")


def test_status_page_errors(fresh):
    check(fresh, "GET", "/payments/status/ready", 400, params={"limit": 1001})
    check(fresh, "GET", "/payments/status/ready", 400, params={"from": 0, "to": 91 * 86400})
    check(fresh, "GET", "/payments/status/ready", 400, params={"sorting": "amount"})
    r = fresh.http.get(fresh.url + "/payments/status/ready")
    assert r.status_code == 401
    validate_response("GET", "/payments/status/ready", 401, r.json())


def test_paging_fields(fresh):
    t = NOW()
    total = check(fresh, "GET", "/payments/status/all", params={"limit": 1})["response"]["total"]
    first = check(fresh, "GET", "/payments/status/all", params={"limit": 500, "page": 1, "from": t - 86400 * 89, "to": t})
    last_page = -(-total // 500)
    last = check(fresh, "GET", "/payments/status/all", params={"limit": 500, "page": last_page, "from": t - 86400 * 89, "to": t})
    assert (first["response"]["previous"], first["response"]["next"]) == (0, 2)
    assert last["response"]["next"] == 0 and last["response"]["previous"] == last_page - 1


def test_one_many_find(fresh):
    p = fresh.pick(status="paid")
    check(fresh, "GET", f"/payments/{p['imp_uid']}", 200)
    check(fresh, "GET", "/payments/imp_nope", 404)
    check(fresh, "GET", "/payments", 200, params={"imp_uid[]": [p["imp_uid"]]})
    body = check(fresh, "GET", "/payments", 207, params={"imp_uid[]": [p["imp_uid"], "imp_nope"]})
    assert [x["imp_uid"] for x in body["response"]] == [p["imp_uid"]]
    check(fresh, "GET", "/payments", 404, params={"imp_uid[]": ["imp_nope"]})
    check(fresh, "GET", f"/payments/find/{p['merchant_uid']}", 200)
    check(fresh, "GET", f"/payments/find/{p['merchant_uid']}/paid", 200)
    check(fresh, "GET", "/payments/find/no-such-order", 404)


def test_vbank_create_update_revoke(fresh):
    due = NOW() + 3 * 86400
    created = check(fresh, "POST", "/vbanks", 200, data={"merchant_uid": "ct-1", "amount": "15000", "vbank_code": "004",
                                                         "vbank_due": str(due), "vbank_holder": "테스트상점", "pg": "settle"})
    imp_uid = created["response"]["imp_uid"]
    upd = check(fresh, "PUT", f"/vbanks/{imp_uid}", 200, json={"amount": 17000, "vbank_due": due + 86400})
    assert (upd["response"]["amount"], upd["response"]["vbank_date"]) == (17000, due + 86400)
    check(fresh, "PUT", f"/vbanks/{imp_uid}", 400, json={"vbank_due": NOW() - 10})
    check(fresh, "PUT", f"/vbanks/{imp_uid}", 400, json={})
    check(fresh, "PUT", "/vbanks/imp_nope", 404, json={"amount": 1000})
    gone = check(fresh, "DELETE", f"/vbanks/{imp_uid}", 200)
    assert gone["response"]["status"] == "cancelled"
    check(fresh, "PUT", f"/vbanks/{imp_uid}", 400, json={"amount": 1000})


def test_put_vbank_refuses_unsupported_pg(fresh):
    p = fresh.pick(status="ready", pg={"danal_tpay", "daou"})
    body = check(fresh, "PUT", f"/vbanks/{p['imp_uid']}", 400, json={"amount": 1000})
    assert "지원하지 않습니다" in body["message"]


def test_cancel_vbank_partial_then_rest(fresh):
    p = fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 5000)
    acct = {"refund_holder": "홍길동", "refund_bank": "BK88", "refund_account": "110-123-456789"}
    part = check(fresh, "POST", "/payments/cancel", 200, data={"imp_uid": p["imp_uid"], "amount": "1000",
                                                              "checksum": str(p["amount"]), "reason": "부분", **acct})
    assert part["response"]["cancel_amount"] == 1000 and part["response"]["status"] == "paid"
    assert part["response"]["cancel_history"][-1]["amount"] == 1000
    stale = check(fresh, "POST", "/payments/cancel", 200, json={"imp_uid": p["imp_uid"], "checksum": p["amount"], **acct})
    assert stale["code"] != 0 and "Checksum" in stale["message"]
    rest = check(fresh, "POST", "/payments/cancel", 200, json={"imp_uid": p["imp_uid"], "checksum": p["amount"] - 1000, **acct})
    assert rest["response"]["status"] == "cancelled" and rest["response"]["cancel_amount"] == p["amount"]
    again = check(fresh, "POST", "/payments/cancel", 200, json={"imp_uid": p["imp_uid"], **acct})
    assert "이미 전액취소" in again["message"]
    assert [r["refund_account"] for r in fresh.refunds(p["imp_uid"])] == ["110-123-456789"] * 2


@pytest.mark.parametrize("pg,fields,needle", [
    ("danal_tpay", {"refund_holder": "홍길동", "refund_bank": "088", "refund_account": "110123456789"}, "다날"),
    ("kcp", {"refund_holder": "홍길동", "refund_bank": "088", "refund_account": "110123456789"}, "은행코드"),
    ("html5_inicis", {"refund_holder": "홍길동", "refund_account": "110123456789"}, "refund_bank"),
    ("smartro", {"refund_holder": "홍길동", "refund_bank": "088", "refund_account": "110123456789"}, "refund_tel"),
    ("nice_v2", {"refund_holder": "홍길동", "refund_bank": "045", "refund_account": "110123456789"}, "은행코드"),
])
def test_cancel_vbank_refusals(fresh, pg, fields, needle):
    p = fresh.pick(status="paid", pg=pg)
    body = check(fresh, "POST", "/payments/cancel", 200, json={"imp_uid": p["imp_uid"], "amount": 1000, **fields})
    assert body["code"] != 0 and needle in body["message"]
    assert fresh.api("GET", f"/payments/{p['imp_uid']}").json()["response"]["cancel_amount"] == p["cancel_amount"]


def test_over_refund_refused(fresh):
    p = fresh.pick(status="paid", pg="tosspayments")
    body = check(fresh, "POST", "/payments/cancel", 200,
                 json={"imp_uid": p["imp_uid"], "amount": p["amount"] + 1, "refund_holder": "a",
                       "refund_bank": "004", "refund_account": "123456789"})
    assert "초과" in body["message"]


def test_holder_and_banks(fresh):
    body = check(fresh, "GET", "/vbanks/holder", 200, params={"bank_code": "004", "bank_num": "123-456-789012"})
    assert body["response"]["bank_holder"]
    check(fresh, "GET", "/vbanks/holder", 400, params={"bank_code": "BK04", "bank_num": "123456789012"})
    check(fresh, "GET", "/vbanks/holder", 404, params={"bank_code": "004", "bank_num": "1234560000"})
    banks = check(fresh, "GET", "/banks", 200)
    assert {"code": "088", "name": "신한은행"} in banks["response"]


def test_every_client_request_matches_the_spec(fresh, settings):
    """Capture what lib's client actually puts on the wire, and check it against the spec."""
    c = IamportClient(settings)
    sent = []
    for sess in (c.transport.reads, c.transport.writes):
        sess.hooks["response"].append(lambda r, *a, **k: sent.append(r.request))
    paid = fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0)
    ready = fresh.pick(status="ready", pg="settle")
    c.list_by_status_raw("ready", NOW() - 86400 * 89, NOW())
    c.status_page("paid", page=1, limit=10, sorting="-paid")
    c.get_payment(paid["imp_uid"])
    c.get_payments([paid["imp_uid"], ready["imp_uid"]])
    c.find_by_merchant_uid(paid["merchant_uid"])
    c.find_by_merchant_uid(paid["merchant_uid"], "paid")
    c.update_vbank(ready["imp_uid"], amount=ready["amount"] + 100, vbank_due=NOW() + 86400)
    c.cancel(imp_uid=paid["imp_uid"], amount=1000, checksum=paid["amount"], reason="contract",
             refund_holder="홍길동", refund_bank="BK88", refund_account="110123456789")
    c.holder("088", "110123456789")
    c.banks()
    with pytest.raises(ApiError):
        c.get_payment("imp_nope")
    checked = set()
    for req in sent:
        u = urlsplit(req.url)
        query = parse_qs(u.query, keep_blank_values=True)
        body = orjson.loads(req.body) if req.body else None
        validate_request(req.method, u.path, query, body)
        checked.add((req.method, operation(req.method, u.path)[0]))
    assert {("GET", "/payments/status/{payment_status}"), ("PUT", "/vbanks/{imp_uid}"), ("POST", "/payments/cancel"),
            ("POST", "/users/getToken"), ("GET", "/payments"), ("GET", "/vbanks/holder"), ("GET", "/banks"),
            ("GET", "/payments/{imp_uid}"), ("GET", "/payments/find/{merchant_uid}/{payment_status}")} <= checked


def test_request_validator_catches_a_wrong_field():
    with pytest.raises(AssertionError):
        validate_request("PUT", "/vbanks/imp_1", {}, {"amount": "1000"})
    with pytest.raises(AssertionError):
        validate_request("POST", "/payments/cancel", {}, {"refund_bank_code": "088"})
    with pytest.raises(AssertionError):
        validate_request("GET", "/payments/status/ready", {"limit": ["5000"]}, None)
