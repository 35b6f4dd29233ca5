"""Built-in accounts in the browser (VBANK_IDENTITY_MODE=accounts, #30 "several people without an SSO"): a wrong
password is refused, five failures lock the account even against the right password, an approver without the
authenticator code sees a request but cannot approve it, enrols from the QR screen and approves, and signs in later
with a code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from lib.db.appdb import AppDb
from lib.domain.identity import LOCKOUT_FAILURES
from tests.e2e.helpers import App, confirm_in_dialog, fill_refund_account, settle

pytestmark = pytest.mark.browser

RULES = """
refund_approval_above = 10000
refund_typed_confirm_above = 100000000
"""
PW = {"alice@example.com": "blue-harbour-lantern-1", "park@example.com": "green-meadow-violin-2",
      "kim@example.com": "quiet-river-stone-3", "lee@example.com": "amber-forest-tiger-4"}


@pytest.fixture(scope="module")
def accounts_app(e2e_sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accounts")
    rules = tmp / "vbank-desk.toml"
    rules.write_text(RULES)
    app = App(e2e_sandbox, tmp, VBANK_IDENTITY_MODE="accounts", VBANK_RULES_FILE=str(rules), VBANK_LANG="en")
    db = AppDb(app.audit_url)
    db.accounts.add("alice@example.com", ["operator", "viewer"], by=None, password=PW["alice@example.com"])
    db.accounts.add("park@example.com", ["approver", "viewer"], by=None, password=PW["park@example.com"])
    db.accounts.add("kim@example.com", ["operator", "viewer"], by=None, password=PW["kim@example.com"])
    db.accounts.add("lee@example.com", ["viewer"], by=None, password=PW["lee@example.com"])
    yield app, db
    db.dispose()
    app.stop()


def signed_in(email: str, roles: str):
    user, host = email.split("@")
    return re.compile(rf"^Signed in as {re.escape(user)}\u2060?@{re.escape(host)} \({re.escape(roles)}\)$")


def new_page(browser):
    return browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()


def sign_in(page, app: App, email: str, password: str, path: str = "/approvals") -> None:
    if path is not None:
        page.goto(app.url + path)
        settle(page)
    expect(page.get_by_role("heading", name="Sign in to vbank-desk")).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(browser, accounts_app):
    app, _ = accounts_app
    page = new_page(browser)
    sign_in(page, app, "lee@example.com", "not-the-password")
    expect(page.get_by_text("The e-mail address or the password is wrong")).to_be_visible()
    expect(page.get_by_text(signed_in("lee@example.com", "viewer"))).to_have_count(0)
    sign_in(page, app, "lee@example.com", PW["lee@example.com"], path=None)
    expect(page.get_by_text(signed_in("lee@example.com", "viewer"))).to_be_visible()
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible()     # the page the link named
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    expect(page.get_by_role("heading", name="Sign in to vbank-desk")).to_be_visible()
    page.context.close()


def test_five_failures_lock_the_account_even_against_the_right_password(browser, accounts_app):
    app, _ = accounts_app
    page = new_page(browser)
    page.goto(app.url + "/")
    settle(page)
    for _ in range(LOCKOUT_FAILURES):
        sign_in(page, app, "kim@example.com", "guessing-again", path=None)
        expect(page.get_by_text("The e-mail address or the password is wrong")).to_be_visible()
    sign_in(page, app, "kim@example.com", PW["kim@example.com"], path=None)
    expect(page.get_by_text("Too many failed sign-ins: this account is locked until")).to_be_visible()
    expect(page.get_by_text(signed_in("kim@example.com", "operator, viewer"))).to_have_count(0)
    page.context.close()


def test_an_approver_needs_the_authenticator_to_approve(browser, accounts_app, e2e_sandbox):
    app, db = accounts_app
    e2e_sandbox.reset()
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 10000)

    alice = new_page(browser)
    sign_in(alice, app, "alice@example.com", PW["alice@example.com"], path=f"/refund?imp_uid={p['imp_uid']}")
    expect(alice.get_by_text(signed_in("alice@example.com", "operator, viewer"))).to_be_visible()
    alice.get_by_role("button", name="Next").click()
    settle(alice)
    expect(alice.get_by_text("Full refund")).to_be_visible()
    alice.get_by_role("button", name="Next").first.click()
    settle(alice)
    fill_refund_account(alice)
    alice.get_by_role("button", name="Next").click()
    settle(alice)
    alice.get_by_label("Why (for the approver)").fill("parcel lost")
    alice.get_by_role("button", name="Request approval").click()
    settle(alice)
    expect(alice.get_by_text("Request sent — waiting for an approver.")).to_be_visible()

    # park has the approver role but no authenticator yet: the QR screen; going on without it leaves a viewer
    park = new_page(browser)
    sign_in(park, app, "park@example.com", PW["park@example.com"])
    expect(park.get_by_text("Approving and administering need a second factor")).to_be_visible()
    expect(park.locator("[data-testid=stImage] img")).to_be_visible()              # the QR code
    park.get_by_role("button", name="Continue without approving").click()
    settle(park)
    expect(park.get_by_text(signed_in("park@example.com", "viewer"))).to_be_visible()
    expect(park.get_by_text("parcel lost")).to_be_visible()
    expect(park.get_by_role("button", name="Approve and send…")).to_have_count(0)
    e2e_sandbox.clear_requests()

    # signed in again, park enrols with the key the screen shows and approves
    park.get_by_role("button", name="Sign out").click()
    settle(park)
    sign_in(park, app, "park@example.com", PW["park@example.com"], path=None)
    key = park.locator("[data-testid=stCode]").inner_text().replace(" ", "").strip()
    code_at = time.time()
    park.get_by_label("Code").fill(pyotp.TOTP(key).at(code_at))
    park.get_by_role("button", name="Turn on the second factor").click()
    settle(park)
    expect(park.get_by_text(signed_in("park@example.com", "approver, viewer"))).to_be_visible()
    confirm_in_dialog(park, "Approve and send…", "Approve and send now")
    expect(park.get_by_test_id("stAlertContentSuccess").get_by_text(       # the alert (the decided list may say it too)
        "Refund registered — the PG pays the customer on the next business day.")).to_be_visible()
    assert len(e2e_sandbox.requests_seen("/payments/cancel")) == 1

    # a later sign-in asks for the code (the next one: a code is used once)
    park.get_by_role("button", name="Sign out").click()
    settle(park)
    sign_in(park, app, "park@example.com", PW["park@example.com"], path=None)
    expect(park.get_by_text("Type the 6-digit code")).to_be_visible()
    park.get_by_label("Code").fill(pyotp.TOTP(key).at(code_at))                     # the same code again
    park.get_by_role("button", name="Sign in").click()
    settle(park)
    expect(park.get_by_text("That code is wrong or was already used")).to_be_visible()
    park.get_by_label("Code").fill(pyotp.TOTP(key).at(code_at + 30))
    park.get_by_role("button", name="Sign in").click()
    settle(park)
    expect(park.get_by_text(signed_in("park@example.com", "approver, viewer"))).to_be_visible()
    recs = db.audit.records()
    signs = recs[recs.action == "sign_in"]
    assert set(signs[signs.operator == "park@example.com"].outcome) == {"succeeded", "failed"}
    text = recs.to_json(force_ascii=False)
    assert key not in text and PW["park@example.com"] not in text
    alice.context.close()
    park.context.close()
