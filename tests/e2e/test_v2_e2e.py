"""A desk with a V1 (I'mport) and a V2 (PortOne) merchant in one browser session, in Korean at 1280×800: the pending
list shows both with their version; a V2 refund goes through the wizard to 환불 요청됨 (KSNET, asynchronous in the
sandbox) and to done (another PG); a V2 account is closed from the payment page through its dialog, once; a V2
"change the due date" is offered as close-and-reissue with its warning. Each step checked by its Korean words and by
what reached the V2 sandbox."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lib.domain import i18n
from tests.e2e.helpers import App, browser_page, next_step, settle
from tests.e2e.test_korean_e2e import english_on_screen
from tests.e2e.test_screens_e2e import click_cell

pytestmark = pytest.mark.browser


def ko(text: str) -> str:
    """The screen's Korean for an English text (the desk's own catalog)."""
    i18n.set_lang("ko")
    try:
        return str(i18n.gettext(text))
    finally:
        i18n.set_lang("en")


@pytest.fixture(scope="module")
def v2_app(e2e_sandbox, sandbox_v2):
    e2e_sandbox.reset()
    sandbox_v2.reset()
    tmp = Path(tempfile.mkdtemp(prefix="vbank-v2-"))
    app = App(e2e_sandbox, tmp, VBANK_LANG="ko", PORTONE_V2_API_URL=sandbox_v2.url, VBANK_MIRROR=str(tmp / "mirror"),
              VBANK_SYNC_IN_APP="0")
    yield app
    app.stop()


@pytest.fixture
def page(browser, v2_app):
    ctx, pg = browser_page(browser, width=1280, height=800, locale="ko-KR")
    yield pg
    ctx.close()


def english(page) -> list[str]:
    """English on the Korean screen, V2's own payment ids (``order-live-000400``: words of the merchant's) aside."""
    return [e for e in english_on_screen(page) if "order" not in e]


def go(page, app: App, path: str) -> None:
    page.goto(app.url + path)
    settle(page)


def metric(page, label: str):
    return page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)) \
        .locator("[data-testid=stMetricValue]")


def test_pending_list_shows_both_versions(page, v2_app, sandbox_v2, tmp_path):
    mine = [sandbox_v2.issue(pg="KCP_V2", amount=31_000 + i, dueInDays=0.2 + i / 10, orderName="V2 주문")["id"]
            for i in range(3)]
    go(page, v2_app, "/")
    page.get_by_role("button", name=ko("Refresh")).click()          # syncs the mirror: the new V2 accounts come in
    settle(page)
    everything = int(metric(page, ko("Pending accounts")).inner_text().replace(",", ""))
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.scroll_into_view_if_needed()
    expect(grid.locator("tbody")).to_contain_text("V2 (포트원)")          # the new V2 accounts, due soonest, on top
    expect(grid.locator("tbody")).to_contain_text("V1 (아임포트)")
    assert english(page) == []
    out = Path(os.environ.get("VBANK_SHOTS") or tmp_path)       # the list with both versions, for the README
    out.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "pending-v1-v2.png"))
    # Both versions, said in the team's words: the export of the list names each row's API …
    with page.expect_download() as dl:
        page.get_by_role("button", name=ko("Download CSV")).click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    api = {r[ko("imp_uid")]: r[ko("API")] for r in rows}
    assert set(api.values()) == {"V1 (아임포트)", "V2 (포트원)"}
    assert all(api[m] == "V2 (포트원)" for m in mine)
    n_v2 = sum(v == "V2 (포트원)" for v in api.values())
    # … and the sidebar's API filter narrows the list to one version.
    side = page.locator("[data-testid=stSidebar]")
    box = side.locator("[data-testid=stMultiSelect]").filter(has_text=ko("API"))
    box.scroll_into_view_if_needed()
    box.locator("input").click()
    page.get_by_role("option", name="V2 (포트원)").click()
    page.keyboard.press("Escape")
    settle(page)
    expect(metric(page, ko("Pending accounts"))).to_have_text(f"{n_v2:,}")
    assert n_v2 < everything
    # one click on a V2 row's "열기" opens its payment with its version in the link, read through V2
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")          # the whole table in view: its first row
    click_cell(page, grid, 0, x=35 + 40)
    expect(page).to_have_url(re.compile(r"/payment\?imp_uid=" + re.escape(mine[0]) + "&api=v2$"))
    expect(page.get_by_role("button", name=ko("Close this virtual account…"))).to_be_visible()


def refund_v2(page, app: App, payment_id: str) -> None:
    """The wizard from a V2 payment's link to its result, in Korean: the whole refundable balance to 신한은행."""
    go(page, app, f"/refund?imp_uid={payment_id}&api=v2")
    next_step(page, page.get_by_role("button", name=ko("Next")), ko("Step {n} of 6 — {name}").format(
        n=2, name=ko("Amount and reason")))
    next_step(page, page.get_by_role("button", name=ko("Next")), ko("Step {n} of 6 — {name}").format(
        n=3, name=ko("Refund account")))
    # No holder lookup on V2: said, and no button that would pretend to check.
    expect(page.get_by_text(ko("PortOne V2 offers no account-holder lookup: the holder's name is sent as you type it, "
                               "not checked by the bank. Confirm the name and account with the customer before you "
                               "go on."))).to_be_visible()
    expect(page.get_by_role("button", name=ko("Check the holder's name with the bank"))).to_have_count(0)
    page.get_by_label(ko("Account holder name")).fill("홍길동")
    page.get_by_label(ko("Customer's bank")).click()
    page.get_by_role("option", name="신한은행", exact=True).click()
    page.get_by_role("textbox", name=ko("Account number (digits, hyphens allowed)")).fill("110-555-123456")
    next_step(page, page.get_by_role("button", name=ko("Next")).first, ko("Step {n} of 6 — {name}").format(
        n=4, name=ko("Fee impact")))
    next_step(page, page.get_by_role("button", name=ko("Next")), ko("Step {n} of 6 — {name}").format(
        n=5, name=ko("Confirm")))
    expect(page.get_by_text(ko("not available on PortOne V2 (the name is sent as typed)"))).to_be_visible()
    page.get_by_role("button", name=ko("Send the refund…")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=ko("Refund now")).dblclick()      # one send, even double-clicked
    settle(page)
    expect(page.get_by_text(ko("Step {n} of 6 — {name}").format(n=6, name=ko("Result")))).to_be_visible()
    assert english(page) == []


