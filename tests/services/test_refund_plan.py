"""Issue 32 point 3: one refund plan (lib/services/refund.plan_refund) built once — what the wizard's confirm step
shows, what an approval request carries, what refund_vbank sends — and one holder-check shape
(lib/domain/holder_check.HolderCheck) for the wizard, the request and the send."""

from __future__ import annotations

from lib.domain.holder_check import HolderCheck
from lib.domain.identity import Actor
from lib.services import approval_flow, refund
from tests.conftest import paid_payment, refund_request

KIM = Actor("kim@example.com", frozenset({"operator"}))


def test_the_plan_is_what_is_sent(fresh, client, db, rules):
    p = paid_payment(fresh, client, min_amount=20_000)
    req = refund_request(p, 6_000)
    check = refund.holder_check(client, p.pg_provider, req)
    plan = refund.plan_refund(db, p, req, KIM, rules, holder_check=check)
    assert plan.problems == [] and plan.approval_needed is None and plan.holder_check is check
    assert (plan.body["amount"], plan.body["checksum"], plan.body["imp_uid"]) == (6_000, p.refundable, p.imp_uid)
    fresh.clear_requests()
    res = refund.refund_vbank(client, db, plan, operator=KIM, rules=rules)
    assert res.ok
    [sent] = fresh.requests_seen("/payments/cancel")
    params = sent["params"]
    for k in ("amount", "refund_holder", "refund_bank", "refund_account"):
        assert str(params[k]) == str(plan.body[k])
    assert params["reason"].startswith(plan.body["reason"]) and "[vd:" in params["reason"]   # + the write's proof tag


def test_the_plan_says_why_it_cannot_go_and_why_it_needs_approval(fresh, client, db, rules):
    p = paid_payment(fresh, client, min_amount=20_000)
    too_much = refund.plan_refund(db, p, refund_request(p, p.refundable + 1), KIM, rules)
    assert too_much.problems
    rules.refund_approval_above = 1_000
    big = refund.plan_refund(db, p, refund_request(p, 5_000), KIM, rules)
    assert big.approval_needed and "approval" in big.approval_needed


def test_one_holder_check_shape_for_the_wizard_the_request_and_the_audit(fresh, client, db, rules):
    p = paid_payment(fresh, client, min_amount=20_000)
    wrong = refund_request(p, 5_000, refund_holder="아무개")
    check = refund.holder_check(client, p.pg_provider, wrong)
    assert isinstance(check, HolderCheck) and not check.ok and check.bank_says and check.needs_reason()
    assert check.current_for(wrong.refund_bank, wrong.refund_account, "아무 개")        # spaces do not matter
    assert not check.current_for(wrong.refund_bank, wrong.refund_account, "다른이")
    taken = check.taking_bank_name()
    assert taken.ok and taken.typed == check.bank_says and not taken.needs_reason()
    assert set(check.record("why")) == {"bank", "typed", "bank_says", "ok", "error", "available", "override"}
    # the approval request carries the plan (its body, masked) and the check in the same shape
    rules.refund_approval_above = 1_000
    req = refund_request(p, 5_000)
    plan = refund.plan_refund(db, p, req, KIM, rules, holder_check=refund.holder_check(client, p.pg_provider, req))
    made = approval_flow.request_refund_approval(client, db, plan, requester=KIM, rules=rules)
    assert made.payload["body"]["amount"] == 5_000 and made.payload["body"]["checksum"] == p.refundable
    assert "110123456789" not in str(made.payload)                                   # full numbers stay sealed
    assert made.payload["holder_check"]["ok"] and set(made.payload["holder_check"]) == set(check.record(""))
