"""lib.client against the real sandbox over loopback HTTP."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError, ApiUnavailable, OutcomeUnknown
from lib.iamport.listing import split_windows
from tests.helpers import Sandbox, settings_for

NOW = lambda: int(time.time())  # noqa: E731
D90 = 90 * 86400


def test_token_is_reused_until_it_expires(fresh, client):
    ids = [fresh.pick(status="ready")["imp_uid"], fresh.pick(status="paid")["imp_uid"]]
    fresh.clear_requests()
    for imp_uid in ids * 2:
        client.get_payment(imp_uid)
    seen = [r["path"] for r in fresh.requests_seen()]
    assert seen.count("/users/getToken") == 1
    assert seen[0] == "/users/getToken" and len(seen) == 5


def test_token_handed_out_already_expired_is_used_once_then_asked_again(sandbox):
    """A server clock that hands out an expired token must not loop the client (responses: the sandbox won't)."""
    import responses
    s = settings_for(sandbox)
    c = IamportClient(s)
    with responses.RequestsMock() as rs:
        tok = rs.post(s.api_url + "/users/getToken",
                      json={"code": 0, "message": None, "response": {"access_token": "t1", "expired_at": 100, "now": 100}})
        pay = rs.get(s.api_url + "/banks", json={"code": 0, "message": None, "response": []})
        c.banks()
        c.banks()
    assert tok.call_count == 2 and pay.call_count == 2
    assert [call.request.headers["Authorization"] for call in pay.calls] == ["t1", "t1"]


def test_tier_header_is_sent_when_configured(sandbox):
    import responses
    s = settings_for(sandbox, tier="AB1")
    c = IamportClient(s)
    with responses.RequestsMock() as rs:
        rs.post(s.api_url + "/users/getToken",
                json={"code": 0, "message": None, "response": {"access_token": "t1", "expired_at": 9999, "now": 100}})
        banks = rs.get(s.api_url + "/banks", json={"code": 0, "message": None, "response": []})
        c.banks()
    assert banks.calls[0].request.headers["Tier"] == "AB1"


def test_non_json_error_body_still_maps_to_api_error(sandbox):
    import responses
    s = settings_for(sandbox)
    c = IamportClient(s)
    with responses.RequestsMock() as rs:
        rs.post(s.api_url + "/users/getToken",
                json={"code": 0, "message": None, "response": {"access_token": "t1", "expired_at": 9999, "now": 100}})
        rs.post(s.api_url + "/payments/cancel", body="<html>Bad gateway</html>", status=502)
        with pytest.raises(ApiError) as e:
            c.cancel(imp_uid="imp_1", amount=100, checksum=100)
    assert e.value.http_status == 502 and e.value.path == "/payments/cancel"


def test_expired_token_gets_401_then_one_reauth_and_one_repeat(fresh, client):
    imp_uid = fresh.pick(status="paid")["imp_uid"]
    client.get_payment(imp_uid)
    fresh.expire_tokens()
    fresh.clear_requests()
    p = client.get_payment(imp_uid)
    assert p.imp_uid == imp_uid
    seen = [(r["method"], r["path"]) for r in fresh.requests_seen()]
    assert seen == [("GET", f"/payments/{imp_uid}"), ("POST", "/users/getToken"), ("GET", f"/payments/{imp_uid}")]


def test_wrong_secret_is_an_api_error_without_the_secret(sandbox):
    from pydantic import SecretStr
    s = settings_for(sandbox)
    s.imp_secret = SecretStr("definitely-wrong-secret-value")
    c = IamportClient(s)
    with pytest.raises(ApiError) as e:
        c.banks()
    assert e.value.http_status == 401
    assert "definitely-wrong-secret-value" not in str(e.value)
    assert "definitely-wrong-secret-value" not in repr(e.value)
    assert "definitely-wrong-secret-value" not in repr(s)


def test_not_found_maps_to_api_error_with_the_api_message(client):
    with pytest.raises(ApiError) as e:
        client.get_payment("imp_does_not_exist")
    err = e.value
    assert (err.http_status, err.code, err.method, err.path) == (404, -1, "GET", "/payments/imp_does_not_exist")
    assert err.message == "존재하지 않는 결제정보입니다."


def test_business_error_with_http_200_maps_to_api_error(fresh, client):
    p = fresh.pick(status="cancelled", pay_method="card")
    with pytest.raises(ApiError) as e:
        client.cancel(imp_uid=p["imp_uid"], reason="test")
    assert e.value.http_status == 200 and e.value.code == 1
    assert "이미 전액취소" in e.value.message


def test_list_by_status_returns_exactly_what_the_sandbox_holds(fresh, client):
    expected = {p["imp_uid"] for p in fresh.pending_vbanks()}
    progress = []
    rows = client.list_pending_vbanks_raw(NOW() - D90, NOW() + 60, progress=lambda d, t: progress.append((d, t)))
    assert {r["imp_uid"] for r in rows} == expected
    assert len(rows) == len(expected) > 0
    assert progress[-1][0] == progress[-1][1]


def test_pages_are_fetched_with_limit_1000_and_concurrently(sandbox):
    sb = Sandbox(payments=12000)
    try:
        in_flight, peak, lock = 0, 0, threading.Lock()

        class Counting(requests.Session):
            def request(self, *a, **kw):
                nonlocal in_flight, peak
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                try:
                    return super().request(*a, **kw)
                finally:
                    with lock:
                        in_flight -= 1

        sb.fault(path_prefix="/payments/status", latency_ms=150)
        s = settings_for(sb, concurrency=4)
        c = IamportClient(s, session=Counting())
        rows = c.list_by_status_raw("all", NOW() - D90 + 60, NOW() + 60)
        pages = [r for r in sb.requests_seen("/payments/status/all")]
        assert len(rows) == 12000
        assert len(pages) == 12
        assert all(r["params"]["limit"] == "1000" for r in pages)
        assert sorted(int(r["params"]["page"]) for r in pages) == list(range(1, 13))
        assert 1 < peak <= 4
    finally:
        sb.stop()


def test_ranges_longer_than_90_days_are_split_into_windows(fresh, client):
    fresh.clear_requests()
    t_to = NOW()
    t_from = t_to - 200 * 86400
    client.list_by_status_raw("paid", t_from, t_to)
    spans = sorted((int(r["params"]["from"]), int(r["params"]["to"]))
                   for r in fresh.requests_seen("/payments/status/paid") if r["params"].get("page") == "1")
    assert len(spans) == 3
    assert spans[0][0] == t_from and spans[-1][1] == t_to
    assert all(b - a <= D90 for a, b in spans)
    assert all(spans[i][1] + 1 == spans[i + 1][0] for i in range(len(spans) - 1))


def test_split_windows_edges():
    assert split_windows(0, 0) == [(0, 0)]
    assert split_windows(0, D90) == [(0, D90)]
    assert split_windows(0, D90 + 1) == [(0, D90), (D90 + 1, D90 + 1)]
    with pytest.raises(ValueError):
        split_windows(10, 0)


def test_get_is_retried_on_503(fresh, client):
    imp_uid = fresh.pick(status="paid")["imp_uid"]
    fresh.fault(path_prefix=f"/payments/{imp_uid}", status=503, times=2)
    assert client.get_payment(imp_uid).imp_uid == imp_uid
    assert [f["hits"] for f in fresh.faults()] == [2]


@pytest.mark.parametrize("status", [503, 429, 502])
def test_writes_are_never_retried(fresh, client, status):
    p = fresh.pick(status="ready", pg="settle")
    fresh.fault(path_prefix="/vbanks/", method="PUT", status=status, times=3)
    with pytest.raises(ApiError) as e:
        client.update_vbank(p["imp_uid"], amount=p["amount"] + 1000)
    assert e.value.http_status == status
    assert [f["hits"] for f in fresh.faults()] == [1]


def test_write_timeout_after_processing_is_outcome_unknown_and_not_resent(fresh, sandbox):
    c = IamportClient(settings_for(sandbox, read_timeout=0.5))
    p = fresh.pick(status="ready", pg="settle")
    fresh.fault(path_prefix="/vbanks/", method="PUT", after="timeout", hang_s=2.0)
    fresh.clear_requests()
    with pytest.raises(OutcomeUnknown):
        c.update_vbank(p["imp_uid"], amount=p["amount"] + 1000)
    assert len(fresh.requests_seen("/vbanks/", "PUT")) == 1
    assert c.get_payment(p["imp_uid"]).amount == p["amount"] + 1000     # it did take effect


def test_dropped_connection_after_processing_is_outcome_unknown(fresh, client):
    p = fresh.pick(status="ready", pg="settle")
    fresh.fault(path_prefix="/vbanks/", method="PUT", after="drop")
    with pytest.raises(OutcomeUnknown):
        client.update_vbank(p["imp_uid"], amount=p["amount"] + 500)
    assert client.get_payment(p["imp_uid"]).amount == p["amount"] + 500


def test_nothing_listening_is_api_unavailable():
    from lib.domain.settings import load_settings
    from tests.helpers import free_port
    s = load_settings(env={"IAMPORT_API_URL": f"http://127.0.0.1:{free_port()}", "VBANK_SECRETS_FILE": "/x"})
    s.connect_timeout = 1
    c = IamportClient(s)
    with pytest.raises(ApiUnavailable) as e:
        c.cancel(imp_uid="imp_1", amount=1)
    assert not isinstance(e.value, OutcomeUnknown)   # provably never sent


def test_get_many_chunks_and_skips_missing(fresh, client):
    ids = [p["imp_uid"] for p in fresh.all_payments()[:230]]
    got = client.get_payments(ids + ["imp_missing_1"])
    assert sorted(p.imp_uid for p in got) == sorted(ids)
    calls = fresh.requests_seen("/payments", "GET")
    assert any(len(c["params"]["imp_uid[]"]) == 100 for c in calls if c["path"] == "/payments")


def test_find_by_merchant_uid(fresh, client):
    p = fresh.pick(status="paid")
    assert client.find_by_merchant_uid(p["merchant_uid"]).imp_uid == p["imp_uid"]


def test_holder_and_banks(client):
    banks = client.banks()
    assert {"004", "088", "090"} <= {b.code for b in banks}
    assert client.holder("088", "110-123-456789") == client.holder("088", "110123456789")


def test_models_give_kst_datetimes_and_integer_won(fresh, client):
    raw = fresh.pick(status="paid")
    p = client.get_payment(raw["imp_uid"])
    assert p.paid_at.utcoffset().total_seconds() == 9 * 3600
    assert int(p.paid_at.timestamp()) == raw["paid_at"]
    assert p.failed_at is None          # 0 means none
    assert isinstance(p.amount, int) and p.refundable == raw["amount"] - raw["cancel_amount"]
