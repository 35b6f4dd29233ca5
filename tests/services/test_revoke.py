"""가상계좌 발급취소 (DELETE /vbanks/{imp_uid}) through the same Write as the other two writes, against the sandbox."""

from __future__ import annotations

import threading
import time

import pytest

from lib.domain.identity import Actor, Forbidden
from lib.domain.refusals import Busy, NeedsApproval, Stale
from lib.domain.rules import InvalidInput, Seen
from lib.iamport.client import IamportClient
from lib.reports import timeline
from lib.services import approval_flow, bulk, revoke, unknowns
from tests.conftest import ready_payment
from tests.helpers import settings_for

KIM = Actor("kim@example.com", frozenset({"operator"}))


def outcomes(db, imp_uid):
    return list(db.audit.records(imp_uid=imp_uid).sort_values("id")["outcome"])


def deletes(sandbox) -> list:
    return sandbox.requests_seen("/vbanks/", "DELETE")


def test_one_delete_closes_the_account_audited_and_in_the_story(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.clear_requests()
    r = revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules,
                            note="주문 취소")
    assert r.outcome == "succeeded" and r.payment.status == "cancelled" and r.payment.cancel_amount == 0
    assert len(deletes(fresh)) == 1 and client.get_payment(p.imp_uid).status == "cancelled"
    assert outcomes(db, p.imp_uid) == ["sent", "succeeded"] and db.locks.all() == []
    rec = db.audit.records(imp_uid=p.imp_uid)
    assert set(rec["action"]) == {"revoke_vbank"}
    story = timeline.build(client.get_payment(p.imp_uid), db.audit.records(imp_uid=p.imp_uid), rules)
    assert [(e.who, e.detail) for e in story if e.what == "Virtual account cancelled"] == [("kim@example.com",
                                                                                             "주문 취소")]


def test_an_account_paid_meanwhile_is_not_cancelled(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)                        # the customer paid after the page was drawn
    fresh.clear_requests()
    with pytest.raises(Stale):
        revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules)
    assert deletes(fresh) == [] and db.locks.all() == []
    assert client.get_payment(p.imp_uid).status == "paid"


@pytest.mark.parametrize("pg,why", [("daou", "does not cancel virtual accounts"), ("html5_inicis", "API key")])
def test_pgs_that_cannot_cancel_through_the_api_are_refused_before_sending(fresh, client, db, rules, pg, why):
    p = ready_payment(fresh, client, pg=pg)
    fresh.clear_requests()
    with pytest.raises(InvalidInput) as e:
        revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules)
    assert why in " ".join(e.value.problems) and deletes(fresh) == []


def test_a_viewer_may_not_and_nothing_is_read(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.clear_requests()
    with pytest.raises(Forbidden):
        revoke.revoke_vbank(client, db, operator=Actor("v@example.com", frozenset({"viewer"})),
                            imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules)
    assert fresh.requests_seen("/") == []


def test_a_reply_lost_after_the_close_is_proven_by_a_reread_and_not_resent(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.fault(path_prefix="/vbanks/", method="DELETE", after="drop")
    fresh.clear_requests()
    r = revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread
    assert len(deletes(fresh)) == 1 and db.locks.all() == []


def test_a_gateway_page_is_unknown_blocks_a_second_send_and_is_resolved(fresh, client, db, rules):
    """A 502 page before the API applied it: unknown, never "nothing moved"; a second click sends nothing; once an
    operator who checked the PG resolves it as not applied, the account can be cancelled again."""
    p = ready_payment(fresh, client)
    fresh.fault(path_prefix="/vbanks/", method="DELETE", status=502, html=True, times=1)
    fresh.clear_requests()
    r = revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules)
    assert r.outcome == "unknown" and client.get_payment(p.imp_uid).status == "ready"
    assert db.locks.get(f"revoke_vbank:{p.imp_uid}").state == "unknown"
    with pytest.raises(Busy):
        revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules)
    assert len(deletes(fresh)) == 1
    again = unknowns.resolve_unknown(client, db, operator=KIM, kind="revoke_vbank", imp_uid=p.imp_uid)
    assert again.outcome == "unknown"                      # the re-read does not show it: still unknown
    done = unknowns.resolve_unknown(client, db, operator=KIM, kind="revoke_vbank", imp_uid=p.imp_uid,
                                    operator_confirms_not_applied=True)
    assert done.outcome == "failed" and db.locks.all() == []
    r2 = revoke.revoke_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(client.get_payment(p.imp_uid)),
                             rules=rules)
    assert r2.outcome == "succeeded" and len(deletes(fresh)) == 2


def test_two_clicks_at_once_send_one_delete(fresh, sandbox, db, rules):
    c = IamportClient(settings_for(sandbox))
    p = ready_payment(fresh, c)
    fresh.fault(path_prefix="/vbanks/", method="DELETE", latency_ms=400)
    fresh.clear_requests()
    out: list = []

    def click():
        try:
            out.append(revoke.revoke_vbank(c, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules))
        except (Busy, Stale) as e:
            out.append(e)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(deletes(fresh)) == 1
    assert sorted(type(x).__name__ for x in out) in (["Busy", "WriteResult"], ["Stale", "WriteResult"])


def _ready(fresh, client, n, pg="settle"):
    now = time.time()
    out = [client.get_payment(p["imp_uid"]) for p in fresh.pending_vbanks()
           if p["pg_provider"] == pg and (p.get("vbank_date") or 0) > now + 3600][:n]
    assert len(out) == n
    return out


def test_bulk_cancel_needs_the_number_typed_and_lists_every_row(fresh, client, db, rules):
    ps = _ready(fresh, client, 3)
    fresh.deposit(ps[1].imp_uid)                          # paid after the list was read: refused, the others go on
    fresh.clear_requests()
    with pytest.raises(InvalidInput):
        bulk.bulk_revoke(client, db, operator=KIM, payments=ps, rules=rules, typed_confirmation="2")
    assert deletes(fresh) == []
    rows = bulk.bulk_revoke(client, db, operator=KIM, payments=ps, rules=rules, typed_confirmation="3")
    assert [(r.imp_uid, r.outcome) for r in rows] == [(ps[0].imp_uid, "succeeded"), (ps[1].imp_uid, "refused"),
                                                       (ps[2].imp_uid, "succeeded")]
    assert len(deletes(fresh)) == 2


def test_above_the_bulk_limit_cancelling_is_a_request_a_second_person_carries_out(fresh, client, db, rules):
    rules.bulk_approval_above_count = 1
    ps = _ready(fresh, client, 2)
    fresh.clear_requests()
    with pytest.raises(NeedsApproval):
        bulk.bulk_revoke(client, db, operator=KIM, payments=ps, rules=rules, typed_confirmation="2")
    req = approval_flow.request_bulk_revoke_approval(db, requester=KIM, payments=ps, rules=rules,
                                                     typed_confirmation="2")
    with pytest.raises(Forbidden):                                         # not by the requester
        approval_flow.approve(client, db, approver=Actor(KIM.email, frozenset({"approver"})), request_id=req.id,
                              rules=rules)
    boss = Actor("boss@example.com", frozenset({"approver"}))
    r = approval_flow.approve(client, db, approver=boss, request_id=req.id, rules=rules)
    assert r.outcome == "succeeded" and len(deletes(fresh)) == 2
    assert db.approvals.get(req.id).status == "executed"
    assert {client.get_payment(p.imp_uid).status for p in ps} == {"cancelled"}
