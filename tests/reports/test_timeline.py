"""The payment's story (lib/reports/timeline.py): from the API's payment and the audit, oldest first, with who and when."""

from __future__ import annotations

from datetime import timedelta

from lib.domain.identity import Actor
from lib.domain.rules import Seen
from lib.reports import timeline
from lib.services import approval_flow, update
from lib.services import refund as services_refund
from tests.conftest import paid_payment, ready_payment, refund_request

KIM = Actor("kim@example.com", frozenset({"operator"}))


def changed_paid_and_refunded(fresh, client, db, rules, p):
    """``p`` (pending) changed by Kim (+₩1,000, due two days later), paid in the sandbox, ₩1,000 refunded by Kim."""
    new_due = (p.vbank_date + timedelta(days=2)).replace(microsecond=0)
    assert update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p),
                                 new_amount=p.amount + 1000, new_due=new_due, rules=rules).ok
    fresh.deposit(p.imp_uid)
    p = client.get_payment(p.imp_uid)
    assert services_refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000), seen=Seen.of(p),
                                 rules=rules).ok
    return client.get_payment(p.imp_uid)


def test_a_change_a_deposit_a_refund_and_an_approval_tell_one_story(fresh, client, db, rules):
    p = changed_paid_and_refunded(fresh, client, db, rules, ready_payment(fresh, client))
    events = timeline.build(p, db.audit.records(imp_uid=p.imp_uid), rules)
    whats = [e.what for e in events]
    assert whats == ["Virtual account issued", "Changed", "Deposit received", "Refund registered"]
    changed = events[1]
    assert changed.who == KIM.email and "→" in changed.detail and "amount" in changed.detail and "due" in changed.detail
    refund = events[3]
    assert "₩1,000" in refund.detail and "110******789" in refund.detail and "remittance fee ₩330" in refund.detail
    assert [int(e.at.timestamp()) for e in events] == sorted(int(e.at.timestamp()) for e in events)


def test_unknown_outcomes_and_approvals_appear(fresh, client, db, rules):
    rules.refund_approval_above = 1000
    p = paid_payment(fresh, client)
    approval_flow.request_refund_approval(client, db, requester=KIM, request=refund_request(p, 5000), seen=Seen.of(p),
                                     rules=rules, note="customer called")
    events = timeline.build(p, db.audit.records(imp_uid=p.imp_uid), rules)
    req = [e for e in events if e.what == "Approval requested"]
    assert req and "₩5,000" in req[0].detail and "customer called" in req[0].detail


def test_the_audit_log_reads_as_sentences(fresh, client, db, rules):
    from lib.ui import present as ui_present
    p = ready_payment(fresh, client)
    update.update_vbank(client, db, operator=KIM, imp_uid=p.imp_uid, seen=Seen.of(p), new_amount=p.amount + 1000,
                          rules=rules)
    fresh.deposit(p.imp_uid)
    p = client.get_payment(p.imp_uid)
    services_refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 1000), seen=Seen.of(p), rules=rules)
    rows = db.audit.records(imp_uid=p.imp_uid).sort_values("id").to_dict("records")
    said = [ui_present.audit_sentence(r) for r in rows]
    assert said[0] == f"Sent a change: amount → ₩{p.amount:,}"
    assert said[1] == f"Changed amount ₩{p.amount - 1000:,} → ₩{p.amount:,}"
    assert said[2].startswith("Sent a refund of ₩1,000 to ") and \
        f"110******789 ({refund_request(p).refund_holder})" in said[2]
    assert said[3] == "Refund registered: refunded total ₩0 → ₩1,000"
    assert not any("{" in s or "PUT" in s or "checksum" in s for s in said)


def test_each_row_is_what_was_true_then_issued_values_and_who_refunded(fresh, client, db, rules):
    """Issue 23 §6: the 'issued' row shows the amount and due date as issued (not today's), and a refund made by an
    operator names the operator; one made in the PG console (no tag of ours) stays the PG's."""
    from lib.iamport.client import IamportClient
    from tests.helpers import settings_for
    p = ready_payment(fresh, client)
    issued_amount, issued_due = p.amount, p.vbank_date
    p = changed_paid_and_refunded(fresh, client, db, rules, p)
    IamportClient(settings_for(fresh)).cancel(imp_uid=p.imp_uid, amount=1000, checksum=p.refundable,
                                              reason="콘솔 환불", refund_holder="김철수",
                                              refund_bank=refund_request(p).refund_bank,
                                              refund_account="220-000-000000")
    p = client.get_payment(p.imp_uid)
    events = timeline.build(p, db.audit.records(imp_uid=p.imp_uid), rules)
    from lib.domain.fmt import krw, kst
    issued = events[0]
    assert krw(issued_amount) in issued.detail and kst(issued_due) in issued.detail
    assert krw(p.amount) not in issued.detail
    refunds = [e for e in events if e.what == "Refund registered"]
    assert [e.who for e in refunds] == [KIM.email, "PG"]
    assert "[vd:" not in refunds[0].detail and "콘솔 환불" in refunds[1].detail
