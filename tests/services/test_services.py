"""The two write services end to end against the sandbox over HTTP, with injected faults."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from lib.domain import rules as domain_rules
from lib.domain.clock import now_kst
from lib.domain.identity import Actor
from lib.domain.refusals import Busy, Stale
from lib.domain.rules import InvalidInput, Seen
from lib.iamport import errors as iamport_errors
from lib.iamport.client import IamportClient
from lib.services import bulk, refund, unknowns, update

KIM = Actor("kim", frozenset({"operator"}))
LEE = Actor("lee", frozenset({"operator"}))
from tests.conftest import paid_payment, ready_payment, refund_request
from tests.helpers import settings_for


def outcomes(db, imp_uid):
    df = db.audit.records(imp_uid=imp_uid)
    return list(df.sort_values("id")["outcome"])


# ============================================================== update vbank
def test_update_amount_and_due(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    new_due = (now_kst() + timedelta(days=5)).replace(microsecond=0)
    fresh.clear_requests()
    r = update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 5000, new_due=new_due, rules=rules)
    assert r.ok and r.payment.amount == p.amount + 5000
    after = fresh.api("GET", f"/payments/{p.imp_uid}").json()["response"]
    assert (after["amount"], after["vbank_date"]) == (p.amount + 5000, int(new_due.timestamp()))
    puts = fresh.requests_seen("/vbanks/", "PUT")
    assert len(puts) == 1 and puts[0]["params"] == {"amount": p.amount + 5000, "vbank_due": int(new_due.timestamp())}
    assert outcomes(db, p.imp_uid) == ["sent", "succeeded"]
    rec = db.audit.records(imp_uid=p.imp_uid)
    assert set(rec["correlation_id"]) == {r.correlation_id} and set(rec["operator"]) == {"kim"}
    assert db.locks.all() == []


def test_only_changed_fields_are_sent(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.clear_requests()
    update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                          new_amount=p.amount + 1000, new_due=p.vbank_date, rules=rules)
    assert fresh.requests_seen("/vbanks/", "PUT")[0]["params"] == {"amount": p.amount + 1000}


@pytest.mark.parametrize("kw,needle", [
    ({"new_amount": 0}, "more than ₩0"),
    ({"new_amount": -100}, "more than ₩0"),
    ({"new_amount": 10.5}, "whole number"),
    ({"new_amount": 10_000_001}, "ceiling"),
    ({"new_due": "past"}, "not in the future"),
    ({"new_due": "far"}, "days ahead"),
    ({}, "Nothing changed"),
])
def test_update_validation(fresh, client, db, rules, kw, needle):
    p = ready_payment(fresh, client)
    if kw.get("new_due") == "past":
        kw["new_due"] = now_kst() - timedelta(minutes=1)
    if kw.get("new_due") == "far":
        kw["new_due"] = now_kst() + timedelta(days=rules.update_max_horizon_days + 1)
    fresh.clear_requests()
    with pytest.raises(InvalidInput) as e:
        update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules, **kw)
    assert any(needle in x for x in e.value.problems), e.value.problems
    assert fresh.requests_seen("/vbanks/", "PUT") == []
    assert outcomes(db, p.imp_uid) == [] and db.locks.all() == []


def test_update_unsupported_pg(fresh, client, db, rules):
    p = ready_payment(fresh, client, pg="danal_tpay")
    with pytest.raises(InvalidInput) as e:
        update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 1, rules=rules)
    assert "not offered for PG 다날 (danal_tpay)" in e.value.problems[0]


def test_update_refused_when_paid_between_load_and_submit(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    fresh.clear_requests()
    with pytest.raises(Stale) as e:
        update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 1000, rules=rules)
    assert "status is now Paid (was Awaiting deposit)" in e.value.changes[0]
    assert fresh.requests_seen("/vbanks/", "PUT") == [] and db.locks.all() == []


def test_update_payment_not_found(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    with pytest.raises(iamport_errors.ApiError) as e:
        update.update_vbank(client, db, operator=KIM, imp_uid="imp_gone", seen=Seen.of(p),
                              new_amount=1000, rules=rules)
    assert e.value.http_status == 404 and db.locks.all() == []


def test_update_api_refusal_is_quoted_and_audited(sandbox, db):
    """A PG the API refuses though our configuration allows it: the API's own words come back."""
    s = settings_for(sandbox)
    s.rules.vbank_update_pgs.append("daou")
    c = IamportClient(s)
    sandbox.reset()
    p = c.get_payment(sandbox.pick(status="ready", pg="daou")["imp_uid"])
    r = update.update_vbank(c, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 1000, rules=s.rules)
    assert r.outcome == "failed" and "daou는 가상계좌 정보 수정을 지원하지 않습니다." in r.message
    assert outcomes(db, p.imp_uid) == ["sent", "failed"]
    assert db.audit.records(imp_uid=p.imp_uid)["api_message"].iloc[0] == "daou는 가상계좌 정보 수정을 지원하지 않습니다."
    assert c.get_payment(p.imp_uid).amount == p.amount


