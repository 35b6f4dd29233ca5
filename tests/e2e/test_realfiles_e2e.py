"""Real files in a real browser: a KB국민 web-banking statement (an HTML table saved as .xls, EUC-KR, a title block,
a 합계 footer and a note) uploaded with no mapping touched gives the right payouts; closing an exception survives a
new visit and shows in the audit; a 2 KB far-corner .xlsx ends in one sentence and the server keeps answering."""

from __future__ import annotations

from devtools.processes import session_today

from datetime import timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.helpers import drop, open_app, settle
from tests.fixtures import realfiles as rf
from tests.reports.test_realfiles import far_corner_xlsx

pytestmark = pytest.mark.browser


def metric(page, label):
    return page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)) \
        .locator("[data-testid=stMetricValue]")


def files(e2e_sandbox, tmp_path):
    """The sandbox's PG file and its bank statement of the last 10 days, the statement laid out as KB국민's
    web banking gives it. The PG file goes first: it names the refunds of payments older than 90 days, which
    the statement's payouts include."""
    today = session_today()
    q = {"from": str(today - timedelta(days=10)), "to": str(today)}
    settlement = tmp_path / "settlement.csv"
    settlement.write_bytes(e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params=q).content)
    got = e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/statement", params=q).content
    made = rf.render_bank("kb_web", rf.rows_of_statement(got))
    f = tmp_path / made.name
    f.write_bytes(made.data)
    return settlement, f


def upload_both(page, settlement, statement):
    expect(page.get_by_text("Expected settlement")).to_be_visible()         # the page has drawn its uploaders
    drop(page, 0, settlement)
    expect(page.get_by_text("Using the file's own dates")).to_be_visible()
    upload_statement(page, statement)


def upload_statement(page, f):
    drop(page, 1, f)


def test_kb_html_xls_with_title_and_footer_gives_the_right_payouts(page, e2e_app, e2e_sandbox, tmp_path):
    settlement, f = files(e2e_sandbox, tmp_path)
    assert f.read_bytes().lstrip().lower().startswith(b"<html")          # what KB's "엑셀 저장" really gives
    open_app(page, e2e_app, "/reconcile")
    upload_both(page, settlement, f)
    expect(page.get_by_text("Recognised as KB국민은행 거래내역 (web banking .xls)")).to_be_visible()
    expect(page.get_by_text("Header on row 5")).to_be_visible()
    expect(metric(page, "부족 입금")).to_have_text("1")
    expect(metric(page, "미입금")).to_have_text("1")
    expect(metric(page, "예상 외 입금")).to_have_text("1")
    expect(metric(page, "초과 입금")).to_have_text("0")
    assert int(metric(page, "일치").last.inner_text()) > 0                   # every other payout found by its sender


def test_closing_an_exception_survives_a_new_visit_and_is_audited(page, e2e_app, e2e_sandbox, tmp_path):
    settlement, f = files(e2e_sandbox, tmp_path)
    open_app(page, e2e_app, "/reconcile")
    upload_both(page, settlement, f)
    page.get_by_text("Close an exception", exact=True).click()
    pick = page.get_by_label("Exception").first
    expect(pick).to_be_visible()
    page.get_by_label("Memo (how it was closed)").first.fill("PG에 확인: 다음 영업일 입금 예정")
    page.get_by_label("Owner").first.fill("김재무")
    page.get_by_label("Owner").first.press("Tab")         # the typed values are sent, and their rerun is over,
    settle(page)                                          # before the click: a click during it can be lost
    page.get_by_role("button", name="Mark as resolved").first.click()
    settle(page)
    expect(page.get_by_text("Marked as resolved")).to_be_visible()
    # a new visit, the same file uploaded again: the exception is shown as resolved
    open_app(page, e2e_app, "/reconcile")
    upload_both(page, settlement, f)
    page.get_by_text("Close an exception", exact=True).click()
    expect(page.get_by_role("button", name="Reopen").first).to_be_enabled()
    expect(page.get_by_role("button", name="Mark as resolved").first).to_be_disabled()
    open_app(page, e2e_app, "/audit")
    record = page.get_by_text("Closed a reconciliation exception").first     # a cell of the audit table (canvas)
    expect(record).to_be_attached()
    assert "김재무" in record.text_content() and "PG에 확인" in record.text_content()


def test_a_far_corner_xlsx_ends_in_one_sentence_and_the_server_keeps_answering(page, e2e_app, e2e_sandbox,
                                                                              tmp_path):
    f = tmp_path / "evil.xlsx"
    f.write_bytes(far_corner_xlsx())
    open_app(page, e2e_app, "/reconcile")
    drop(page, 0, f)
    expect(page.get_by_text("1,048,576 rows × 16,384 columns")).to_be_visible()
    assert requests.get(e2e_app.url + "/_stcore/health", timeout=5).text == "ok"
    open_app(page, e2e_app, "/reconcile")                                 # and the app still works
    expect(page.get_by_text("Expected settlement")).to_be_visible()
