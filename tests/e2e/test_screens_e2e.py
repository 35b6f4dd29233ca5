"""Issue 31, the screens that mislead — in Korean at 1280×800 in Chromium, as the finance team sees them.

* Enter in the refund wizard's amount never jumps to the account step (the reason and note typed after it are sent);
* a holder the bank names differently is taken in one click ("은행 예금주로 바꾸기"), and that name is sent;
* the approver's card says a holder mismatch first, as a warning with both names;
* the proof tag a refund's reason carries to the PG ([vd:…]) shows on no screen;
* a payment opens from a table in one click, in the same tab, with the reveal switch kept.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lib.domain.i18n import catalog
from tests.e2e.helpers import App, browser_page, next_step, open_app, settle, shinhan_holder

pytestmark = pytest.mark.browser

RULES = """
refund_approval_above = 100000
refund_typed_confirm_above = 100000000
"""


def ko(msgid: str) -> str:
    """The Korean the screen shows for one of the app's texts (the catalog, so a reworded text is followed)."""
    return catalog("ko")[msgid]


def step(n: int, name: str) -> str:
    return ko("Step {n} of 6 — {name}").format(n=n, name=ko(name))


@pytest.fixture(scope="module")
def ko_app(e2e_sandbox):
    tmp = Path(tempfile.mkdtemp(prefix="vbank-screens-"))
    rules = tmp / "vbank-desk.toml"
    rules.write_text(RULES)
    app = App(e2e_sandbox, tmp, VBANK_LANG="ko", VBANK_RULES_FILE=str(rules))
    yield app
    app.stop()


@pytest.fixture
def page(browser, ko_app, e2e_sandbox):
    e2e_sandbox.reset()
    ctx, pg = browser_page(browser, width=1280, height=800, locale="ko-KR")
    yield pg
    ctx.close()


def to_amount_step(page, app, imp_uid: str) -> None:
    open_app(page, app, f"/refund?imp_uid={imp_uid}")
    expect(page.get_by_text(step(1, "Payment"))).to_be_visible()
    next_step(page, page.get_by_role("button", name=ko("Next")), step(2, "Amount and reason"))


def account_details(page, *, holder: str, account: str = "110-555-123456") -> None:
    expect(page.get_by_text(step(3, "Refund account"))).to_be_visible()
    page.get_by_label(ko("Account holder name")).fill(holder)
    page.get_by_label(ko("Customer's bank")).click()
    page.get_by_role("option", name="신한은행").click()
    page.get_by_role("textbox", name=ko("Account number (digits, hyphens allowed)")).fill(account)


def sent_value(page, label: str):
    """The value cell of one row of the step-5 table ("Everything that will be sent")."""
    return page.locator("tr").filter(has=page.get_by_role("rowheader", name=ko(label), exact=True)).locator("td")


def no_proof_tag(page) -> None:
    text = page.locator("[data-testid=stApp]").inner_text()
    assert not re.search(r"\[vd:[0-9a-f]{8}\]", text), re.findall(r".{30}\[vd:[0-9a-f]{8}\]", text)