def paid_v2(v2, pg: str) -> dict:
    return v2.pick("PAID", pg=pg, where=lambda p: not p.get("cancellations") and p["amount"]["total"] >= 10_000)


def test_v2_refund_async_reads_requested_and_sync_reads_done(page, v2_app, sandbox_v2):
    ksnet = paid_v2(sandbox_v2, "KSNET")
    sandbox_v2.clear_requests()
    refund_v2(page, v2_app, ksnet["id"])
    expect(page.get_by_text(re.compile("^환불 요청됨: "))).to_be_visible()        # said once, not “환불 요청됨 — 환불 요청됨: …”
    expect(page.get_by_text(ko("Refund registered — the PG pays the customer on the next business day."))).to_have_count(0)
    calls = sandbox_v2.requests_seen(f"/payments/{ksnet['id']}/cancel")
    assert len(calls) == 1
    assert sandbox_v2.payment(ksnet["id"])["cancellations"][-1]["status"] == "REQUESTED"
    # the payment page says so too, and offers no second refund while it is being processed
    go(page, v2_app, f"/payment?imp_uid={ksnet['id']}&api=v2")
    expect(metric(page, ko("Status"))).to_contain_text("환불 요청됨")
    expect(page.get_by_role("link", name=ko("Refund this payment"))).to_have_count(0)

    kcp = paid_v2(sandbox_v2, "KCP_V2")
    refund_v2(page, v2_app, kcp["id"])
    expect(page.get_by_text(ko("Refund registered — the PG pays the customer on the next business day."))).to_be_visible()
    assert len(sandbox_v2.requests_seen(f"/payments/{kcp['id']}/cancel")) == 1
    assert sandbox_v2.payment(kcp["id"])["status"] == "CANCELLED"


def test_v2_close_from_the_payment_page_and_change_offered_as_reissue(page, v2_app, sandbox_v2):
    new = sandbox_v2.issue(pg="TOSSPAYMENTS", amount=52_000, dueInDays=2, orderName="V2 말소 주문")["id"]
    go(page, v2_app, f"/payment?imp_uid={new}")            # no version in the link: the desk finds it
    expect(page.get_by_text(ko("API: {api}").format(api="V2 (포트원)"), exact=False)).to_be_visible()
    # "change the due date": offered as close-and-reissue, with its warning, never a form that would fail
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_role("link", name=ko("Change amount / due")).click()
    settle(page)
    expect(page.get_by_text(ko("Close and issue a new account"), exact=True)).to_be_visible()
    expect(page.get_by_text(ko("PortOne V2 cannot change an issued account. Closing it and issuing a new one gives "
                               "the customer a new account number: tell the customer, or a deposit into the old "
                               "account is refused."))).to_be_visible()
    expect(page.get_by_label(ko("New amount (₩)"))).to_have_count(0)
    assert english(page) == []
    page.get_by_test_id("stMainBlockContainer").get_by_role(
        "link", name=ko("Go to the payment page to close this account")).click()
    settle(page)
    # the close: its dialog, double-clicked, sent once through V2's close endpoint
    sandbox_v2.clear_requests()
    page.get_by_role("button", name=ko("Close this virtual account…")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=ko("Close the account")).dblclick()
    settle(page)
    expect(page.get_by_text(ko("The virtual account was cancelled: it no longer accepts deposits."))).to_be_visible()
    assert len(sandbox_v2.requests_seen(f"/payments/{new}/virtual-account/close")) == 1
    assert english(page) == []
    assert sandbox_v2.payment(new)["sandbox"]["closed"]
