"""A partial refund end to end in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lib.domain.fmt import krw
from tests.e2e.helpers import (
    audit_csv_via_link,
    confirm_in_dialog,
    fill_refund_account,
    next_step,
    open_app,
    settle,
    shinhan_holder,
)

pytestmark = pytest.mark.browser


def test_partial_refund_end_to_end(page, e2e_app, e2e_sandbox):
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] >= 20000)
    open_app(page, e2e_app, f"/refund?imp_uid={p['imp_uid']}")
    expect(page.get_by_text("Step 1 of 6 — Payment")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    settle(page)
    expect(page.get_by_text("Step 2 of 6 — Amount and reason")).to_be_visible()
    expect(page.get_by_text("Partial refund")).to_be_visible()
    page.get_by_text("Partial refund").click()
    page.get_by_role("textbox", name="Refund amount (₩)").fill("7000")
    page.get_by_label("Note (optional, sent with the reason)").fill("e2e partial")
    page.get_by_role("button", name="Next").first.click()
    settle(page)
    fill_refund_account(page)
    expect(page.get_by_text("This refund costs you ₩7,330")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    settle(page)
    expect(page.get_by_text("Step 5 of 6 — Confirm")).to_be_visible()
    expect(page.get_by_text("110******456")).to_be_visible()
    e2e_sandbox.clear_requests()
    confirm_in_dialog(page, "Send the refund…", "Refund now")
    expect(page.get_by_text("Refund registered — the PG pays the customer on the next business day.")).to_be_visible()

    assert len(e2e_sandbox.requests_seen("/payments/cancel")) == 1
    after = e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]
    assert after["cancel_amount"] == 7000 and after["status"] == "paid"
    assert after["cancel_history"][-1]["amount"] == 7000
    reg = e2e_sandbox.refunds(p["imp_uid"])
    assert [(r["refund_bank"], r["refund_account"], r["refund_holder"], r["amount"]) for r in reg] == \
        [("BK88", "110555123456", shinhan_holder(), 7000)]

    text = audit_csv_via_link(page)
    assert "refund" in text and "succeeded" in text and "110******456" in text and "110555123456" not in text
    # the payment page agrees
    page.goto(e2e_app.url + f"/payment?imp_uid={p['imp_uid']}")
    settle(page)
    expect(page.locator("[data-testid=stMetric]").filter(has=page.get_by_text("Refunded so far", exact=True))
           .locator("[data-testid=stMetricValue]")).to_have_text(krw(7000))


def test_refund_answered_by_a_gateway_504_after_it_was_applied(page, e2e_app, e2e_sandbox):
    """Issue 10's case in the browser: the API registers the refund, a gateway answers 504 with an HTML page.
    The wizard re-reads and reports the refund as registered (no "no money moved"); one refund reached the API."""
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] >= 30000)
    open_app(page, e2e_app, f"/refund?imp_uid={p['imp_uid']}")
    page.get_by_role("button", name="Next").click()
    settle(page)
    page.get_by_text("Partial refund").click()
    page.get_by_role("textbox", name="Refund amount (₩)").fill("24500")
    page.get_by_role("button", name="Next").first.click()
    settle(page)
    fill_refund_account(page)
    page.get_by_role("button", name="Next").click()
    settle(page)
    e2e_sandbox.clear_requests()
    e2e_sandbox.fault(path_prefix="/payments/cancel", after="error", status=504, times=1)
    try:
        confirm_in_dialog(page, "Send the refund…", "Refund now")
        expect(page.get_by_text("a re-read shows the refund took effect")).to_be_visible()
    finally:
        e2e_sandbox.clear_faults()
    expect(page.get_by_text("No money moved")).to_have_count(0)
    assert len(e2e_sandbox.requests_seen("/payments/cancel")) == 1
    after = e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]
    assert after["cancel_amount"] == 24500 and len(e2e_sandbox.refunds(p["imp_uid"])) == 1
    # starting over from the same payment shows the new balance: nothing to send twice by mistake
    page.get_by_role("button", name="Refund another payment").click()
    settle(page)
    open_app(page, e2e_app, f"/refund?imp_uid={p['imp_uid']}")
    expect(page.locator("[data-testid=stMetric]").filter(has=page.get_by_text("Refunded so far", exact=True))
           .locator("[data-testid=stMetricValue]")).to_have_text(krw(24500))


def test_a_second_refund_reuses_the_last_account_without_retyping(page, e2e_app, e2e_sandbox):
    """Issue 19 §4: the second partial refund of a payment offers the account of the first (masked); one click fills
    it, the bank's holder check runs again, and the refund goes to the same account."""
    # KICC: a PG no other browser test refunds (the app database outlives the sandbox's resets between tests)
    p = e2e_sandbox.pick(status="paid", pg="kicc", where=lambda x: x["cancel_amount"] == 0 and x["amount"] >= 20000)

    def to_step3(amount: str) -> None:
        open_app(page, e2e_app, f"/refund?imp_uid={p['imp_uid']}")
        page.get_by_role("button", name="Next").click()
        settle(page)
        expect(page.get_by_text("Step 2 of 6 — Amount and reason")).to_be_visible()
        page.get_by_text("Partial refund").click()
        settle(page)
        page.get_by_role("textbox", name="Refund amount (₩)").fill(amount)
        next_step(page, page.get_by_role("button", name="Next").first, "Step 3 of 6 — Refund account")

    def send() -> None:
        page.get_by_role("button", name="Next").click()
        settle(page)
        expect(page.get_by_text("110******456")).to_be_visible()
        confirm_in_dialog(page, "Send the refund…", "Refund now")
        expect(page.get_by_text("Refund registered — the PG pays the customer on the next business day.")).to_be_visible()

    to_step3("3000")
    expect(page.get_by_text("This payment was last refunded to")).to_have_count(0)   # nothing to offer yet
    fill_refund_account(page)
    send()
    page.get_by_role("button", name="Refund another payment").click()
    settle(page)

    to_step3("2000")
    expect(page.get_by_text(re.compile(r"This payment was last refunded to .*110\*+456"))).to_be_visible()
    page.get_by_role("button", name="Refund to this account again").click()
    settle(page)
    expect(page.get_by_role("textbox", name="Account number (digits, hyphens allowed)")).to_have_value("110555123456")
    page.get_by_role("button", name="Next").click()
    settle(page)
    expect(page.get_by_text("Step 4 of 6 — Fee impact")).to_be_visible()
    send()
    reg = e2e_sandbox.refunds(p["imp_uid"])
    assert [(r["refund_bank"], r["refund_account"], r["refund_holder"], r["amount"]) for r in reg] == \
        [("088", "110555123456", shinhan_holder(), 3000), ("088", "110555123456", shinhan_holder(), 2000)]
