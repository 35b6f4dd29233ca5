"""Browser test helpers: open a page and wait for its script, read metrics, walk the refund wizard's account
step, confirm in a dialog, fetch the audit export."""

from __future__ import annotations

from devtools.processes import READY, App


def open_app(page, app: App, path: str = "/", refresh: bool = True):
    """Go to a page and wait until its script has finished."""
    page.goto(app.url + path)
    page.wait_for_selector(READY)
    if refresh and path.split("?")[0] == "/":
        page.get_by_role("button", name="Refresh").click()
        settle(page)
    return page


def settle(page):
    """Wait until no script run is in progress. Assertions after it use Playwright's
    ``expect`` (which retries until its timeout), so a run that starts a moment later is still awaited."""
    page.wait_for_selector(READY)


def metric_value(page, label: str) -> str:
    m = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True))
    return m.locator("[data-testid=stMetricValue]").inner_text().strip()


def fill_refund_account(page, *, holder="홍길동", bank="신한은행 (Shinhan Bank) — code BK88", account="110-555-123456"):
    """Refund wizard step 3 -> step 4."""
    from playwright.sync_api import expect
    expect(page.get_by_text("Step 3 of 6 — Refund account")).to_be_visible()
    page.get_by_label("Account holder name").fill(holder)
    page.get_by_label("Customer's bank").click()
    page.get_by_role("option", name=bank).click()
    page.get_by_role("textbox", name="Account number (digits, hyphens allowed)").fill(account)
    page.get_by_role("button", name="Next").first.click()
    settle(page)
    expect(page.get_by_text("Step 4 of 6 — Fee impact")).to_be_visible()


def confirm_in_dialog(page, opener: str, confirm: str) -> None:
    """Open the confirmation dialog and double-click its confirm button (the app must send once)."""
    from playwright.sync_api import expect
    page.get_by_role("button", name=opener).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=confirm).dblclick()
    settle(page)


def audit_csv_via_link(page) -> str:
    """Follow "See it in the audit log", expect the sent + outcome pair, and return the exported CSV."""
    from playwright.sync_api import expect
    page.get_by_role("link", name="See it in the audit log").click()
    settle(page)
    expect(page.get_by_text("2 records")).to_be_visible()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    return open(dl.value.path(), encoding="utf-8-sig").read()
