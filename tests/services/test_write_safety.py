"""Issue 10: what vbank-desk tells an operator about a write is what the API did, and no path sends money
twice or around an approval. Against the real sandbox over loopback, with its fault modes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import delete, select, text, update

from lib.db.appdb import AppDb
from lib.db.audit import record_hash
from lib.db.locks import LockStore
from lib.db.schema import approval_requests, audit_head, audit_log, inflight
from lib.domain import identity
from lib.domain.chain import Anchor
from lib.domain.identity import Actor
from lib.domain.refusals import Busy, NeedsApproval, Stale
from lib.domain.rules import InvalidInput, Seen
from lib.iamport import errors
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiUnavailable, OutcomeUnknown
from lib.services import approval_flow, bulk, refund, unknowns
from lib.services import update as services_update
from tests.conftest import paid_payment, ready_payment, refund_request
from tests.helpers import ROOT, settings_for

KIM = Actor("kim@example.com", frozenset({"operator"}))
LEE = Actor("lee@example.com", frozenset({"operator"}))
BOSS = Actor("boss@example.com", frozenset({"approver"}))


def outcomes(db, **kw) -> list[str]:
    return list(db.audit.records(**kw).sort_values("id")["outcome"])


def wait_for(cond, what: str, timeout: float = 30.0):
    """Poll a condition another process makes true (not a sleep that papers over a race)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(what)


# ============================================================ 1. no envelope: unknown
def test_refund_applied_then_gateway_504_html_is_confirmed_by_reread_and_never_resent(fresh, client, db, rules):
    """The issue's case: 24,500 won refunded, the gateway answers 504 with an HTML page. Re-read proves it
    landed; the operator starting over with what they saw is refused; one refund, not two."""
    p = paid_payment(fresh, client, min_amount=50_000)
    fresh.fault(path_prefix="/payments/cancel", after="error", status=504)
    fresh.clear_requests()
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 24_500), seen=Seen.of(p), rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread and r.extra["http_status"] == 504
    assert "no clear reply" in r.message and "Nothing was resent" in r.message
    assert outcomes(db, imp_uid=p.imp_uid) == ["sent", "succeeded"] and db.locks.all() == []
    assert db.writes.get(r.correlation_id)["state"] == "succeeded"
    with pytest.raises(Stale):            # "start over" with the figures seen before: refused, nothing sent
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 24_500), seen=Seen.of(p), rules=rules)
    assert len(fresh.requests_seen("/payments/cancel")) == 1 and len(fresh.refunds(p.imp_uid)) == 1
    assert client.get_payment(p.imp_uid).cancel_amount == 24_500


@pytest.mark.parametrize("fault", [dict(status=502, html=True), dict(status=503), dict(status=500, html=True)],
                         ids=["502-html", "503-envelope", "500-html"])
def test_refund_5xx_not_applied_is_unknown_never_failed(fresh, client, db, rules, fault):
    """A 5xx before the API applied anything still proves nothing: unknown, lock kept, nothing resent;
    resolved only by an operator who checked the PG."""
    p = paid_payment(fresh, client)
    fresh.fault(path_prefix="/payments/cancel", times=1, **fault)
    fresh.clear_requests()
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3000), seen=Seen.of(p), rules=rules)
    assert r.outcome == "unknown" and "No money moved" not in r.message
    assert db.locks.get(f"refund:{p.imp_uid}").state == "unknown"
    with pytest.raises(Busy, match="unknown outcome"):
        refund.refund_vbank(client, db, operator=LEE, request=refund_request(p, 3000), seen=Seen.of(p), rules=rules)
    again = unknowns.resolve_unknown_refund(client, db, operator=KIM, imp_uid=p.imp_uid)
    assert again.outcome == "unknown" and db.locks.get(f"refund:{p.imp_uid}") is not None
    done = unknowns.resolve_unknown_refund(client, db, operator=KIM, imp_uid=p.imp_uid,
                                           operator_confirms_not_applied=True)
    assert done.outcome == "failed" and db.locks.all() == []
    assert outcomes(db, imp_uid=p.imp_uid) == ["sent", "unknown", "resolved"]
    assert len(fresh.requests_seen("/payments/cancel")) == 1
    row = db.writes.get(r.correlation_id)            # the writes table moved with the records
    assert row["state"] == "failed" and row["unknown_at"] and row["resolved_at"]


