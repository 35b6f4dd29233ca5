"""Issue 31 point 9: the audit log searched by amount, buyer, bank and operator; a refund's request, approval and
outcome read together; banks by name; the holder as the bank has it, the typed name beside it."""

from __future__ import annotations

import pytest

from lib.domain.identity import Actor
from lib.domain.names import bank_name
from lib.domain.rules import Seen
from lib.reports.audit_log import grouped, search
from lib.services import approval_flow
from lib.services.refund import refund_vbank
from lib.ui.present import audit_sentence
from tests.conftest import bank_holder, refund_request

OPERATOR = Actor("op@example.com", frozenset({"operator"}))
APPROVER = Actor("boss@example.com", frozenset({"approver"}))


@pytest.fixture
def story(fresh, client, db, rules):
    """An approved refund (typed holder differs from the bank's, with a reason) and a direct small refund."""
    rules.refund_approval_above = 100_000
    big = client.get_payment(fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0
                                        and x["amount"] > 100_000)["imp_uid"])
    bank_says = bank_holder("kcp", "BK88", "110123456789")
    typed = "김오타" if bank_says != "김오타" else "박오타"
    r = approval_flow.request_refund_approval(
        client, db, requester=OPERATOR, seen=Seen.of(big), rules=rules,
        request=refund_request(big, refund_bank="BK88", refund_account="110123456789", refund_holder=typed,
                               holder_override="고객이 개명 전 이름으로 알려 주었습니다"))
    res = approval_flow.approve(client, db, approver=APPROVER, request_id=r.id, rules=rules, note="확인함")
    assert res.ok
    small = client.get_payment(fresh.pick(status="paid", pg="tosspayments", where=lambda x: x["cancel_amount"] == 0
                                          and 10_000 <= x["amount"] <= 90_000)["imp_uid"])
    refund_vbank(client, db, operator=OPERATOR, request=refund_request(small, 5000), seen=Seen.of(small), rules=rules)
    return {"big": big, "small": small, "request": r, "bank_says": bank_says, "typed": typed,
            "df": db.audit.records()}


def test_a_refund_reads_as_one_case_request_approval_outcome(story):
    df = grouped(story["df"])
    big = df[df["imp_uid"] == story["big"].imp_uid]
    assert big["case_no"].nunique() == 1                          # requested, approved, sent, succeeded: one case
    assert list(big["outcome"]) == ["requested", "approved", "sent", "succeeded"]
    rows = df.index[df["imp_uid"] == story["big"].imp_uid].tolist()
    assert rows == list(range(rows[0], rows[0] + len(rows)))      # together, not between other records
    assert df.loc[df["imp_uid"] == story["small"].imp_uid, "case_no"].nunique() == 1
    assert set(df.loc[df["imp_uid"] == story["small"].imp_uid, "case_no"]) != set(big["case_no"])


@pytest.mark.parametrize("query", ["₩{amount:,}", "{amount:,}원", "{amount}"])
def test_search_by_amount_finds_the_whole_case(story, query):
    amount = story["big"].refundable
    found = search(story["df"], query.format(amount=amount), bank_name=bank_name)
    assert set(found["imp_uid"]) == {story["big"].imp_uid}
    assert {"requested", "approved", "sent", "succeeded"} <= set(found["outcome"])


def test_search_by_bank_name_operator_and_buyer(story, korean):
    assert story["big"].imp_uid in set(search(story["df"], "신한", bank_name=bank_name)["imp_uid"])
    assert set(search(story["df"], "boss@", bank_name=bank_name)["imp_uid"]) == {story["big"].imp_uid}
    by_holder = search(story["df"], story["typed"], bank_name=bank_name)
    assert set(by_holder["imp_uid"]) == {story["big"].imp_uid}
    by_buyer = search(story["df"], "아무개", bank_name=bank_name, buyer_imp_uids={story["small"].imp_uid})
    assert set(by_buyer["imp_uid"]) == {story["small"].imp_uid}


def test_the_refund_sentence_names_the_bank_and_the_banks_holder(story, korean):
    df = story["df"]
    sent = df[(df["imp_uid"] == story["big"].imp_uid) & (df["action"] == "refund") & (df["outcome"] == "sent")]
    text = audit_sentence(sent.iloc[0].to_dict())
    assert "신한은행" in text and "BK88" not in text                    # the bank by name, not its code
    assert story["bank_says"] in text and story["typed"] in text
    assert text.index(story["bank_says"]) < text.index(story["typed"])   # the bank's name first, the typed beside it
