"""The desk a team uses all day (issue 19), in Chromium: cancel an issued virtual account from its payment page."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from lib.db.appdb import AppDb
from tests.e2e.helpers import metric_value, open_app, settle

pytestmark = pytest.mark.browser


def test_cancel_a_pending_account_sends_one_delete_audited_and_told(page, e2e_app, e2e_sandbox):
    now = time.time()
    p = e2e_sandbox.pick(status="ready", pg="settle",
                         where=lambda x: (x.get("vbank_date") or 0) > now + 3600 and x["cancel_amount"] == 0)
    e2e_sandbox.clear_requests()
    open_app(page, e2e_app, f"/payment?imp_uid={p['imp_uid']}")
    page.get_by_role("button", name="Cancel this virtual account…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("no money moves")).to_be_visible()
    dialog.get_by_label("Why (kept in the audit log, e.g. order cancelled)").fill("order cancelled by the customer")
    dialog.get_by_role("button", name="Cancel the account").dblclick()            # a double click sends once
    settle(page)
    expect(page.get_by_text("it no longer accepts deposits")).to_be_visible()
    assert len(e2e_sandbox.requests_seen("/vbanks/", "DELETE")) == 1
    assert e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]["status"] == "cancelled"
    rec = AppDb(e2e_app.audit_url).audit.records(imp_uid=p["imp_uid"]).sort_values("id")
    assert list(zip(rec["action"], rec["outcome"])) == [("revoke_vbank", "sent"), ("revoke_vbank", "succeeded")]
    assert "order cancelled by the customer" in rec.iloc[0]["detail"]
    page.get_by_role("button", name="Done").click()
    settle(page)
    assert metric_value(page, "Status") == "Account cancelled (not paid)"        # the page reads it anew (발급취소)
    expect(page.get_by_role("button", name="Cancel this virtual account…")).to_have_count(0)


def test_a_caller_is_found_by_phone_from_the_sidebar(page, e2e_app, e2e_sandbox):
    """The customer calls and gives a number in their own format: the sidebar search finds the paid payment and opens
    it (issue 19 §1)."""
    everyone = e2e_sandbox.all_payments("all")
    tels = [x.get("buyer_tel") for x in everyone]
    p = next(x for x in everyone if x["status"] == "paid" and x.get("buyer_tel")
             and tels.count(x["buyer_tel"]) == 1)                               # a number only one payment has
    typed = "+82 " + p["buyer_tel"][1:].replace("-", " ")                       # 010-1234-5678 → +82 10 1234 5678
    open_app(page, e2e_app, "/", refresh=False)
    page.get_by_placeholder("Name, phone, e-mail, order…").fill(typed)
    page.get_by_placeholder("Name, phone, e-mail, order…").press("Enter")
    settle(page)
    expect(page).to_have_url(re.compile(r"/search\?q="))
    page.get_by_role("link", name=re.compile("^Open the payment")).click()
    settle(page)
    expect(page.get_by_text(re.compile(rf"imp_uid {p['imp_uid']}"))).to_be_visible()
    assert metric_value(page, "Status") == ("Partially cancelled" if 0 < p["cancel_amount"] < p["amount"] else "Paid")


@pytest.fixture
def quick_app(e2e_sandbox, tmp_path):
    """An app whose pages re-read deposits every 5 seconds (30 by default)."""
    from tests.e2e.helpers import App
    app = App(e2e_sandbox, tmp_path, VBANK_REFRESH_SECONDS="5")
    yield app
    app.stop()


def test_a_deposit_leaves_the_list_and_shows_as_new_without_pressing_refresh(page, quick_app, e2e_sandbox):
    """The customer pays while the list is open: within the refresh interval the account leaves the pending list with
    a notice and appears under the new deposits, linking to its payment — nobody pressed Refresh (issue 19 §3)."""
    open_app(page, quick_app, "/")
    before = int(metric_value(page, "Pending accounts").replace(",", ""))
    now = time.time()
    p = e2e_sandbox.pick(status="ready", where=lambda x: (x.get("vbank_date") or 0) > now + 3600
                         and x["started_at"] > now - 80 * 86400)
    e2e_sandbox.deposit(p["imp_uid"])
    expect(page.get_by_text(re.compile(r"^Paid meanwhile, so no longer pending: " + re.escape(p["buyer_name"])))
           ).to_be_visible(timeout=30_000)
    settle(page)
    assert int(metric_value(page, "Pending accounts").replace(",", "")) == before - 1
    strip = page.get_by_text(re.compile(r"new deposits since you last looked"))
    expect(strip).to_be_visible()
    link = page.get_by_role("link", name=re.compile("^" + re.escape(p["buyer_name"]) + " · ")).first
    if not link.is_visible():
        strip.click()                                   # folded when more than two: open it
    expect(link).to_be_visible()
    assert p["imp_uid"] in (link.get_attribute("href") or "")


def test_cancel_every_account_overdue_for_more_than_n_days(page, e2e_app, e2e_sandbox):
    """Issue 19 §2 in bulk: select every account overdue for more than N days, type their number, confirm once; one
    DELETE per account that can be cancelled, the others refused with the reason, every row listed."""
    from lib.domain import pg_rules
    from lib.domain.settings import Rules
    limit = Rules().bulk_approval_above_count
    now = time.time()
    pending = e2e_sandbox.pending_vbanks()

    def overdue(days):
        return [p for p in pending if p.get("vbank_date") and p["vbank_date"] < now - days * 86400]

    def can(p):
        return p["pg_provider"] in pg_rules.REVOKE_SUPPORTED - pg_rules.REVOKE_NEEDS_PG_KEY

    days = next(d for d in range(85, 1, -1) if 1 <= sum(map(can, overdue(d))) <= limit and len(overdue(d)) >= 2)
    chosen = overdue(days)
    ok = [p["imp_uid"] for p in chosen if can(p)]
    e2e_sandbox.clear_requests()
    open_app(page, e2e_app, "/revoke", refresh=False)
    page.get_by_label("Overdue for more than (days)").fill(str(days))
    page.get_by_role("button", name="Select every account overdue that long").click()
    settle(page)
    expect(page.get_by_text(f"{len(chosen)} accounts overdue for more than {days} days were selected.")).to_be_visible()
    page.get_by_label(f"Type {len(ok)} (the number of accounts) to confirm").fill(str(len(ok)))
    page.get_by_label(f"Type {len(ok)} (the number of accounts) to confirm").press("Enter")
    settle(page)
    page.get_by_role("button", name=f"Cancel {len(ok)} accounts…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel the accounts").dblclick()
    settle(page)
    expect(page.get_by_text(f"{len(ok)} of {len(chosen)} accounts cancelled.")).to_be_visible()
    assert sorted(r["path"].rsplit("/", 1)[1] for r in e2e_sandbox.requests_seen("/vbanks/", "DELETE")) == sorted(ok)
