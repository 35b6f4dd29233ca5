"""The refund wizard step by step (AppTest), back and forth, with the sandbox behind it."""

from __future__ import annotations

from lib.domain import banks, rules
from lib.domain.fmt import krw
from lib.domain.text import WRITE_TAG_RX, plain
from lib.services import refund
from tests.conftest import bank_holder
from tests.pages.conftest import metric


def paid(app_env, pg="kcp", min_amount=20000):
    return app_env.pick(status="paid", pg=pg, where=lambda x: x["cancel_amount"] == 0 and x["amount"] >= min_amount)


def step_text(at) -> str:
    return at.get("progress")[0].proto.text


def to_step3(at, amount=None, partial=False):
    at.button(key="rf_next1").click().run()
    assert "Step 2 of 6" in step_text(at)
    if partial:
        at.radio(key="rf_kind").set_value("partial")
        at.text_input(key="rf_amount").input(f"{amount:,}")
    at.selectbox(key="rf_reason").set_value("OUT_OF_STOCK")
    at.text_input(key="rf_note").input("size L sold out")
    at.button(key="rf_next2").click().run()
    assert "Step 3 of 6" in step_text(at), [e.value for e in at.error]


def bank_name(bank: str, account: str = "110-123-456789") -> str:
    """The holder's name the sandbox's bank has for this account (the wizard checks it with the bank)."""
    for pg in ("kcp", "html5_inicis", "tosspayments"):
        if banks.bank_by_code(pg, bank):
            return bank_holder(pg, bank, account)
    return "홍길동"


def fill_account(at, bank, holder=None, account="110-123-456789"):
    at.text_input(key="rf_holder").input(bank_name(bank, account) if holder is None else holder)
    at.selectbox(key="rf_bank").set_value(bank)
    at.text_input(key="rf_account").input(account)


def test_partial_refund_through_every_step(app, app_env):
    p = paid(app_env)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    assert not at.exception
    assert metric(at, "Refundable") == krw(p["amount"])
    to_step3(at, amount=5000, partial=True)
    looked_up = app_env.api("GET", "/vbanks/holder", params={"bank_code": "088", "bank_num": "110123456789"}
                            ).json()["response"]["bank_holder"]
    fill_account(at, "BK88", holder=" ".join(looked_up))          # spaces do not matter
    at.button(key="rf_check").click().run()
    assert f"The bank says the holder is “{looked_up}”: it matches." == at.success[0].value
    at.button(key="rf_next3").click().run()
    assert "Step 4 of 6" in step_text(at)
    fee = at.table[0].value
    assert fee.loc["This refund", "Amount"] == "-₩5,000"
    assert fee.loc["Remittance fee for this refund", "Amount"] == "-₩330"          # 300 + 10% VAT (VAT 별도)
    assert fee.loc["Your net result for this payment after the refund", "Amount"] == krw(p["amount"] - 330 - 5330)
    assert "This refund costs you ₩5,330" in at.info[0].value
    at.button(key="rf_next4").click().run()
    assert "Step 5 of 6" in step_text(at)
    sent = at.table[0].value["Value"]
    assert plain(sent["Account number"]) == "110******789" and sent["Refund amount"] == "₩5,000"
    assert plain(sent["Bank"]) == "신한은행 (Shinhan Bank)"
    assert sent["Reason sent to the PG"] == "품절 — size L sold out"    # the configured Korean text and the note
    app_env.clear_requests()
    at.button(key="rf_send").click().run()
    at.button(key="rf_go").click().run()
    assert "Step 6 of 6" in step_text(at)
    assert "Refund registered" in at.success[0].value
    assert metric(at, "Refunded total now") == "₩5,000"
    calls = app_env.requests_seen("/payments/cancel")
    assert len(calls) == 1
    assert calls[0]["params"]["checksum"] == p["amount"] and calls[0]["params"]["refund_bank"] == "BK88"
    # Korean, as the PG shows it, then this write's tag (proof of *our* refund on a re-read; never shown)
    assert WRITE_TAG_RX.sub("", calls[0]["params"]["reason"]) == "품절 — size L sold out"
    assert WRITE_TAG_RX.search(calls[0]["params"]["reason"])
    assert app_env.refunds(p["imp_uid"])[0]["refund_account"] == "110123456789"
    at.run()                                       # a rerun sends nothing
    assert len(app_env.requests_seen("/payments/cancel")) == 1