def test_enter_moves_no_step_and_the_banks_holder_is_taken_in_one_click(page, ko_app, e2e_sandbox):
    p = e2e_sandbox.pick(status="paid", pg="kcp",
                         where=lambda x: x["cancel_amount"] == 0 and 20000 <= x["amount"] <= 100000)
    to_amount_step(page, ko_app, p["imp_uid"])
    page.get_by_text(ko("Partial refund")).click()
    amount = page.get_by_role("textbox", name=ko("Refund amount (₩)"))
    amount.fill("7000")
    amount.press("Enter")                   # before: the form was sent and the wizard jumped to the account step
    settle(page)
    expect(page.get_by_text("Press Enter to submit form")).to_have_count(0)
    page.get_by_label(ko("Note (optional, sent with the reason)")).fill("배송 지연")
    page.get_by_label(ko("Note (optional, sent with the reason)")).press("Enter")
    settle(page)
    expect(page.get_by_text(step(2, "Amount and reason"))).to_be_visible()
    next_step(page, page.get_by_role("button", name=ko("Next")).first, step(3, "Refund account"))

    bank_says = shinhan_holder()
    typed = "김오타" if bank_says != "김오타" else "박오타"
    account_details(page, holder=typed)
    page.get_by_role("button", name=ko("Next")).first.click()      # Next checks the holder with the bank
    settle(page)
    expect(page.get_by_text(step(3, "Refund account"))).to_be_visible()
    use = page.get_by_role("button", name="은행 예금주로 바꾸기")
    expect(use).to_be_visible()
    use.click()                                                      # one click: the bank's name
    settle(page)
    expect(page.get_by_label(ko("Account holder name"))).to_have_value(bank_says)
    next_step(page, page.get_by_role("button", name=ko("Next")).first, step(4, "Fee impact"))   # no reason needed now
    next_step(page, page.get_by_role("button", name=ko("Next")), step(5, "Confirm"))
    expect(sent_value(page, "Account holder")).to_have_text(bank_says)
    expect(sent_value(page, "Reason sent to the PG")).to_have_text(re.compile(r".+ — 배송 지연$"))

    e2e_sandbox.clear_requests()
    page.get_by_role("button", name=ko("Send the refund…")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=ko("Refund now")).click()
    settle(page)
    expect(page.get_by_text(ko("Refund registered — the PG pays the customer on the next business day."))).to_be_visible()
    assert [(r["refund_holder"], r["amount"]) for r in e2e_sandbox.refunds(p["imp_uid"])] == [(bank_says, 7000)]
    sent = e2e_sandbox.requests_seen("/payments/cancel")
    assert len(sent) == 1
    no_proof_tag(page)

    # The payment page (취소 사유, the history, the story) and the audit log never show the proof tag.
    after = e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]
    assert re.search(r"\[vd:[0-9a-f]{8}\]$", after["cancel_reason"])           # the PG has it: it proves our write
    open_app(page, ko_app, f"/payment?imp_uid={p['imp_uid']}")
    expect(page.get_by_text("배송 지연").first).to_be_attached()
    no_proof_tag(page)
    open_app(page, ko_app, f"/audit?imp_uid={p['imp_uid']}")
    no_proof_tag(page)


def test_the_approver_sees_a_holder_mismatch_first_with_both_names(page, ko_app, e2e_sandbox):
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 100000)
    to_amount_step(page, ko_app, p["imp_uid"])
    next_step(page, page.get_by_role("button", name=ko("Next")).first, step(3, "Refund account"))   # full, above the limit
    bank_says = shinhan_holder()
    typed = "김오타" if bank_says != "김오타" else "박오타"
    account_details(page, holder=typed)
    page.get_by_role("button", name=ko("Next")).first.click()
    settle(page)
    expect(page.get_by_role("button", name="은행 예금주로 바꾸기")).to_be_visible()
    page.get_by_label(re.compile("^" + re.escape(ko("Why send to this account anyway? (at least {n} characters; "
                                                    "kept in the audit log and shown to an approver)"))
                                 .replace(re.escape("{n}"), r"\d+"))).fill("고객이 개명 전 이름으로 알려 주었습니다")
    next_step(page, page.get_by_role("button", name=ko("Next")).first, step(4, "Fee impact"))
    next_step(page, page.get_by_role("button", name=ko("Next")), step(5, "Confirm"))
    expect(sent_value(page, "Account holder")).to_have_text(typed)        # keeping the typed name is still possible
    page.get_by_role("button", name=ko("Request approval")).click()
    settle(page)
    expect(page.get_by_text(ko("Request sent — waiting for an approver. Nothing has been refunded yet."))).to_be_visible()

    open_app(page, ko_app, "/approvals")
    warning = page.get_by_role("alert").filter(has_text=bank_says)
    expect(warning).to_contain_text(typed)
    expect(warning).to_contain_text("개명 전 이름")
    # said first: under the request's title, above the table of its details
    title = page.get_by_text(re.compile(re.escape(p["imp_uid"]) + r".*환불$")).first
    details = page.get_by_role("row", name=re.compile(r"^imp_uid " + re.escape(p["imp_uid"]))).first
    assert title.bounding_box()["y"] < warning.bounding_box()["y"] < details.bounding_box()["y"]