def test_update_timeout_after_the_sandbox_applied_it(fresh, sandbox, db, rules):
    c = IamportClient(settings_for(sandbox, read_timeout=0.5))
    p = ready_payment(fresh, c)
    fresh.fault(path_prefix="/vbanks/", method="PUT", after="timeout", hang_s=2.0)
    fresh.clear_requests()
    r = update.update_vbank(c, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 700, rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread and "took effect" in r.message
    assert len(fresh.requests_seen("/vbanks/", "PUT")) == 1          # reported as applied, not resent
    assert outcomes(db, p.imp_uid) == ["sent", "succeeded"] and db.locks.all() == []


def test_update_dropped_connection_after_apply_is_confirmed_by_reread(fresh, client, db, rules):
    """The sandbox applies the change, then cuts the reply: the re-read proves it landed."""
    p = ready_payment(fresh, client)
    fresh.fault(path_prefix="/vbanks/", method="PUT", after="drop")
    fresh.clear_requests()
    r = update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 700, new_due=None, rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread
    assert client.get_payment(p.imp_uid).amount == p.amount + 700
    assert len(fresh.requests_seen("/vbanks/", "PUT")) == 1 and db.locks.all() == []


def test_second_update_while_one_is_in_flight_is_busy(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    held = db.locks.acquire(f"update_vbank:{p.imp_uid}", correlation_id="other", operator="lee", action="update_vbank")
    assert held is None
    fresh.clear_requests()
    with pytest.raises(Busy) as e:
        update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 1, rules=rules)
    assert "lee" in str(e.value) and fresh.requests_seen("/vbanks/", "PUT") == []


# ==================================================================== refund
def test_full_refund(fresh, client, db, rules):
    p = paid_payment(fresh, client)
    fresh.clear_requests()
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p), seen=Seen.of(p), rules=rules)
    assert r.ok and r.payment.status == "cancelled" and r.payment.cancel_amount == p.amount
    sent = fresh.requests_seen("/payments/cancel")
    assert len(sent) == 1 and sent[0]["params"]["checksum"] == p.amount
    assert sent[0]["params"]["refund_account"] == "110123456789" and sent[0]["params"]["refund_bank"] == "BK04"
    assert outcomes(db, p.imp_uid) == ["sent", "succeeded"]
    stored = db.audit.records(imp_uid=p.imp_uid)["request"].iloc[0]
    assert "110123456789" not in stored and "110******789" in stored


def test_partial_then_second_partial(fresh, client, db, rules):
    p = paid_payment(fresh, client, pg="html5_inicis")
    r1 = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3000), seen=Seen.of(p), rules=rules)
    assert r1.ok and r1.payment.cancel_amount == 3000 and r1.payment.status == "paid"
    p2 = r1.payment
    r2 = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p2, 2000), seen=Seen.of(p2), rules=rules)
    assert r2.ok and r2.payment.cancel_amount == 5000
    sent = fresh.requests_seen("/payments/cancel")
    assert [s["params"]["checksum"] for s in sent] == [p.amount, p.amount - 3000]
    assert len(r2.payment.cancel_history) == 2


def test_over_refund_refused_before_sending(fresh, client, db, rules):
    p = paid_payment(fresh, client)
    fresh.clear_requests()
    with pytest.raises(InvalidInput) as e:
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, p.refundable + 1), seen=Seen.of(p),
                              rules=rules)
    assert "more than the refundable balance" in e.value.problems[0]
    assert fresh.requests_seen("/payments/cancel") == [] and db.locks.all() == []


def test_refund_made_elsewhere_between_read_and_send_is_stale(fresh, client, db, rules):
    p = paid_payment(fresh, client)
    fresh.api("POST", "/payments/cancel", json={"imp_uid": p.imp_uid, "amount": 1000, "refund_holder": "a",
                                                 "refund_bank": "BK04", "refund_account": "1234567890"})
    fresh.clear_requests()
    with pytest.raises(Stale) as e:
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 2000), seen=Seen.of(p), rules=rules)
    assert "refunded so far is now ₩1,000" in e.value.changes[0]
    assert fresh.requests_seen("/payments/cancel") == [] and db.locks.all() == []