def test_only_the_apis_own_envelope_is_a_refusal(fresh, client):
    """A checksum the API disagrees with: its envelope (code != 0) is a Refused, proof nothing moved."""
    p = paid_payment(fresh, client)
    with pytest.raises(errors.Refused) as e:
        client.cancel(imp_uid=p.imp_uid, amount=1000, checksum=p.refundable + 1, refund_holder="a",
                      refund_bank="BK04", refund_account="1234567890")
    assert e.value.code == 1 and "Checksum" in e.value.message
    assert client.get_payment(p.imp_uid).cancel_amount == 0


def test_update_applied_then_gateway_502_html_is_confirmed(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.fault(path_prefix="/vbanks/", method="PUT", after="error", status=502)
    fresh.clear_requests()
    r = services_update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 1500, rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread
    assert client.get_payment(p.imp_uid).amount == p.amount + 1500
    assert len(fresh.requests_seen("/vbanks/", "PUT")) == 1 and db.locks.all() == []


def test_update_applied_after_our_timeout_is_unknown_then_resolved_as_applied(fresh, sandbox, db, rules):
    """The API applies the change after our read timeout: the immediate re-read shows the old amount, which
    proves nothing. Unknown, lock kept ("You can try again" would be wrong); a later re-check resolves it."""
    c = IamportClient(settings_for(sandbox, read_timeout=0.4))
    p = ready_payment(fresh, c)
    fresh.fault(path_prefix="/vbanks/", method="PUT", latency_ms=1500, times=1)
    r = services_update.update_vbank(c, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 700, rules=rules)
    assert r.outcome == "unknown" and "try again" not in r.message.lower()
    assert db.locks.get(f"update_vbank:{p.imp_uid}").state == "unknown"
    with pytest.raises(Busy):
        services_update.update_vbank(c, db, operator=LEE, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 900, rules=rules)
    wait_for(lambda: c.get_payment(p.imp_uid).amount == p.amount + 700, "the sandbox applies the delayed change")
    res = unknowns.resolve_unknown_update(c, db, operator=LEE, imp_uid=p.imp_uid)
    assert res.outcome == "succeeded" and "took effect" in res.message and db.locks.all() == []
    assert outcomes(db, imp_uid=p.imp_uid) == ["sent", "unknown", "resolved"]
    assert len(fresh.requests_seen("/vbanks/", "PUT")) == 1


def test_update_unknown_resolved_as_not_applied_by_an_operator(fresh, client, db, rules):
    p = ready_payment(fresh, client)
    fresh.fault(path_prefix="/vbanks/", method="PUT", status=504, html=True, times=1)
    r = services_update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                              new_amount=p.amount + 700, rules=rules)
    assert r.outcome == "unknown"
    assert unknowns.resolve_unknown_update(client, db, operator=KIM, imp_uid=p.imp_uid).outcome == "unknown"
    res = unknowns.resolve_unknown_update(client, db, operator=KIM, imp_uid=p.imp_uid,
                                          operator_confirms_not_applied=True)
    assert res.outcome == "failed" and db.locks.all() == []
    ok = services_update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                               new_amount=p.amount + 700, rules=rules)
    assert ok.ok


def test_a_timed_out_token_request_is_not_an_unknown_write(fresh, sandbox):
    """No token, no refund: a getToken that times out is "unavailable", and no cancel was sent."""
    c = IamportClient(settings_for(sandbox, read_timeout=0.3))
    fresh.fault(path_prefix="/users/getToken", latency_ms=1000, times=1)
    fresh.clear_requests()
    with pytest.raises(ApiUnavailable) as e:
        c.cancel(imp_uid="imp_x", amount=1000)
    assert not isinstance(e.value, OutcomeUnknown)
    assert fresh.requests_seen("/payments/cancel") == []


def test_a_cancel_reply_that_is_a_gateway_page_is_outcome_unknown_at_the_client(fresh, client):
    fresh.fault(path_prefix="/payments/cancel", status=502, html=True, times=1)
    with pytest.raises(OutcomeUnknown) as e:
        client.cancel(imp_uid="imp_x", amount=1000)
    assert e.value.http_status == 502 and "not the API's reply" in e.value.message


