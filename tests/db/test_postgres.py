"""The audit, lock and approval stores on a real PostgreSQL server: several app instances, one database."""

from __future__ import annotations

import threading

import pytest

from lib.db.appdb import AppDb
from lib.domain.identity import Actor
from lib.domain.refusals import Busy, Stale
from lib.domain.rules import RefundRequest, Seen
from lib.iamport.client import IamportClient
from lib.services import approval_flow, refund
from tests.conftest import bank_holder
from tests.helpers import settings_for

OPERATOR = Actor("op@example.com", frozenset({"operator"}))
APPROVER = Actor("boss@example.com", frozenset({"approver"}))


@pytest.fixture
def pg_url(postgres):
    return postgres.new_database()


def test_chain_and_locks_on_postgres(pg_url):
    da, dbb = AppDb(pg_url), AppDb(pg_url)                  # two app instances
    a, b = da.audit, dbb.audit
    assert a.dialect == "postgresql"
    barrier = threading.Barrier(2)

    def write(st, n):
        barrier.wait(timeout=60)
        for i in range(20):
            st.record(operator=f"op{n}", action="x", outcome="sent", correlation_id=f"{n}-{i}",
                      request={"refund_account": "110123456789"})

    ts = [threading.Thread(target=write, args=(st, n)) for n, st in enumerate((a, b))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    rep = b.verify_chain()
    assert rep.ok and rep.checked == 40
    assert "110123456789" not in a.records(limit=1)["request"].iloc[0]
    assert da.locks.acquire("refund:imp_1", correlation_id="x", operator="kim", action="refund") is None
    held = dbb.locks.acquire("refund:imp_1", correlation_id="y", operator="lee", action="refund")
    assert held is not None and held.operator == "kim"


def test_two_instances_racing_to_send_the_same_refund_send_one(fresh, sandbox, pg_url):
    c0 = IamportClient(settings_for(sandbox))
    p = c0.get_payment(fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0
                                  and x["amount"] >= 10000)["imp_uid"])
    fresh.fault(path_prefix="/payments/cancel", latency_ms=300)
    fresh.clear_requests()
    rules = settings_for(sandbox).rules
    r = RefundRequest(imp_uid=p.imp_uid, amount=5000, reason_code="CUSTOMER_REQUEST",
                      refund_holder=bank_holder(p.pg_provider, "BK88", "110123456789"),
                      refund_bank="BK88", refund_account="110123456789")
    barrier = threading.Barrier(2)
    results, refused = [], []

    def instance(name):
        db = AppDb(pg_url)                                # each instance: own engine, own client
        client = IamportClient(settings_for(sandbox))
        barrier.wait(timeout=60)
        try:
            results.append(refund.refund_vbank(client, db, operator=Actor(name, frozenset({"operator"})),
                                                 request=r, seen=Seen.of(p), rules=rules))
        except (Busy, Stale) as e:
            refused.append(e)

    ts = [threading.Thread(target=instance, args=(n,)) for n in ("a@x", "b@x")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(fresh.requests_seen("/payments/cancel")) == 1
    assert len(results) == 1 and results[0].ok and len(refused) == 1
    assert c0.get_payment(p.imp_uid).cancel_amount == 5000


def test_request_on_one_instance_approved_on_the_other(fresh, sandbox, pg_url):
    s = settings_for(sandbox)
    s.rules.refund_approval_above = 10_000
    c = IamportClient(s)
    p = c.get_payment(fresh.pick(status="paid", pg="html5_inicis", where=lambda x: x["cancel_amount"] == 0
                                 and x["amount"] > 10_000)["imp_uid"])
    db_one, db_two = AppDb(pg_url), AppDb(pg_url)
    one, two = db_one.approvals, db_two.approvals
    r = approval_flow.request_refund_approval(c, db_one, requester=OPERATOR, seen=Seen.of(p), rules=s.rules,
                           request=RefundRequest(imp_uid=p.imp_uid, amount=p.refundable, reason_code="OTHER",
                                                 refund_holder=bank_holder(p.pg_provider, "88", "110123456789"),
                                                 refund_bank="88",
                                                 refund_account="110123456789"))
    assert [x.id for x in two.list(status="pending")] == [r.id]
    res = approval_flow.approve(IamportClient(s), db_two, approver=APPROVER, request_id=r.id, rules=s.rules)
    assert res.ok and one.get(r.id).status == "executed"
    assert two.audit.verify_chain().ok


def test_two_approvers_on_two_instances_one_wins(fresh, sandbox, pg_url):
    s = settings_for(sandbox)
    s.rules.refund_approval_above = 10_000
    c = IamportClient(s)
    p = c.get_payment(fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0
                                 and x["amount"] > 10_000)["imp_uid"])
    r = approval_flow.request_refund_approval(
        c, AppDb(pg_url), requester=OPERATOR, seen=Seen.of(p), rules=s.rules,
        request=RefundRequest(imp_uid=p.imp_uid, amount=p.refundable, reason_code="OTHER",
                              refund_holder=bank_holder(p.pg_provider, "BK88", "110123456789"),
                              refund_bank="BK88", refund_account="110123456789"))
    fresh.clear_requests()
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(email):
        a = AppDb(pg_url)
        barrier.wait(timeout=60)
        try:
            outcomes.append(approval_flow.approve(IamportClient(s), a, approver=Actor(email, frozenset({"approver"})),
                                             request_id=r.id, rules=s.rules).outcome)
        except Busy:
            outcomes.append("busy")

    ts = [threading.Thread(target=approve, args=(e,)) for e in ("x@x", "y@x")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(outcomes) == ["busy", "succeeded"]
    assert len(fresh.requests_seen("/payments/cancel")) == 1