def test_checksum_mismatch_at_the_api_is_a_quoted_failure(fresh, client, db, rules, monkeypatch):
    """The API's own checksum check (a refund lands between our re-read and our send)."""
    p = paid_payment(fresh, client)
    real_get = client.get_payment
    calls = {"n": 0}

    def get_then_someone_refunds(imp_uid):
        got = real_get(imp_uid)
        calls["n"] += 1
        fresh.api("POST", "/payments/cancel", json={"imp_uid": imp_uid, "amount": 1000, "refund_holder": "a",
                                                     "refund_bank": "BK04", "refund_account": "1234567890"})
        return got

    monkeypatch.setattr(client, "get_payment", get_then_someone_refunds)
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 2000), seen=Seen.of(p), rules=rules)
    assert r.outcome == "failed" and "Checksum" in r.message
    assert outcomes(db, p.imp_uid) == ["sent", "failed"] and db.locks.all() == []
    assert real_get(p.imp_uid).cancel_amount == 1000          # only the other refund


def test_danal_refused(fresh, client, db, rules):
    p = client.get_payment(fresh.pick(status="paid", pg="danal_tpay")["imp_uid"])
    with pytest.raises(InvalidInput) as e:
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000, refund_bank="004"),
                              seen=Seen.of(p), rules=rules)
    assert "does not refund virtual accounts" in e.value.problems[0]


@pytest.mark.parametrize("kw,needle", [
    ({"refund_holder": " "}, "holder's name"),
    ({"refund_account": ""}, "account number"),
    ({"refund_account": "12-34"}, "8 to 16 digits"),
    ({"refund_account": "110-12a-456789"}, "0–9 and hyphens"),
    ({"refund_bank": "088"}, "Pick the customer's bank"),       # KFTC code sent for KCP
    ({"reason_code": "NOPE"}, "refund reason"),
    ({"amount": 0}, "more than ₩0"),
])
def test_refund_field_validation(fresh, client, db, rules, kw, needle):
    p = paid_payment(fresh, client, pg="kcp")
    fresh.clear_requests()
    with pytest.raises(InvalidInput) as e:
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, **kw), seen=Seen.of(p), rules=rules)
    assert any(needle in x for x in e.value.problems), e.value.problems
    assert fresh.requests_seen("/payments/cancel") == []


def test_old_smartro_needs_phone(fresh, client, db, rules):
    p = paid_payment(fresh, client, pg="smartro", where=lambda x: x["cancel_amount"] == 0)
    with pytest.raises(InvalidInput) as e:
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000), seen=Seen.of(p), rules=rules)
    assert "phone" in e.value.problems[0]
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000, refund_tel="010-1234-5678"),
                              seen=Seen.of(p), rules=rules)
    assert r.ok
    assert fresh.refunds(p.imp_uid)[-1]["refund_tel"] == "01012345678"


