"""Approvals page (AppTest): a request made by someone else, approved or rejected here."""

from __future__ import annotations

from lib.db.appdb import AppDb
from lib.domain.identity import Actor
from lib.domain.rules import RefundRequest, Seen
from lib.domain.settings import get_settings
from lib.domain.text import plain
from lib.iamport.client import IamportClient
from lib.services import approval_flow
from tests.conftest import bank_holder

REQUESTER = Actor("someone@example.com", frozenset({"operator"}))


def make_request(app_env, amount=None):
    s = get_settings()
    c = IamportClient(s)
    p = c.get_payment(app_env.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0
                                   and x["amount"] >= 20000)["imp_uid"])
    db = AppDb(s.audit_db_url)
    store = db.approvals
    r = approval_flow.request_refund_approval(c, db, requester=REQUESTER, seen=Seen.of(p), rules=s.rules, note="please",
                             request=RefundRequest(imp_uid=p.imp_uid, amount=amount or p.refundable,
                                                   reason_code="OTHER", refund_bank="BK88",
                                                   refund_holder=bank_holder(p.pg_provider, "BK88", "110123456789"),
                                                   refund_account="110123456789"))
    return store, r, p


def test_approve_from_the_page(app, app_env):
    store, r, p = make_request(app_env)
    at = app("app_pages/approvals.py").run()
    assert not at.exception
    table = at.table[0].value
    assert plain(table.loc["Refund account", ""]) == \
        f"신한은행 (Shinhan Bank) 110******789 ({bank_holder('kcp', 'BK88', '110123456789')})"   # the PG's code BK88, named
    # what the bank said when the request was made, beside the typed name and the buyer
    assert plain(table.loc["Holder name at the bank", ""]) == bank_holder("kcp", "BK88", "110123456789")
    assert plain(table.loc["Holder check", ""]) == "matches" and table.loc["Buyer", ""]
    # the approver may reveal the full account number: recorded in the audit
    at.toggle(key=f"rv_{r.id}").set_value(True).run()
    assert plain(at.table[0].value.loc["Full account number", ""]) == "110123456789"
    from lib.db.appdb import AppDb
    shown = AppDb(get_settings().audit_db_url).audit.records(action="reveal_personal")
    assert r.imp_uid in set(shown["imp_uid"]) and '"approval"' in " ".join(shown["detail"])
    app_env.clear_requests()
    at.button(key=f"ap_{r.id}").click().run()
    at.button(key="ap_go").click().run()
    assert "Refund registered" in at.success[0].value
    assert len(app_env.requests_seen("/payments/cancel")) == 1
    assert store.get(r.id).status == "executed" and store.get(r.id).decided_by == "tester@example.com"


def test_reject_needs_a_note(app, app_env):
    store, r, p = make_request(app_env)
    at = app("app_pages/approvals.py").run()
    at.button(key=f"rj_{r.id}").click().run()
    assert "Say why" in at.error[0].value and store.get(r.id).status == "pending"
    at.text_input(key=f"rjn_{r.id}").input("wrong amount")
    at.button(key=f"rj_{r.id}").click().run()
    assert store.get(r.id).status == "rejected"
    assert "Decision recorded: rejected" in at.success[0].value


def test_own_requests_cannot_be_decided(app, app_env, monkeypatch):
    monkeypatch.setenv("VBANK_OPERATOR", "someone@example.com")
    get_settings.cache_clear()
    store, r, p = make_request(app_env)
    at = app("app_pages/approvals.py").run()
    assert not [b for b in at.button if b.key == f"ap_{r.id}"]
    assert any("another approver must decide it" in c.value for c in at.caption)
    assert at.table[-1].value["Status"].tolist() == ["waiting"]              # "Your requests"


def test_audit_verify_button(app, app_env):
    make_request(app_env)
    at = app("app_pages/audit.py").run()
    at.button(key="a_verify").click().run()
    assert "The audit log is intact" in at.success[0].value


def test_admin_page_shows_configuration_without_secrets(app, app_env):
    at = app("app_pages/admin.py").run()
    assert not at.exception
    text = " ".join(str(t.value.to_dict()) for t in at.table)
    assert "sandbox_secret" not in text and "set (hidden)" in text and "Refunds need approval above" in text


def test_the_approver_sees_the_payment_as_it_is_now(app, app_env):
    from lib.domain.text import plain
    store, r, p = make_request(app_env, amount=10000)
    at = app("app_pages/approvals.py").run()
    table = at.table[0].value
    assert plain(table.loc["Changed since the request", ""]) == "nothing"
    app_env.api("POST", "/payments/cancel", json={"imp_uid": p.imp_uid, "amount": 1000, "refund_holder": "a",
                                                   "refund_bank": "BK04", "refund_account": "1234567890"})
    at.run()
    table = at.table[0].value
    table.index = [plain(i) for i in table.index]
    assert "refunded so far is now ₩1,000" in plain(table.loc["Changed since the request", ""])
    assert plain(table.loc["Now: refunded so far", ""]) == "₩1,000"
