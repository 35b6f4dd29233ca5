"""Four-eyes approval and role checks, all enforced in lib."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from lib.db import approvals
from lib.db.appdb import AppDb
from lib.domain.identity import Actor, Forbidden, roles_for
from lib.domain.refusals import Busy, NeedsApproval, Stale
from lib.domain.rules import InvalidInput, RefundRequest, Seen
from tests.conftest import bank_holder

OPERATOR = Actor("op@example.com", frozenset({"operator"}))
APPROVER = Actor("boss@example.com", frozenset({"approver"}))
BOTH = Actor("both@example.com", frozenset({"operator", "approver"}))
VIEWER = Actor("view@example.com", frozenset({"viewer"}))
ADMIN = Actor("admin@example.com", frozenset({"admin"}))


@pytest.fixture
def db(tmp_path):
    return AppDb(f"sqlite:///{tmp_path / 'a.sqlite3'}")


@pytest.fixture
def store(db):
    return db.approvals


@pytest.fixture
def rules(settings):
    settings.rules.refund_approval_above = 50_000
    return settings.rules


def big_paid(fresh, client, pg="kcp"):
    return client.get_payment(fresh.pick(status="paid", pg=pg, where=lambda x: x["cancel_amount"] == 0
                                         and x["amount"] > 100_000)["imp_uid"])


def req(p, amount=None):
    return RefundRequest(imp_uid=p.imp_uid, amount=amount or p.refundable, reason_code="CUSTOMER_REQUEST",
                         refund_holder=bank_holder(p.pg_provider, "BK88", "110123456789"), refund_bank="BK88",
                         refund_account="110123456789")


def test_roles_from_configuration():
    m = {"viewer": ["*"], "operator": ["Op@Example.com"], "approver": ["boss@example.com"]}
    assert roles_for("op@example.com", m) == {"viewer", "operator"}
    assert roles_for("someone@else.com", m) == {"viewer"}
    assert roles_for("x@y", {}) == frozenset()


@pytest.mark.parametrize("actor", [VIEWER, APPROVER, ADMIN, Actor("", frozenset({"operator"}))])
def test_every_write_checks_the_role_in_lib(fresh, client, db, rules, actor):
    ready = client.get_payment(fresh.pick(status="ready", pg="settle")["imp_uid"])
    paid = big_paid(fresh, client)
    fresh.clear_requests()
    with pytest.raises(Forbidden):
        services_update.update_vbank(client, db, operator=actor, imp_uid=ready.imp_uid, seen=Seen.of(ready),
                              new_amount=ready.amount + 1, rules=rules)
    with pytest.raises(Forbidden):
        bulk.bulk_extend(client, db, operator=actor, payments=[ready], extend_days=1, rules=rules)
    with pytest.raises(Forbidden):
        refund.refund_vbank(client, db, operator=actor, request=req(paid, 1000), seen=Seen.of(paid), rules=rules)
    if "approver" in actor.roles:       # approvers send refunds through requests, so they may resolve them
        assert "no unresolved" in unknowns.resolve_unknown_refund(client, db, operator=actor,
                                                                  imp_uid=paid.imp_uid).message
    else:
        with pytest.raises(Forbidden):
            unknowns.resolve_unknown_refund(client, db, operator=actor, imp_uid=paid.imp_uid)
    assert fresh.requests_seen("/vbanks/") == [] and fresh.requests_seen("/payments/cancel") == []


def test_operator_cannot_approve_and_viewer_cannot_request(fresh, client, store, db, rules):
    p = big_paid(fresh, client)
    with pytest.raises(Forbidden):
        approval_flow.request_refund_approval(client, db, requester=VIEWER, request=req(p), seen=Seen.of(p), rules=rules)
    r = approval_flow.request_refund_approval(client, db, requester=OPERATOR, request=req(p), seen=Seen.of(p), rules=rules)
    with pytest.raises(Forbidden):
        approval_flow.approve(client, db, approver=Actor("op2@example.com", frozenset({"operator"})), request_id=r.id, rules=rules)


def test_large_refund_needs_approval_then_goes_through(fresh, client, store, db, rules):
    p = big_paid(fresh, client)
    with pytest.raises(NeedsApproval):
        refund.refund_vbank(client, db, operator=OPERATOR, request=req(p), seen=Seen.of(p), rules=rules)
    r = approval_flow.request_refund_approval(client, db, requester=OPERATOR, request=req(p), seen=Seen.of(p), rules=rules,
                             fee_preview={"refund_cost": p.amount + 300}, note="damaged goods")
    assert r.status == "pending" and r.payload["fee_preview"]["refund_cost"] == p.amount + 300
    with pytest.raises(Busy):                                  # one pending request per payment
        approval_flow.request_refund_approval(client, db, requester=BOTH, request=req(p, 1000), seen=Seen.of(p), rules=rules)
    fresh.clear_requests()
    res = approval_flow.approve(client, db, approver=APPROVER, request_id=r.id, rules=rules, note="ok")
    assert res.ok and len(fresh.requests_seen("/payments/cancel")) == 1
    done = store.get(r.id)
    assert (done.status, done.decided_by) == ("executed", APPROVER.email)
    assert client.get_payment(p.imp_uid).status == "cancelled"
    trail = db.audit.records(imp_uid=p.imp_uid).sort_values("id")
    assert list(trail["outcome"]) == ["requested", "approved", "sent", "succeeded"]
    assert list(trail["operator"]) == [OPERATOR.email] + [APPROVER.email] * 3
    with pytest.raises(Busy):                                  # already decided
        approval_flow.approve(client, db, approver=BOTH, request_id=r.id, rules=rules)


def test_requester_cannot_approve_own_request(fresh, client, store, db, rules):
    p = big_paid(fresh, client)
    r = approval_flow.request_refund_approval(client, db, requester=BOTH, request=req(p), seen=Seen.of(p), rules=rules)
    with pytest.raises(Forbidden):
        approval_flow.approve(client, db, approver=BOTH, request_id=r.id, rules=rules)
    with pytest.raises(Forbidden):
        approval_flow.reject(db, approver=Actor("BOTH@example.com", frozenset({"approver"})), request_id=r.id, note="no")
    assert store.get(r.id).status == "pending"


def test_rejected_and_expired_requests(fresh, client, store, rules, db):
    p = big_paid(fresh, client)
    r = approval_flow.request_refund_approval(client, db, requester=OPERATOR, request=req(p), seen=Seen.of(p), rules=rules)
    with pytest.raises(InvalidInput):
        approval_flow.reject(db, approver=APPROVER, request_id=r.id, note=" ")
    rej = approval_flow.reject(db, approver=APPROVER, request_id=r.id, note="wrong account")
    assert rej.status == "rejected" and rej.decision_note == "wrong account"
    with pytest.raises(Busy):
        approval_flow.approve(client, db, approver=APPROVER, request_id=r.id, rules=rules)
    r2 = approval_flow.request_refund_approval(client, db, requester=OPERATOR, request=req(p), seen=Seen.of(p), rules=rules)   # allowed again
    with store.engine.begin() as c:
        c.execute(update(approvals.approval_requests).where(approvals.approval_requests.c.id == r2.id)
                  .values(expires_at=time.time() - 1))
    assert store.get(r2.id).status == "expired"
    with pytest.raises(InvalidInput) as e:
        approval_flow.approve(client, db, approver=APPROVER, request_id=r2.id, rules=rules)
    assert "expired" in e.value.problems[0]
    assert "expired" in set(db.audit.records(outcome="expired")["outcome"])


def test_approval_after_the_payment_changed_is_refused(fresh, client, store, db, rules):
    p = big_paid(fresh, client)
    r = approval_flow.request_refund_approval(client, db, requester=OPERATOR, request=req(p, 60_000), seen=Seen.of(p), rules=rules)
    fresh.api("POST", "/payments/cancel", json={"imp_uid": p.imp_uid, "amount": 1000, "refund_holder": "a",
                                                 "refund_bank": "BK04", "refund_account": "1234567890"})
    fresh.clear_requests()
    with pytest.raises(Stale):
        approval_flow.approve(client, db, approver=APPROVER, request_id=r.id, rules=rules)
    assert fresh.requests_seen("/payments/cancel") == []
    done = store.get(r.id)
    assert done.status == "failed" and "changed since the request" in done.result["message"]


def test_bulk_over_the_count_needs_approval(fresh, client, store, db, rules):
    rules.bulk_approval_above_count = 2
    now = time.time()
    rows = [client.get_payment(p["imp_uid"]) for p in fresh.pending_vbanks()
            if p["pg_provider"] in ("kcp", "settle") and p["vbank_date"] > now][:3]
    with pytest.raises(NeedsApproval):
        bulk.bulk_extend(client, db, operator=OPERATOR, payments=rows, extend_days=1, rules=rules)
    r = approval_flow.request_bulk_approval(db, requester=OPERATOR, payments=rows, extend_days=1, to=None, rules=rules)
    res = approval_flow.approve(client, db, approver=APPROVER, request_id=r.id, rules=rules)
    assert res.ok and store.get(r.id).status == "executed"
    for p in rows:
        assert client.get_payment(p.imp_uid).vbank_date.timestamp() == p.vbank_date.timestamp() + 86400


# ------------------------------------------------------------ who is acting
from lib.domain.identity import header_identity, oidc_identity
from lib.services import approval_flow, bulk, refund, unknowns
from lib.services import update as services_update


def headers(**h):
    items = [(k.replace("_", "-"), v) for k, vs in h.items() for v in (vs if isinstance(vs, list) else [vs])]
    return lambda name: [v for k, v in items if k.lower() == name.lower()]


@pytest.mark.parametrize("h,expect", [
    (dict(X_Vbank_Proxy_Secret="s3cret", X_Forwarded_Email="kim@example.com"), ("kim@example.com", None)),
    (dict(X_Forwarded_Email="kim@example.com"), (None, "did not come through")),                  # no secret
    (dict(X_Vbank_Proxy_Secret="guess", X_Forwarded_Email="kim@example.com"), (None, "did not come through")),
    (dict(X_Vbank_Proxy_Secret="s3cret", X_Forwarded_Email=["evil@x.com", "kim@example.com"]),
     (None, "more than one person")),                                                          # header sent twice
    (dict(X_Vbank_Proxy_Secret=["s3cret", "s3cret"], X_Forwarded_Email="kim@example.com"), (None, "did not come")),
    (dict(X_Vbank_Proxy_Secret="s3cret", X_Forwarded_Email="**boss** [x](http://e)"), (None, "not an e-mail")),
    (dict(X_Vbank_Proxy_Secret="s3cret"), (None, None)),                                       # not signed in
])
def test_header_identity_needs_the_proxy_and_one_header(h, expect):
    email, why = header_identity(headers(**h), header="X-Forwarded-Email", proxy_secret="s3cret",
                                 secret_header="X-Vbank-Proxy-Secret")
    assert email == expect[0]
    assert (why is None) if expect[1] is None else (expect[1] in why)


def test_header_mode_without_a_configured_secret_identifies_nobody():
    email, why = header_identity(headers(X_Forwarded_Email="kim@example.com"), header="X-Forwarded-Email",
                                 proxy_secret=None, secret_header="X-Vbank-Proxy-Secret")
    assert email is None and "VBANK_PROXY_SECRET" in why


def test_oidc_needs_a_verified_email():
    assert oidc_identity({"email": "kim@example.com", "email_verified": True}) == ("kim@example.com", None)
    assert oidc_identity({"email": "kim@example.com"})[0] is None
    assert oidc_identity({"email": "kim@example.com", "email_verified": "true"})[0] is None