def test_back_and_forth_keeps_answers(app, app_env):
    p = paid(app_env, pg="html5_inicis")
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    fill_account(at, "88")
    at.button(key="rf_next3").click().run()
    assert "Step 4 of 6" in step_text(at)
    at.button(key="rf_back4").click().run()
    assert "Step 3 of 6" in step_text(at)
    assert at.text_input(key="rf_holder").value == bank_name("88") and at.selectbox(key="rf_bank").value == "88"
    at.button(key="rf_back3").click().run()
    assert at.selectbox(key="rf_reason").value == "OUT_OF_STOCK"
    assert at.radio(key="rf_kind").value == "full"
    at.button(key="rf_back2").click().run()
    assert "Step 1 of 6" in step_text(at)


def test_wrong_inputs_are_explained(app, app_env):
    p = paid(app_env, pg="kcp")
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    fill_account(at, "BK04", holder=" ", account="12-34")
    at.button(key="rf_next3").click().run()
    errors = at.error[0].value
    assert "holder's name" in errors and "8 to 16 digits" in errors
    assert "Step 3 of 6" in step_text(at)


def test_only_the_pgs_banks_are_offered(app, app_env):
    p = paid(app_env, pg="nice_v2", min_amount=1000)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    options = at.selectbox(key="rf_bank").options
    assert len(options) == 12 and not any(" code " in o or "— " in o or o.startswith("BK") for o in options)   # names
    assert "하나은행 (Hana Bank)" in options and "iM뱅크 (iM Bank (formerly Daegu Bank))" in options
    assert not any("Kakao" in o for o in options)


def test_refusals_at_step_one(app, app_env):
    danal = app_env.pick(status="paid", pg="danal_tpay")
    at = app("app_pages/refund.py", imp_uid=danal["imp_uid"]).run()
    assert "does not refund virtual accounts" in at.error[0].value
    assert not [b for b in at.button if b.key == "rf_next1"]
    card = app_env.pick(status="paid", pay_method="card")
    at = app("app_pages/refund.py", imp_uid=card["imp_uid"]).run()
    assert "not a virtual-account payment" in at.error[0].value


def test_large_refund_needs_the_typed_amount(app, app_env, set_rules):
    set_rules("refund_approval_above = 5000000\n")
    p = paid(app_env, pg="tosspayments", min_amount=500_001)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    fill_account(at, "004")
    at.button(key="rf_next3").click().run()
    at.button(key="rf_next4").click().run()
    assert at.button(key="rf_send").disabled
    at.text_input(key="rf_typed").input("123").run()
    assert "does not match" in at.error[0].value and at.button(key="rf_send").disabled
    at.text_input(key="rf_typed").input(f"{p['amount']:,}").run()
    assert not at.button(key="rf_send").disabled


def test_refund_elsewhere_meanwhile_is_stale(app, app_env):
    p = paid(app_env)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    fill_account(at, "BK88")
    at.button(key="rf_next3").click().run()
    at.button(key="rf_next4").click().run()
    app_env.api("POST", "/payments/cancel", json={"imp_uid": p["imp_uid"], "amount": 1000, "refund_holder": "a",
                                                   "refund_bank": "BK04", "refund_account": "1234567890"})
    app_env.clear_requests()
    at.button(key="rf_send").click().run()
    at.button(key="rf_go").click().run()
    assert "changed since you started" in at.warning[0].value
    assert app_env.requests_seen("/payments/cancel") == []