# ============================================================ 2. locks outlive their owner
CHILD = """
import sys
from lib.db.appdb import AppDb
from lib.domain import banks
from lib.domain import rules as domain_rules
from lib.domain.identity import Actor
from lib.domain.settings import load_settings
from lib.iamport.client import IamportClient
from lib.services import refund
url, db, imp_uid = sys.argv[1:4]
s = load_settings(env={"IAMPORT_API_URL": url, "VBANK_SECRETS_FILE": "/nonexistent", "VBANK_RULES_FILE": "/nonexistent"})
s.read_timeout = 120
c = IamportClient(s)
p = c.get_payment(imp_uid)
bank = banks.refund_banks(p.pg_provider)[0]
from sandbox.store import holder_for
r = domain_rules.RefundRequest(imp_uid=imp_uid, amount=5000, reason_code="OTHER",
                           refund_holder=holder_for(bank.kftc, "110123456789"),
                           refund_bank=bank.code, refund_account="110123456789")
print("sending", flush=True)
refund.refund_vbank(c, AppDb(db), operator=Actor("kim@example.com", frozenset({"operator"})), request=r,
                      seen=domain_rules.Seen.of(p), rules=s.rules)
print("finished", flush=True)
"""


def test_app_process_killed_mid_send_leaves_a_lock_that_is_resolved_by_rereading(fresh, client, tmp_path, rules):
    """SIGKILL the process that sent a refund (the sandbox applied it and holds the reply). Its lock is not
    left 'Busy' forever: its owner is gone, so it becomes unknown and a re-read resolves it as applied."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    p = paid_payment(fresh, client)
    fresh.fault(path_prefix="/payments/cancel", after="timeout", hang_s=60, times=1)
    fresh.clear_requests()
    child = subprocess.Popen([sys.executable, "-c", CHILD, fresh.url, url, p.imp_uid], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: fresh.refunds(p.imp_uid), "the sandbox registers the child's refund")
        db = AppDb(url)
        held = db.locks.get(f"refund:{p.imp_uid}")
        assert held.state == "sending" and held.owner.split("|")[1] == str(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert db.locks.get(f"refund:{p.imp_uid}").abandoned()
    res = unknowns.resolve_unknown_refund(client, db, operator=LEE, imp_uid=p.imp_uid)
    assert res.outcome == "succeeded" and "took effect" in res.message
    assert db.locks.all() == []
    assert outcomes(db, correlation_id=held.correlation_id) == ["sent", "unknown", "resolved"]
    with pytest.raises(Stale):                       # the stale form cannot refund it again
        refund.refund_vbank(client, db, operator=LEE, request=refund_request(p, 5000), seen=Seen.of(p), rules=rules)
    assert len(fresh.requests_seen("/payments/cancel")) == 1 and len(fresh.refunds(p.imp_uid)) == 1


def dead_owner() -> str:
    import socket
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}|{proc.pid}|-"


def test_a_lock_taken_by_a_dead_process_before_sending_is_freed(fresh, client, db, rules):
    """Its owner died before claiming the send: provably nothing left, so the next refund goes ahead."""
    p = paid_payment(fresh, client)
    key = f"refund:{p.imp_uid}"
    db.locks.acquire(key, correlation_id="gone", operator="lee@example.com", action="refund")
    with db.audit.engine.begin() as c:
        c.execute(update(inflight).where(inflight.c.lock_key == key).values(owner=dead_owner()))
    fresh.clear_requests()
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 2000), seen=Seen.of(p), rules=rules)
    assert r.ok and len(fresh.requests_seen("/payments/cancel")) == 1
    old = db.audit.records(correlation_id="gone")
    assert list(old["outcome"]) == ["failed"] and json.loads(old.iloc[0]["detail"])["why"] == "stopped_before_sending"


def test_a_sending_lock_past_its_lease_becomes_unknown_not_free(fresh, client, db, rules):
    """A lock that claimed its send and then outlived its lease (an instance on another host that hung):
    the send may have happened, so it is unknown until a re-read or an operator settles it."""
    p = paid_payment(fresh, client)
    key = f"refund:{p.imp_uid}"
    db.locks.acquire(key, correlation_id="hung", operator="lee@example.com", action="refund", lease_s=-1)
    assert db.locks.claim_send(key, "hung", lease_s=-1)
    db.audit.record(operator="lee@example.com", action="refund", outcome="sent", correlation_id="hung",
                 imp_uid=p.imp_uid, request={"amount": 7000}, detail={"before": {"cancel_amount": 0}})
    with db.audit.engine.begin() as c:      # another host: only the lease can tell
        c.execute(update(inflight).where(inflight.c.lock_key == key).values(owner="other-host|1|1"))
    fresh.clear_requests()
    with pytest.raises(Busy, match="unknown outcome"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 2000), seen=Seen.of(p), rules=rules)
    assert db.locks.get(key).state == "unknown" and fresh.requests_seen("/payments/cancel") == []
    res = unknowns.resolve_unknown_refund(client, db, operator=KIM, imp_uid=p.imp_uid,
                                          operator_confirms_not_applied=True)
    assert res.outcome == "failed" and db.locks.all() == []


def test_a_live_owner_within_its_lease_is_never_taken_over(db):
    locks = LockStore(db.audit.engine)
    assert locks.acquire("refund:imp_live", correlation_id="a", operator="kim", action="refund") is None
    held = locks.acquire("refund:imp_live", correlation_id="b", operator="lee", action="refund")
    assert held.correlation_id == "a" and not held.abandoned() and locks.take_over(held, note="x") is None
    assert locks.claim_send("refund:imp_live", "a", lease_s=60)
    assert not locks.claim_send("refund:imp_live", "b", lease_s=60)      # not ours


# ============================================================ 3. four eyes in lib
@pytest.fixture
def low_limit(rules):
    rules.refund_approval_above = 10_000
    rules.refund_operator_window_limit = 25_000
    return rules


def test_a_made_up_approval_id_sends_nothing(fresh, client, db, low_limit):
    p = paid_payment(fresh, client, min_amount=20_000)
    fresh.clear_requests()
    with pytest.raises(NeedsApproval, match="no approval request"):
        refund.refund_vbank(client, db, operator=BOSS, request=refund_request(p, 12_000), seen=Seen.of(p), rules=low_limit,
                              approval_id="made-up")
    assert fresh.requests_seen("/payments/cancel") == []


def test_an_approval_only_covers_exactly_what_was_requested(fresh, client, db, low_limit):
    p = paid_payment(fresh, client, min_amount=20_000)
    q = approval_flow.request_refund_approval(client, db, requester=KIM, request=refund_request(p, 12_000), seen=Seen.of(p),
                                         rules=low_limit)
    fresh.clear_requests()
    for other in (refund_request(p, 13_000), refund_request(p, 12_000, refund_account="999-888-777666")):   # another amount / account
        with pytest.raises((NeedsApproval, InvalidInput)):
            refund.refund_vbank(client, db, operator=BOSS, request=other, seen=Seen.of(p), rules=low_limit,
                                  approval_id=q.id)
    assert fresh.requests_seen("/payments/cancel") == []
    with pytest.raises(identity.Forbidden):          # the requester cannot use their own request
        refund.refund_vbank(client, db, operator=Actor(KIM.email, frozenset({"operator", "approver"})),
                              request=refund_request(p, 12_000), seen=Seen.of(p), rules=low_limit, approval_id=q.id)
    res = approval_flow.approve(client, db, approver=BOSS, request_id=q.id, rules=low_limit)
    assert res.ok and len(fresh.requests_seen("/payments/cancel")) == 1
    assert fresh.refunds(p.imp_uid)[0]["refund_account"] == "110123456789"      # the sealed full number was sent
    with db.audit.engine.connect() as c:
        row = c.execute(select(approval_requests).where(approval_requests.c.id == q.id)).mappings().one()
    assert row["status"] == "executed" and row["sealed"] is None          # full numbers erased once decided
    assert json.loads(row["payload"])["request"]["refund_account"] == "110-***-***789"


def test_split_refunds_count_toward_the_limit(fresh, client, db, low_limit):
    """Two refunds of 6,000 on one payment where one of 12,000 needs approval: the second needs it too."""
    p = paid_payment(fresh, client, min_amount=20_000)
    fresh.clear_requests()
    first = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 6_000), seen=Seen.of(p), rules=low_limit)
    assert first.ok
    p2 = client.get_payment(p.imp_uid)
    with pytest.raises(NeedsApproval, match="refunded ₩6,000 before"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p2, 6_000), seen=Seen.of(p2), rules=low_limit)
    assert len(fresh.requests_seen("/payments/cancel")) == 1


def test_one_operators_refunds_in_the_window_count_toward_a_second_limit(fresh, client, db, low_limit):
    """9,000 + 9,000 + 9,000 on three payments by one person passes the 25,000 per-person window limit."""
    pays = [client.get_payment(x["imp_uid"]) for x in fresh.all_payments("paid")
            if x["pay_method"] == "vbank" and x["pg_provider"] == "kcp" and x["cancel_amount"] == 0
            and x["amount"] >= 10_000][:3]
    fresh.clear_requests()
    for p in pays[:2]:
        assert refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 9_000), seen=Seen.of(p),
                                     rules=low_limit).ok
    with pytest.raises(NeedsApproval, match="₩18,000 without approval"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(pays[2], 9_000), seen=Seen.of(pays[2]),
                              rules=low_limit)
    assert refund.refund_vbank(client, db, operator=LEE, request=refund_request(pays[2], 9_000), seen=Seen.of(pays[2]),
                                 rules=low_limit).ok                         # another person's window is their own
    assert len(fresh.requests_seen("/payments/cancel")) == 3


def test_a_waiting_request_blocks_a_direct_refund_of_the_same_payment(fresh, client, db, low_limit):
    p = paid_payment(fresh, client, min_amount=20_000)
    q = approval_flow.request_refund_approval(client, db, requester=KIM, request=refund_request(p, 12_000), seen=Seen.of(p),
                                         rules=low_limit)
    fresh.clear_requests()
    with pytest.raises(Busy) as e:
        refund.refund_vbank(client, db, operator=LEE, request=refund_request(p, 5_000), seen=Seen.of(p), rules=low_limit)
    assert e.value.request_id == q.id and "waiting for approval" in str(e.value)
    assert fresh.requests_seen("/payments/cancel") == []
    approval_flow.withdraw(db, requester=KIM, request_id=q.id)
    assert refund.refund_vbank(client, db, operator=LEE, request=refund_request(p, 5_000), seen=Seen.of(p),
                                 rules=low_limit).ok


def test_a_bulk_approval_id_must_name_a_matching_request(fresh, client, db, rules):
    rules.bulk_approval_above_count = 1
    rows = [client.get_payment(x["imp_uid"]) for x in fresh.pending_vbanks()
            if x["pg_provider"] in ("settle", "kcp") and x["vbank_date"] > time.time() + 3600][:3]
    q = approval_flow.request_bulk_approval(db, requester=KIM, payments=rows[:2], extend_days=1, to=None, rules=rules)
    fresh.clear_requests()
    with pytest.raises(NeedsApproval):            # other accounts than those requested
        bulk.bulk_extend(client, db, operator=BOSS, payments=rows[1:], extend_days=1, rules=rules,
                             approval_id=q.id)
    with pytest.raises(NeedsApproval):            # another change than the one requested
        bulk.bulk_extend(client, db, operator=BOSS, payments=rows[:2], extend_days=5, rules=rules,
                             approval_id=q.id)
    assert fresh.requests_seen("/vbanks/", "PUT") == []
    res = approval_flow.approve(client, db, approver=BOSS, request_id=q.id, rules=rules)
    assert res.ok and len(fresh.requests_seen("/vbanks/", "PUT")) == 2


# ============================================================ 4. field rules of the spec
def test_new_smartro_needs_the_holders_phone(fresh, client, db, rules):
    p = paid_payment(fresh, client, pg="smartro_v2", min_amount=5_000)
    with pytest.raises(InvalidInput, match="phone"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000), seen=Seen.of(p), rules=rules)
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000, refund_tel="010-1234-5678"),
                              seen=Seen.of(p), rules=rules)
    assert r.ok and fresh.refunds(p.imp_uid)[-1]["refund_tel"] == "01012345678"


def test_tax_free_and_vat_split(fresh, client, db, rules):
    p = paid_payment(fresh, client, pg="kcp")
    with pytest.raises(InvalidInput, match="together cannot be more"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000, tax_free=600, vat_amount=500),
                              seen=Seen.of(p), rules=rules)
    with pytest.raises(InvalidInput, match="does not take a VAT amount"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000, vat_amount=90), seen=Seen.of(p),
                              rules=rules)
    q = paid_payment(fresh, client, pg="html5_inicis")
    fresh.clear_requests()
    assert refund.refund_vbank(client, db, operator=KIM, request=refund_request(q, 1100, tax_free=0, vat_amount=100),
                                 seen=Seen.of(q), rules=rules).ok
    assert fresh.requests_seen("/payments/cancel")[0]["params"]["vat_amount"] == 100


@pytest.mark.parametrize("account", ["１１０１２３４５６７８９", "١١٠١٢٣٤٥٦٧٨٩", "11055512345²"])
def test_account_numbers_are_ascii_digits_only(fresh, client, db, rules, account):
    p = paid_payment(fresh, client)
    fresh.clear_requests()
    with pytest.raises(InvalidInput, match="0–9"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000, refund_account=account),
                              seen=Seen.of(p), rules=rules)
    assert fresh.requests_seen("/payments/cancel") == []


# ============================================================ 5. the audit chain proves its length
def fill(db, n=6):
    for i in range(n):
        db.audit.record(operator="kim", action="refund", outcome="sent", correlation_id=f"c{i}", imp_uid=f"imp_{i}",
                     request={"amount": 1000 + i})


def test_removing_the_newest_records_is_reported(db):
    fill(db)
    assert db.audit.verify_chain().ok and db.audit.verify_chain().signed
    with db.audit.engine.begin() as c:
        c.execute(delete(audit_log).where(audit_log.c.id > 4))
    rep = db.audit.verify_chain()
    assert not rep.ok and rep.reason == "newest_removed" and rep.params["removed"] == 2


def test_a_rewritten_and_rechained_tail_is_reported_with_a_key(db):
    fill(db)
    rechain_tail(db, from_id=5)
    rep = db.audit.verify_chain()
    assert not rep.ok and rep.first_broken_id == 5 and "signature" in rep.reason


def rechain_tail(db, from_id: int) -> None:
    """What someone with database access but no key can do: change a record, recompute every hash after it
    and the head's count/hash (but not the HMACs)."""
    with db.audit.engine.begin() as c:
        rows = c.execute(select(audit_log).order_by(audit_log.c.id)).mappings().all()
        prev = None
        for r in rows:
            row = dict(r)
            if row["id"] >= from_id:
                if row["id"] == from_id:
                    row["request"] = json.dumps({"amount": 999_999})
                row["prev_hash"] = prev
                row["hash"] = record_hash(row)
                c.execute(update(audit_log).where(audit_log.c.id == row["id"])
                          .values(request=row["request"], prev_hash=row["prev_hash"], hash=row["hash"]))
            prev = row["hash"]
        c.execute(update(audit_head).values(head_hash=prev))