def click_cell(page, grid, row: int, x: int = 40) -> None:
    """Click a cell of a table (a canvas: by position) — the first column, pinned, is the "open" one."""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    at = (box["x"] + x, box["y"] + 35 + 35 * row + 17)
    page.mouse.move(*at, steps=5)              # the pointer comes to the cell, as a hand's does, then one click
    page.mouse.click(*at)
    settle(page)


def test_a_payment_opens_from_a_table_in_one_click_in_this_tab_with_the_reveal_switch_kept(page, ko_app, e2e_sandbox):
    everyone = e2e_sandbox.all_payments("all")
    hits = sorted((x for x in everyone if x["amount"] == 55000), key=lambda x: -x["started_at"])
    assert len(hits) > 1
    first = hits[0]
    open_app(page, ko_app, "/search?q=" + "₩55,000")
    expect(page.get_by_text(ko("{n:,} payments found").format(n=len(hits)))).to_be_visible()
    page.get_by_text(ko("Show full phone numbers and e-mail addresses")).click()      # the person reveals
    settle(page)
    expect(page.get_by_role("switch", name=ko("Show full phone numbers and e-mail addresses"))).to_be_checked()
    expect(page.get_by_text(first["buyer_tel"], exact=True).first).to_be_attached()    # the table redrawn, in full
    grid = page.locator("[data-testid=stDataFrame]").first
    expect(grid.locator("tbody tr").first).to_contain_text(first["buyer_tel"])    # the table as redrawn in full
    click_cell(page, grid, 0)                                  # one click on the first result's "열기"
    expect(page).to_have_url(re.compile(r"/payment\?imp_uid=" + re.escape(first["imp_uid"]) + "$"))
    assert len(page.context.pages) == 1                      # the same tab, not a new one
    expect(page.get_by_text(f"{ko('imp_uid')} {first['imp_uid']}", exact=False).first).to_be_visible()   # 포트원 결제번호 …
    reveal = page.get_by_role("switch", name=ko("Show personal data (account, phone, e-mail)"))
    expect(reveal).to_be_checked()                            # the choice went with the person
    expect(page.get_by_text(first["buyer_tel"], exact=True).first).to_be_attached()   # the full number, not masked

    # The audit log opens the payment the same way (the reveal on the payment page is recorded there).
    open_app(page, ko_app, f"/audit?imp_uid={first['imp_uid']}")
    grid = page.locator("[data-testid=stDataFrame]").first
    expect(grid.locator("tbody tr").first).to_contain_text(ko("Open →"))     # the table as drawn, then one click
    click_cell(page, grid, 0)                                  # "열기", pinned first
    expect(page).to_have_url(re.compile(r"/payment\?imp_uid=" + re.escape(first["imp_uid"]) + "$"))
    assert len(page.context.pages) == 1


def test_the_pending_list_opens_a_payment_in_one_click_with_the_reveal_switch_kept(page, ko_app, e2e_sandbox):
    open_app(page, ko_app, "/", refresh=False)
    page.get_by_role("button", name=ko("Refresh")).click()
    settle(page)
    page.get_by_text(ko("Show full account and phone numbers")).click()
    settle(page)
    expect(page.get_by_role("switch", name=ko("Show full account and phone numbers"))).to_be_checked()
    grid = page.locator("[data-testid=stDataFrame]").first
    first = re.search(r"imp_\d{12}", grid.locator("tbody tr").first.inner_text()).group(0)   # the first row shown
    click_cell(page, grid, 0, x=35 + 40)                      # past the row's tick box: its "열기"
    expect(page).to_have_url(re.compile(r"/payment\?imp_uid=" + re.escape(first) + "$"))
    assert len(page.context.pages) == 1
    expect(page.get_by_role("switch", name=ko("Show personal data (account, phone, e-mail)"))).to_be_checked()
    num = e2e_sandbox.api("GET", f"/payments/{first}").json()["response"]["vbank_num"]
    expect(page.get_by_text(num, exact=True).first).to_be_attached()         # the account number in full