def test_refund_timeout_after_the_sandbox_applied_it_is_success_and_not_resent(fresh, sandbox, db, rules):
    c = IamportClient(settings_for(sandbox, read_timeout=0.5))
    p = paid_payment(fresh, c)
    fresh.fault(path_prefix="/payments/cancel", after="timeout", hang_s=2.0)
    fresh.clear_requests()
    r = refund.refund_vbank(c, db, operator=KIM, request=refund_request(p, 4000), seen=Seen.of(p), rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread
    assert len(fresh.requests_seen("/payments/cancel")) == 1
    assert len(fresh.refunds(p.imp_uid)) == 1 and c.get_payment(p.imp_uid).cancel_amount == 4000
    assert outcomes(db, p.imp_uid) == ["sent", "succeeded"] and db.locks.all() == []


def test_refund_timeout_and_reread_fails_is_unknown_and_blocks_resending(fresh, sandbox, db, rules, monkeypatch):
    c = IamportClient(settings_for(sandbox, read_timeout=0.5))
    p = paid_payment(fresh, c)
    fresh.fault(path_prefix="/payments/cancel", after="timeout", hang_s=2.0)
    real_get = c.get_payment
    reads = []

    def get_fails_after_the_send(imp_uid):      # the API goes away right after our refund
        reads.append(imp_uid)
        if len(reads) > 1:
            raise iamport_errors.ApiError("sandbox unreachable", method="GET", path=f"/payments/{imp_uid}")
        return real_get(imp_uid)

    monkeypatch.setattr(c, "get_payment", get_fails_after_the_send)
    r = refund.refund_vbank(c, db, operator=KIM, request=refund_request(p, 4000), seen=Seen.of(p), rules=rules)
    monkeypatch.setattr(c, "get_payment", real_get)
    assert r.outcome == "unknown" and "resolve" in r.message.lower()
    assert db.locks.get(f"refund:{p.imp_uid}").state == "unknown"
    fresh.clear_faults()
    fresh.clear_requests()
    p_now = c.get_payment(p.imp_uid)
    with pytest.raises(Busy) as e:
        refund.refund_vbank(c, db, operator=KIM, request=refund_request(p_now, 1000), seen=Seen.of(p_now), rules=rules)
    assert "unknown outcome" in str(e.value)
    assert fresh.requests_seen("/payments/cancel") == []
    res = unknowns.resolve_unknown_refund(c, db, operator=KIM, imp_uid=p.imp_uid)
    assert res.ok and db.locks.all() == []                      # the sandbox had applied it
    assert outcomes(db, p.imp_uid) == ["sent", "unknown", "resolved"]


def test_concurrent_refunds_of_one_payment_send_exactly_one(fresh, client, db, rules, sandbox):
    p = paid_payment(fresh, client)
    fresh.fault(path_prefix="/payments/cancel", latency_ms=300)
    fresh.clear_requests()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def go(name):
        c = IamportClient(settings_for(sandbox))
        barrier.wait()
        try:
            results.append(refund.refund_vbank(c, db, operator=Actor(name, frozenset({"operator"})),
                                                 request=refund_request(p, 3000), seen=Seen.of(p),
                                                 rules=rules))
        except (Busy, Stale) as e:
            errors.append(e)

    threads = [threading.Thread(target=go, args=(n,)) for n in ("kim", "lee")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fresh.requests_seen("/payments/cancel")) == 1
    assert len(results) == 1 and results[0].ok and len(errors) == 1
    assert client.get_payment(p.imp_uid).cancel_amount == 3000


def test_refund_not_paid_or_not_vbank(fresh, client, db, rules):
    card = client.get_payment(fresh.pick(status="paid", pay_method="card")["imp_uid"])
    assert "not a virtual-account payment" in domain_rules.refund_blockers(card)[0]
    r = ready_payment(fresh, client)
    assert "Only a paid payment" in domain_rules.refund_blockers(r)[0]
    full = client.get_payment(fresh.pick(status="cancelled")["imp_uid"])
    assert "already fully refunded" in domain_rules.refund_blockers(full)[0]


# =============================================================== bulk extend
def test_bulk_extend_per_row_outcomes(fresh, client, db, rules):
    now = now_kst().timestamp()
    ok = [client.get_payment(p["imp_uid"]) for p in fresh.pending_vbanks()
          if p["pg_provider"] == "kcp" and p["vbank_date"] > now][:2]
    paid_meanwhile = client.get_payment(fresh.pick(status="ready", pg="settle",
                                                   where=lambda x: x["vbank_date"] > now)["imp_uid"])
    unsupported = client.get_payment(fresh.pick(status="ready", pg="daou")["imp_uid"])
    fresh.deposit(paid_meanwhile.imp_uid)
    fresh.clear_requests()
    rows = bulk.bulk_extend(client, db, operator=KIM, payments=ok + [paid_meanwhile, unsupported],
                                extend_days=2, rules=rules)
    assert [r.outcome for r in rows] == ["succeeded", "succeeded", "refused", "refused"]
    assert "Changed since loaded" in rows[2].message and "not offered" in rows[3].message
    assert len(fresh.requests_seen("/vbanks/", "PUT")) == 2
    for p in ok:
        assert client.get_payment(p.imp_uid).vbank_date == p.vbank_date + timedelta(days=2)


@pytest.mark.parametrize("kw,needle", [({"extend_days": 0}, "at least one day"), ({}, "either"),
                                       ({"extend_days": 1, "to": now_kst()}, "either")])
def test_bulk_extend_rejects_bad_plans(fresh, client, db, rules, kw, needle):
    with pytest.raises(InvalidInput) as e:
        bulk.bulk_extend(client, db, operator=KIM, payments=[ready_payment(fresh, client)], rules=rules, **kw)
    assert needle in e.value.problems[0]
