"""Change a pending account in a real browser: deep link, new amount and due date, confirm (double click)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from lib.domain.clock import KST
from tests.e2e.helpers import audit_csv_via_link, confirm_in_dialog, open_app, settle

pytestmark = pytest.mark.browser


def set_date(page, label: str, d) -> None:
    """Streamlit's date input is a react-aria field: one spinbutton each for year, month and day."""
    for part, value in (("year", f"{d.year:04d}"), ("month", f"{d.month:02d}"), ("day", f"{d.day:02d}")):
        spin = page.get_by_role("spinbutton", name=f"{part}, {label}")
        spin.click()
        spin.type(value)
    page.keyboard.press("Escape")          # close the calendar popup the field opened


def test_change_amount_and_due_by_deep_link_double_click_sends_once(page, e2e_app, e2e_sandbox):
    p = e2e_sandbox.pick(status="ready", pg="settle", where=lambda x: x["vbank_date"] > time.time() + 3600)
    open_app(page, e2e_app, f"/update?imp_uid={p['imp_uid']}")
    new_amount = p["amount"] + 3000
    old_due = datetime.fromtimestamp(p["vbank_date"], KST)
    new_date = (old_due + timedelta(days=2)).date()

    amount = page.get_by_label("New amount (₩)")
    amount.fill(str(new_amount))
    set_date(page, "New due date (KST)", new_date)
    page.get_by_role("button", name="Review changes").click()
    settle(page)
    expect(page.get_by_text("Review: before → after")).to_be_visible()
    expect(page.get_by_text("later by 2d 0h")).to_be_visible()

    e2e_sandbox.clear_requests()
    confirm_in_dialog(page, "Send this change…", "Confirm and send")
    expect(page.get_by_text("The virtual account was updated.")).to_be_visible()

    puts = e2e_sandbox.requests_seen("/vbanks/", "PUT")
    assert len(puts) == 1, puts
    after = e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]
    assert after["amount"] == new_amount
    assert after["vbank_date"] == p["vbank_date"] + 2 * 86400

    text = audit_csv_via_link(page)
    assert p["imp_uid"] in text and "succeeded" in text and "sent" in text and "e2e@example.com" in text


def test_bulk_extension_in_the_browser_sends_once_per_account_and_shows_the_result(page, e2e_app, e2e_sandbox):
    targets = [p for p in e2e_sandbox.pending_vbanks() if p["pg_provider"] in ("settle", "kcp")
               and p["vbank_date"] > time.time() + 3600][:3]
    open_app(page, e2e_app, "/bulk")
    page.get_by_label("imp_uids (one per line)").fill("\n".join(p["imp_uid"] for p in targets))
    page.keyboard.press("Control+Enter")
    settle(page)
    e2e_sandbox.clear_requests()
    confirm_in_dialog(page, "Extend 3 accounts…", "Confirm and send")
    expect(page.get_by_text("3 of 3 accounts extended")).to_be_visible()
    expect(page.get_by_role("button", name="Extend other accounts")).to_be_visible()
    assert len(e2e_sandbox.requests_seen("/vbanks/", "PUT")) == 3
    for t in targets:
        after = e2e_sandbox.api("GET", f"/payments/{t['imp_uid']}").json()["response"]
        assert after["vbank_date"] == t["vbank_date"] + 3 * 86400