def test_without_a_key_an_exported_anchor_catches_a_rewrite_and_a_rollback(tmp_path):
    db = AppDb(f"sqlite:///{tmp_path / 'unsigned.sqlite3'}")
    fill(db)
    anchor = Anchor.parse(db.audit.anchor().text())
    assert anchor.count == 6 and db.audit.verify_chain(anchor).ok and not db.audit.verify_chain().signed
    rechain_tail(db, from_id=5)
    assert db.audit.verify_chain().ok                                   # undetectable inside the database…
    rep = db.audit.verify_chain(anchor)                                 # …but not against the exported anchor
    assert not rep.ok and rep.anchored and rep.reason == "anchor_differs"
    with db.audit.engine.begin() as c:                                  # roll back to 4 records, head made to match
        c.execute(delete(audit_log).where(audit_log.c.id > 4))
        last = c.execute(select(audit_log.c.hash).where(audit_log.c.id == 4)).scalar()
        c.execute(update(audit_head).values(count=4, last_id=4, head_hash=last))
    rep = db.audit.verify_chain(anchor)
    assert not rep.ok and rep.reason == "fewer_than_anchor"


def test_anchor_text_is_validated():
    with pytest.raises(ValueError):
        Anchor.parse("12:not-a-hash")


def test_an_old_log_gains_the_new_columns(tmp_path):
    """A database written before records were signed and locks had owners still opens."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    from sqlalchemy import create_engine
    e = create_engine(url)
    with e.begin() as c:
        c.execute(text("CREATE TABLE inflight (lock_key VARCHAR(120) PRIMARY KEY, correlation_id VARCHAR(40) NOT NULL, "
                       "operator VARCHAR(200) NOT NULL, action VARCHAR(40) NOT NULL, state VARCHAR(20) NOT NULL, "
                       "since FLOAT NOT NULL, note TEXT)"))
    db = AppDb(url)
    assert db.locks.acquire("refund:imp_1", correlation_id="a", operator="kim", action="refund") is None
    assert db.locks.get("refund:imp_1").owner


# ============================================================ 6. a consistent pending list
def test_pending_list_stays_consistent_when_accounts_are_paid_during_the_fetch(fresh, sandbox, monkeypatch):
    """Deposits land after the first page and before the others: offset pages shift. The listing notices
    (a page's total differs) and reads the window again by time: nothing pending is missing, nothing paid
    is shown."""
    import lib.iamport.listing as listing_mod
    monkeypatch.setattr(listing_mod, "PAGE_LIMIT", 40)
    c = IamportClient(settings_for(sandbox, concurrency=2))
    now = int(time.time())
    before = fresh.pending_vbanks()
    assert len(before) > 120
    paid_meanwhile: list[str] = []

    def progress(done, total):
        if not paid_meanwhile:                  # after the first page, before the others are requested
            oldest = sorted(before, key=lambda x: x["started_at"])[:25]
            for x in oldest:
                fresh.deposit(x["imp_uid"])
                paid_meanwhile.append(x["imp_uid"])

    got = c.list_pending_vbanks_raw(now - 90 * 86400 + 60, now + 60, progress=progress)
    expected = {x["imp_uid"] for x in fresh.pending_vbanks()}
    ids = {x["imp_uid"] for x in got}
    assert paid_meanwhile and not ids & set(paid_meanwhile)
    assert ids == expected


def test_pending_list_of_an_unchanged_sandbox_needs_no_second_pass(fresh, sandbox, monkeypatch):
    import lib.iamport.listing as listing_mod
    monkeypatch.setattr(listing_mod, "PAGE_LIMIT", 40)
    c = IamportClient(settings_for(sandbox, concurrency=2))
    now = int(time.time())
    fresh.clear_requests()
    got = c.list_pending_vbanks_raw(now - 90 * 86400 + 60, now + 60)
    pages = fresh.requests_seen("/payments/status/ready")
    assert {x["imp_uid"] for x in got} == {x["imp_uid"] for x in fresh.pending_vbanks()}
    assert {int(r["params"]["page"]) for r in pages} == set(range(1, len(pages) + 1))   # one pass, by offset


def test_threads_racing_the_same_approval_send_once(fresh, client, db, low_limit):
    p = paid_payment(fresh, client, min_amount=20_000)
    q = approval_flow.request_refund_approval(client, db, requester=KIM, request=refund_request(p, 12_000), seen=Seen.of(p),
                                         rules=low_limit)
    fresh.clear_requests()
    fresh.fault(path_prefix="/payments/cancel", latency_ms=200)
    out, barrier = [], threading.Barrier(2)

    def go(email):
        barrier.wait()
        try:
            out.append(approval_flow.approve(IamportClient(settings_for(fresh)), db,
                                        approver=Actor(email, frozenset({"approver"})), request_id=q.id,
                                        rules=low_limit).outcome)
        except (Busy, Stale) as e:
            out.append(type(e).__name__)

    ts = [threading.Thread(target=go, args=(e,)) for e in ("a@x", "b@x")]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert sorted(out) == ["Busy", "succeeded"] and len(fresh.requests_seen("/payments/cancel")) == 1


def test_interrupted_after_sending_keeps_the_lock_as_unknown(fresh, client, db, rules, monkeypatch):
    """The script is stopped after the request left (a rerun, a crash in our own code): the lock stays
    'unknown', the audit says so, and nothing is resent until it is resolved."""
    p = paid_payment(fresh, client)
    real = client.cancel

    class Stopped(BaseException):
        pass

    def cancel_then_stop(**body):
        real(**body)
        raise Stopped()

    monkeypatch.setattr(client, "cancel", cancel_then_stop)
    with pytest.raises(Stopped):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3000), seen=Seen.of(p), rules=rules)
    monkeypatch.setattr(client, "cancel", real)
    assert db.locks.get(f"refund:{p.imp_uid}").state == "unknown"
    assert outcomes(db, imp_uid=p.imp_uid) == ["sent", "unknown"]
    fresh.clear_requests()
    with pytest.raises(Busy):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3000), seen=Seen.of(p), rules=rules)
    assert fresh.requests_seen("/payments/cancel") == []
    assert unknowns.resolve_unknown_refund(client, db, operator=KIM, imp_uid=p.imp_uid).ok


def test_interrupted_before_sending_frees_the_lock(fresh, client, db, rules, monkeypatch):
    p = paid_payment(fresh, client)

    monkeypatch.setattr(db.locks, "claim_send", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db")))
    with pytest.raises(RuntimeError):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3000), seen=Seen.of(p), rules=rules)
    assert db.locks.all() == [] and outcomes(db, imp_uid=p.imp_uid) == []
