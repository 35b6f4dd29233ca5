"""Header mode, two people, two app instances on one PostgreSQL: a large refund requested on one and
approved on the other."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import App, confirm_in_dialog, fill_refund_account, open_app, settle

pytestmark = pytest.mark.browser

RULES = """
refund_approval_above = 10000
refund_typed_confirm_above = 100000000
[roles]
viewer = ["*"]
operator = ["alice@example.com"]
approver = ["bob@example.com"]
"""


@pytest.fixture(scope="module")
def two_apps(e2e_sandbox, postgres, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fourEyes")
    rules = tmp / "vbank-desk.toml"
    rules.write_text(RULES)
    url = postgres.new_database()
    env = {"VBANK_IDENTITY_MODE": "header", "VBANK_RULES_FILE": str(rules), "AUDIT_DB_URL": url,
           "VBANK_PROXY_SECRET": PROXY_SECRET}
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    a = App(e2e_sandbox, tmp / "a", **dict(env))
    b = App(e2e_sandbox, tmp / "b", **dict(env))
    yield a, b
    a.stop()
    b.stop()


PROXY_SECRET = "e2e-proxy-secret"


def signed_in(email: str, roles: str):
    """The sidebar line (an e-mail shown as text carries an invisible word joiner that stops autolinking)."""
    import re
    user, host = email.split("@")
    return re.compile(rf"^Signed in as {re.escape(user)}\u2060?@{re.escape(host)} \({re.escape(roles)}\)$")


def as_user(browser, email, *, via_proxy: bool = True):
    """A browser as the sign-in proxy would forward it: the proxy's secret plus the person's e-mail."""
    headers = {"X-Vbank-Proxy-Secret": PROXY_SECRET} if via_proxy else {}
    if email:
        headers["X-Forwarded-Email"] = email
    return browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers=headers)


def test_no_identity_no_access(browser, two_apps):
    a, _ = two_apps
    ctx = as_user(browser, None)
    page = ctx.new_page()
    open_app(page, a, "/", refresh=False)
    expect(page.get_by_text("You are not signed in")).to_be_visible()
    ctx.close()


def test_an_identity_header_not_sent_through_the_proxy_is_ignored(browser, two_apps):
    """A client that sets X-Forwarded-Email itself (no proxy secret) is nobody."""
    a, _ = two_apps
    ctx = as_user(browser, "boss@example.com", via_proxy=False)
    page = ctx.new_page()
    open_app(page, a, "/", refresh=False)
    expect(page.get_by_text("You are not signed in")).to_be_visible()
    expect(page.get_by_text("did not come through the company sign-in proxy")).to_be_visible()
    ctx.close()


def test_request_on_one_instance_approve_on_the_other(browser, two_apps, e2e_sandbox):
    a, b = two_apps
    e2e_sandbox.reset()
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 10000)

    alice = as_user(browser, "alice@example.com").new_page()
    open_app(alice, a, f"/refund?imp_uid={p['imp_uid']}")
    expect(alice.get_by_text(signed_in("alice@example.com", "operator, viewer"))).to_be_visible()
    expect(alice.get_by_role("link", name="Configuration")).to_have_count(0)       # not an admin
    alice.get_by_role("button", name="Next").click()
    settle(alice)
    expect(alice.get_by_text("Full refund")).to_be_visible()           # step 2 drawn
    alice.get_by_role("button", name="Next").first.click()
    settle(alice)
    fill_refund_account(alice)
    alice.get_by_role("button", name="Next").click()
    settle(alice)
    expect(alice.get_by_text("This refund will need a second person's approval")).to_be_visible()
    alice.get_by_label("Why (for the approver)").fill("parcel lost")
    e2e_sandbox.clear_requests()
    alice.get_by_role("button", name="Request approval").click()
    settle(alice)
    expect(alice.get_by_text("Request sent — waiting for an approver.")).to_be_visible()
    assert e2e_sandbox.requests_seen("/payments/cancel") == []

    bob = as_user(browser, "bob@example.com").new_page()
    open_app(bob, b, "/approvals")
    expect(bob.get_by_text(signed_in("bob@example.com", "approver, viewer"))).to_be_visible()
    expect(bob.get_by_text("parcel lost")).to_be_visible()
    confirm_in_dialog(bob, "Approve and send…", "Approve and send now")
    expect(bob.get_by_text("Refund registered — the PG pays the customer on the next business day.")).to_be_visible()
    assert len(e2e_sandbox.requests_seen("/payments/cancel")) == 1
    after = e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]
    assert after["status"] == "cancelled"

    # alice sees the outcome of her request on her instance; the audit chain checks out
    open_app(alice, a, "/approvals")
    expect(alice.get_by_text("approved and sent").first).to_be_visible()
    open_app(alice, a, "/audit")
    alice.get_by_role("button", name="Verify audit log").click()
    settle(alice)
    expect(alice.get_by_text("The audit log is intact")).to_be_visible()


def test_a_persons_language_comes_back_in_their_next_session(browser, two_apps):
    """Header mode: the language alice chose on one instance is hers in a new session on the other (no ?lang=)."""
    a, b = two_apps
    ctx = as_user(browser, "alice@example.com")
    page = ctx.new_page()
    open_app(page, a, "/", refresh=False)
    page.get_by_role("radio", name="한국어").click()
    settle(page)
    expect(page.get_by_role("heading", name="입금대기 가상계좌")).to_be_visible()
    ctx.close()
    ctx = as_user(browser, "alice@example.com")
    page = ctx.new_page()
    open_app(page, b, "/", refresh=False)
    expect(page.get_by_role("heading", name="입금대기 가상계좌")).to_be_visible()
    ctx.close()
    other = as_user(browser, "bob@example.com").new_page()            # someone else keeps the default
    open_app(other, b, "/", refresh=False)
    expect(other.get_by_role("heading", name="Pending virtual accounts")).to_be_visible()
