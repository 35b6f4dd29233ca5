"""Browser test helpers: open a page and wait for its script, read metrics, walk the refund wizard's account
step, confirm in a dialog, fetch the audit export."""

from __future__ import annotations

import re

from devtools.processes import READY, App


def open_app(page, app: App, path: str = "/", refresh: bool = True):
    """Go to a page and wait until its script has finished."""
    page.goto(app.url + path)
    page.wait_for_selector(READY)
    if refresh and path.split("?")[0] == "/":
        page.get_by_role("button", name="Refresh").click()
        settle(page)
    return page


def nav(page, name: str) -> None:
    """Go to a page through the sidebar (the same session), opening Streamlit's "View more" when the link is folded
    away (the navigation shows its first ten pages)."""
    side = page.get_by_test_id("stSidebarNav")
    link = side.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        side.get_by_role("button").filter(has_text=re.compile("more", re.IGNORECASE)).first.click()
    link.click()
    settle(page)


def settle(page):
    """Wait until no script run is in progress. Assertions after it use Playwright's
    ``expect`` (which retries until its timeout), so a run that starts a moment later is still awaited."""
    page.wait_for_selector(READY)


# The reconciliation page's two uploaders, by their label (in English or Korean).
UPLOADERS = {0: re.compile(r"^(Settlement file|정산 파일)"), 1: re.compile(r"^(Bank statement|은행 거래내역)")}


def drop(page, nth: int, path) -> None:
    """Give the nth file uploader a file and wait until it shows the file's chip (by its title: Streamlit cuts long
    names in the middle). The input is looked up inside that uploader — once an uploader holds a file its dropzone
    is gone, so "the nth dropzone" would name the next uploader. An upload that lands while the page's first run is
    still being set up is dropped by Streamlit (the uploader stays, or becomes, empty once that run is over); a
    person would drop the file again, and so does this, at most twice."""
    from playwright.sync_api import expect
    # By its label, not its position: while the page reruns, "the first uploader" can briefly be the other one.
    box = page.locator("[data-testid=stFileUploader]").filter(
        has=page.get_by_text(UPLOADERS[nth])).first
    chip = box.get_by_title(path.name, exact=True)
    for attempt in range(3):
        box.locator("input[type=file]").set_input_files(str(path))
        try:
            expect(chip).to_be_visible(timeout=20000)
            settle(page)
            expect(chip).to_be_visible(timeout=2000)     # still there once the page's run is over
            return
        except AssertionError:
            if attempt == 2:
                raise


def metric_value(page, label: str) -> str:
    m = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True))
    return m.locator("[data-testid=stMetricValue]").inner_text().strip()


# The refund wizard's account step in each language (the screen's own words).
ACCOUNT_STEP = {
    "en": {"step3": "Step 3 of 6 — Refund account", "step4": "Step 4 of 6 — Fee impact",
           "holder": "Account holder name", "bank": "Customer's bank",
           "account": "Account number (digits, hyphens allowed)", "next": "Next",
           "shinhan": "신한은행 (Shinhan Bank)"},
    "ko": {"step3": "6단계 중 3단계 — 환불 계좌", "step4": "6단계 중 4단계 — 수수료 영향", "holder": "예금주명",
           "bank": "고객 은행", "account": "계좌번호(숫자, 하이픈 허용)", "next": "다음", "shinhan": "신한은행"},
}


def shinhan_holder(account: str = "110-555-123456") -> str:
    """The holder's name the sandbox's bank has for a Shinhan account (the wizard checks it with the bank)."""
    from sandbox.store import holder_for
    return holder_for("088", "".join(c for c in account if c.isdigit()))


def fill_refund_account(page, *, holder=None, bank=None, account="110-555-123456", lang="en"):
    """Refund wizard step 3 -> step 4 (Shinhan Bank unless ``bank`` names another option; the holder's name the
    bank has unless ``holder`` is given)."""
    from playwright.sync_api import expect
    w = ACCOUNT_STEP[lang]
    expect(page.get_by_text(w["step3"])).to_be_visible()
    page.get_by_label(w["holder"]).fill(shinhan_holder(account) if holder is None else holder)
    page.get_by_label(w["bank"]).click()
    page.get_by_role("option", name=bank or w["shinhan"]).click()
    page.get_by_role("textbox", name=w["account"]).fill(account)
    page.get_by_role("button", name=w["next"]).first.click()
    settle(page)
    expect(page.get_by_text(w["step4"])).to_be_visible()


def browser_page(browser, *, width: int, height: int, locale: str):
    """A fresh browser context in Seoul's time zone, downloads allowed, and its page."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True, locale=locale,
                              timezone_id="Asia/Seoul")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    return ctx, pg


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


def next_step(page, button, expected: str) -> None:
    """Click a wizard's Next (navigation only: idempotent, it sends nothing) and wait for the next step. On a loaded
    machine a click on a form rendered a few milliseconds earlier is sometimes not taken (Streamlit's form is still
    registering); a person clicks again, and so does this — once. Writes are never clicked this way."""
    from playwright.sync_api import expect
    button.click()
    settle(page)
    try:
        expect(page.get_by_text(expected)).to_be_visible(timeout=5000)
    except AssertionError:
        button.click()
        settle(page)
        expect(page.get_by_text(expected)).to_be_visible()
