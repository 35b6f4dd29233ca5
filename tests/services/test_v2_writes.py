"""V2 writes through the same safety as V1 (lib/services/refund.py, revoke.py, update.py over write.py): validate,
re-read right before sending, one send, audit before and after, an unknown outcome re-read and never resent, four
eyes unchanged — with a PortOneV2Client against the real V2 sandbox over loopback."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr

from lib.domain.clock import now_kst
from lib.domain.identity import Actor
from lib.domain.refusals import Busy, NeedsApproval
from lib.domain.rules import InvalidInput, RefundRequest, Seen
from lib.domain.settings import Rules
from lib.iamport.v2.client import PortOneV2Client, V2Config
from lib.services import refund, revoke, unknowns
from lib.services import update as services_update

KIM = Actor("kim@example.com", frozenset({"operator"}))
LEE = Actor("lee@example.com", frozenset({"operator"}))
RULES = Rules()


@pytest.fixture
def v2(sandbox_v2):
    sandbox_v2.reset()
    sandbox_v2.clear_requests()
    yield sandbox_v2
    sandbox_v2.clear_faults()


def client_for(sb, **kw) -> PortOneV2Client:
    from tests.v2.harness import SECRET, STORE_ID
    return PortOneV2Client(V2Config(api_url=sb.url, secret=SecretStr(SECRET), store_id=STORE_ID, **kw))


@pytest.fixture
def c(sandbox_v2):
    cl = client_for(sandbox_v2)
    yield cl
    cl.close()


def outcomes(db, **kw) -> list[str]:
    return list(db.audit.records(**kw).sort_values("id")["outcome"])


def paid(v2, c, pg: str = "KCP_V2"):
    want = v2.pick("PAID", pg=pg, where=lambda p: not p.get("cancellations") and 20_000 <= p["amount"]["total"])
    return c.get_payment(want["id"])


def request(p, amount: int, **kw) -> RefundRequest:
    base = dict(imp_uid=p.imp_uid, amount=amount, reason_code="CUSTOMER_REQUEST", note="v2",
                refund_holder="홍길동", refund_bank="SHINHAN", refund_account="110-123-456789",
                refund_tel="010-1234-5678")
    return RefundRequest(**{**base, **kw})


def cancels(v2, p) -> list[dict]:
    return v2.requests_seen(f"/payments/{p.imp_uid}/cancel", "POST")


# ------------------------------------------------------------------ refund
def test_a_v2_refund_is_sent_once_with_the_balance_as_current_cancellable_amount(v2, c, db):
    p = paid(v2, c)
    r = refund.refund_vbank(c, db, operator=KIM, request=request(p, 7_000), seen=Seen.of(p), rules=RULES)
    assert r.outcome == "succeeded" and r.extra["cancel_status"] == "succeeded"
    assert r.payment.cancel_amount == 7_000 and "[vd:" in r.payment.cancel_history[-1].reason
    sent = cancels(v2, p)
    assert len(sent) == 1 and sent[0]["params"]["currentCancellableAmount"] == p.refundable
    assert sent[0]["params"]["refundAccount"]["bank"] == "SHINHAN"
    assert outcomes(db, imp_uid=p.imp_uid) == ["sent", "succeeded"] and db.locks.all() == []
    rec = db.audit.records(imp_uid=p.imp_uid, outcome="sent").iloc[-1]
    assert "110-123-456789" not in rec["request"]                    # masked in the audit
    assert "no account-holder lookup" in rec["detail"]              # the holder check says V2 has none


def test_a_v1_bank_code_is_refused_before_sending(v2, c, db):
    p = paid(v2, c)
    with pytest.raises(InvalidInput):
        refund.refund_vbank(c, db, operator=KIM, request=request(p, 7_000, refund_bank="088"), seen=Seen.of(p),
                            rules=RULES)
    assert cancels(v2, p) == [] and outcomes(db, imp_uid=p.imp_uid) == []


def test_an_async_refund_is_recorded_as_requested_not_done(v2, c, db):
    from tests.v2.harness import ASYNC_PG
    p = paid(v2, c, ASYNC_PG)
    r = refund.refund_vbank(c, db, operator=KIM, request=request(p, 6_000), seen=Seen.of(p), rules=RULES)
    assert r.outcome == "succeeded" and r.extra["cancel_status"] == "requested"
    assert r.message.startswith("Refund requested") and r.payment.cancel_amount == 0
    done = db.audit.records(imp_uid=p.imp_uid, outcome="succeeded").iloc[-1]
    assert '"cancel_status": "requested"' in done["detail"]
    # a second refund while the first is still requested is refused before anything is sent
    now = c.get_payment(p.imp_uid)
    with pytest.raises(InvalidInput, match="still being processed"):
        refund.refund_vbank(c, db, operator=KIM, request=request(now, 1_000), seen=Seen.of(now), rules=RULES)
    assert len(cancels(v2, p)) == 1


def test_a_timeout_after_sending_is_settled_by_a_reread_and_never_resent(v2, sandbox_v2, db):
    slow = client_for(sandbox_v2, read_timeout=0.5)
    p = paid(v2, slow)
    v2.fault(path_prefix=f"/payments/{p.imp_uid}/cancel", after="timeout", hang_s=2.0, times=1)
    r = refund.refund_vbank(slow, db, operator=KIM, request=request(p, 5_000), seen=Seen.of(p), rules=RULES)
    assert r.outcome == "succeeded" and r.confirmed_by_reread and "Nothing was resent" in r.message
    assert len(cancels(v2, p)) == 1 and c_amount(v2, p) == 5_000
    slow.close()


def c_amount(v2, p) -> int:
    return v2.payment(p.imp_uid)["amount"]["cancelled"]


def test_a_timeout_on_an_async_refund_stays_unknown_and_blocks_a_second_send(v2, sandbox_v2, db):
    """The re-read cannot prove a REQUESTED cancel landed (it is not refunded yet): unknown, lock kept, nothing
    resent — a second operator is refused; once the PG completes it, resolving proves it by a re-read."""
    from tests.v2.harness import ASYNC_PG
    slow = client_for(sandbox_v2, read_timeout=0.5)
    p = paid(v2, slow, ASYNC_PG)
    v2.fault(path_prefix=f"/payments/{p.imp_uid}/cancel", after="timeout", hang_s=2.0, times=1)
    r = refund.refund_vbank(slow, db, operator=KIM, request=request(p, 5_000), seen=Seen.of(p), rules=RULES)
    assert r.outcome == "unknown" and "may still apply it" in r.message
    with pytest.raises(Busy):
        refund.refund_vbank(slow, db, operator=LEE, request=request(p, 5_000), seen=Seen.of(p), rules=RULES)
    assert len(cancels(v2, p)) == 1
    cid = v2.payment(p.imp_uid)["cancellations"][-1]["id"]
    v2.complete_cancellation(p.imp_uid, cid)
    settled = unknowns.resolve_unknown_refund(slow, db, operator=KIM, imp_uid=p.imp_uid)
    assert settled.outcome == "succeeded" and db.locks.all() == []
    assert len(cancels(v2, p)) == 1
    slow.close()


def test_a_double_submit_sends_once(v2, c, db):
    p = paid(v2, c)
    v2.fault(path_prefix=f"/payments/{p.imp_uid}/cancel", latency_ms=800, times=1)
    results: list[object] = []
    gate = threading.Barrier(2)

    def go():
        gate.wait()
        try:
            results.append(refund.refund_vbank(c, db, operator=KIM, request=request(p, 4_000), seen=Seen.of(p),
                                               rules=RULES, action_key="click-1"))
        except Busy as e:
            results.append(e)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(x).__name__ for x in results) == ["Busy", "WriteResult"]
    assert len(cancels(v2, p)) == 1 and c_amount(v2, p) == 4_000


def test_four_eyes_limits_hold_for_v2(v2, c, db):
    p = paid(v2, c)
    with pytest.raises(NeedsApproval):
        refund.refund_vbank(c, db, operator=KIM, request=request(p, 6_000), seen=Seen.of(p),
                            rules=Rules(refund_approval_above=5_000))
    assert cancels(v2, p) == []


# ------------------------------------------------------------------ close
def test_a_v2_account_of_any_pg_is_closed_once(v2, c, db):
    """KG이니시스 needs its own key to revoke through V1 (refused before sending there); V2 closes it."""
    want = v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="INICIS_V2")
    p = c.get_payment(want["id"])
    r = revoke.revoke_vbank(c, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=RULES)
    assert r.outcome == "succeeded" and r.payment.status in ("cancelled", "failed")
    assert len(v2.requests_seen(f"/payments/{p.imp_uid}/virtual-account/close", "POST")) == 1
    assert outcomes(db, imp_uid=p.imp_uid) == ["sent", "succeeded"]


def test_a_close_whose_reply_is_lost_is_confirmed_by_a_reread(v2, sandbox_v2, db):
    slow = client_for(sandbox_v2, read_timeout=0.5)
    want = v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="KCP_V2")
    p = slow.get_payment(want["id"])
    v2.fault(path_prefix=f"/payments/{p.imp_uid}/virtual-account/close", after="timeout", hang_s=2.0, times=1)
    r = revoke.revoke_vbank(slow, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), rules=RULES)
    assert r.outcome == "succeeded" and r.confirmed_by_reread
    assert len(v2.requests_seen(f"/payments/{p.imp_uid}/virtual-account/close", "POST")) == 1
    slow.close()


# ------------------------------------------------------------------ change
def test_a_v2_change_is_refused_before_anything_offering_close_and_reissue(v2, c, db):
    want = v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="KCP_V2")
    p = c.get_payment(want["id"])
    with pytest.raises(InvalidInput, match="Close this account and issue a new one"):
        services_update.update_vbank(c, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                                     new_due=now_kst() + timedelta(days=3), rules=RULES)
    assert v2.requests_seen("/payments", "POST") == [] and outcomes(db, imp_uid=p.imp_uid) == []