def test_pick_from_the_paid_list(app, app_env):
    at = app("app_pages/refund.py").run()
    table = at.dataframe[0].value
    assert (table["refundable"] > 0).all() and len(table) > 0
    at.session_state["rf_paid_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert metric(at, "Refundable") == krw(int(table.iloc[0]["refundable"]))


def test_holder_mismatch_needs_a_written_reason(app, app_env):
    p = paid(app_env)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    looked_up = app_env.api("GET", "/vbanks/holder", params={"bank_code": "088", "bank_num": "110123456789"}
                            ).json()["response"]["bank_holder"]
    fill_account(at, "BK88", holder=looked_up + "X")
    at.button(key="rf_check").click().run()          # check: mismatch
    assert "does not match" in at.error[0].value
    at.button(key="rf_next3").click().run()          # Next without a reason
    assert "Step 3 of 6" in step_text(at) and any("write why" in e.value for e in at.error)
    at.text_area(key="rf_override").input("ok").run()                      # not a sentence
    at.button(key="rf_next3").click().run()
    assert "Step 3 of 6" in step_text(at)
    at.text_area(key="rf_override").input("고객이 전화로 본인 계좌임을 확인함 (가족 명의)").run()
    at.button(key="rf_next3").click().run()
    assert "Step 4 of 6" in step_text(at)
    # changing the account makes the check stale (and the acknowledgement moot)
    at.button(key="rf_back4").click().run()
    at.text_input(key="rf_account").input("110-123-456780")
    at.button(key="rf_next3").click().run()
    assert "Step 4 of 6" in step_text(at)


def test_above_the_approval_limit_the_wizard_makes_a_request(app, app_env, set_rules):
    set_rules("refund_approval_above = 50000\nrefund_typed_confirm_above = 100000000\n")
    p = paid(app_env, pg="kcp", min_amount=60_000)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at)
    fill_account(at, "BK88")
    at.button(key="rf_next3").click().run()
    at.button(key="rf_next4").click().run()
    assert "need a second person's approval" in at.info[0].value
    assert not [b for b in at.button if b.key == "rf_send"]
    app_env.clear_requests()
    at.text_input(key="rf_request_note").input("customer returned it")
    at.button(key="rf_request").click().run()
    assert "Step 6 of 6" in step_text(at) and "waiting for an approver" in at.success[0].value
    assert app_env.requests_seen("/payments/cancel") == []
    from lib.db.appdb import AppDb
    from lib.domain.settings import get_settings
    reqs = AppDb(get_settings().audit_db_url).approvals.list(status="pending")
    assert [(r.imp_uid, r.amount, r.requester, r.note) for r in reqs] == \
        [(p["imp_uid"], p["amount"], "tester@example.com", "customer returned it")]
    # a second request for the same payment is refused while one is pending
    at2 = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    to_step3(at2)
    fill_account(at2, "BK88")
    at2.button(key="rf_next3").click().run()
    at2.button(key="rf_next4").click().run()
    assert "already waiting for approval" in at2.warning[0].value


def lost_refund(app_env):
    """A paid payment whose 4,000 won refund got a gateway's HTML 502 instead of the API's reply, produced
    through the service itself with a sandbox fault (the sandbox did not apply it)."""
    from lib.db.appdb import AppDb
    from lib.domain import banks
    from lib.domain.identity import Actor
    from lib.domain.settings import get_settings
    from lib.iamport.client import IamportClient
    s = get_settings()
    c = IamportClient(s)
    db = AppDb(s.audit_db_url)
    p = c.get_payment(paid(app_env)["imp_uid"])
    app_env.fault(path_prefix="/payments/cancel", status=502, html=True, times=1)
    r = refund.refund_vbank(c, db, operator=Actor("kim@example.com", frozenset({"operator"})), seen=rules.Seen.of(p),
                              rules=s.rules, request=rules.RefundRequest(
                                  imp_uid=p.imp_uid, amount=4000, reason_code="OTHER",
                                  refund_holder=bank_holder(p.pg_provider, banks.refund_banks(p.pg_provider)[0].code,
                                                            "110123456789"),
                                  refund_bank=banks.refund_banks(p.pg_provider)[0].code,
                                  refund_account="110123456789"))
    assert r.outcome == "unknown" and db.locks.get(f"refund:{p.imp_uid}").state == "unknown"
    return {"imp_uid": p.imp_uid, "cid": r.correlation_id}, db


def test_unknown_outcome_blocks_the_wizard_until_resolved(app, app_env):
    """A refund whose reply never came: the wizard refuses a new one until someone resolves it."""
    p, db = lost_refund(app_env)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    assert "unknown outcome" in at.warning[0].value
    assert not [b for b in at.button if b.key == "rf_next1"]
    at.button(key="rf_unknown_recheck").click().run()                  # nothing landed yet: still unknown
    assert "does not show the refund yet" in at.info[-1].value
    # the PG did register *our* request after all (it carries our tag): the re-read resolves it
    ours = app_env.requests_seen("/payments/cancel")[-1]["params"]["reason"]
    app_env.api("POST", "/payments/cancel", json={"imp_uid": p["imp_uid"], "amount": 4000, "refund_holder": "a",
                                                   "refund_bank": "BK88", "refund_account": "1234567890",
                                                   "reason": ours})
    at.button(key="rf_unknown_recheck").click().run()
    assert "Resolved" in at.success[0].value and db.locks.get(f"refund:{p['imp_uid']}") is None
    at.run()
    assert [b for b in at.button if b.key == "rf_next1"]       # the wizard goes on


def test_unknown_outcome_resolved_as_not_applied(app, app_env):
    p, db = lost_refund(app_env)
    at = app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    at.checkbox(key="rf_unknown_not_applied").check().run()
    at.button(key="rf_unknown_resolve_no").click().run()
    assert "Resolved as not applied" in at.success[0].value
    assert list(db.audit.records(correlation_id=p["cid"]).sort_values("id")["outcome"]) == ["sent", "unknown", "resolved"]
    assert db.locks.get(f"refund:{p['imp_uid']}") is None
