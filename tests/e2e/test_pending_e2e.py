"""The pending page in a real browser: numbers match the sandbox, filter, deep link, CSV download."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from lib.domain.fmt import krw, krw_compact
from tests.e2e.helpers import nav, open_app, settle

pytestmark = pytest.mark.browser


def metric(page, label):
    return page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)) \
        .locator("[data-testid=stMetricValue]")


def test_pending_numbers_filter_detail_and_csv(page, e2e_app, e2e_sandbox):
    expected = e2e_sandbox.pending_vbanks()
    open_app(page, e2e_app)
    expect(metric(page, "Pending accounts")).to_have_text(f"{len(expected):,}")
    expect(metric(page, "Amount that can still arrive")).to_have_text(
        krw_compact(sum(p["amount"] for p in expected if p["vbank_date"] >= __import__("time").time())))
    overdue_expected = [p for p in expected if p["vbank_date"] < __import__("time").time()]
    expect(metric(page, "Overdue")).to_have_text(f"{len(overdue_expected):,}")

    # filter: PG = settle
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.locator("[data-testid=stMultiSelect]").first.scroll_into_view_if_needed()
    sidebar.locator("[data-testid=stMultiSelect] input").first.fill("settle")
    page.get_by_role("option", name="헥토파이낸셜(세틀뱅크) (settle)", exact=True).click()
    page.keyboard.press("Escape")
    settle(page)
    expect(sidebar.get_by_text("헥토파이낸셜(세틀뱅크) (settle)")).to_be_visible()
    settle_rows = [p for p in expected if p["pg_provider"] == "settle"]
    expect(metric(page, "Pending accounts")).to_have_text(f"{len(settle_rows):,}")
    expect(metric(page, "Amount that can still arrive")).to_have_text(
        krw_compact(sum(p["amount"] for p in settle_rows if p["vbank_date"] >= __import__("time").time())))

    # the filter is in the URL and survives a visit to another page
    assert "pg=settle" in page.url
    nav(page, "Audit log")
    nav(page, "Pending accounts")
    expect(metric(page, "Pending accounts")).to_have_text(f"{len(settle_rows):,}")

    # CSV of the filtered rows
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    raw = open(dl.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted(r["imp_uid"] for r in rows) == sorted(p["imp_uid"] for p in settle_rows)
    by_id = {p["imp_uid"]: p for p in settle_rows}
    assert all(int(r["Amount (KRW)"]) == by_id[r["imp_uid"]]["amount"] for r in rows)
    assert all("*" in r["Account number"] for r in rows)

    # deep link to one row's detail
    target = settle_rows[0]
    page.goto(e2e_app.url + f"/payment?imp_uid={target['imp_uid']}")
    settle(page)
    expect(metric(page, "Amount")).to_have_text(krw(target["amount"]))
    expect(page.get_by_text(target["merchant_uid"]).first).to_be_visible()
    assert page.locator("[data-testid=stException]").count() == 0


def test_deep_link_on_a_fresh_server_goes_through_app_py(browser, e2e_sandbox, tmp_path):
    """Streamlit's legacy pages/ routing would run the page without app.py (no identity, no navigation)."""
    from tests.e2e.helpers import App
    app = App(e2e_sandbox, tmp_path)
    try:
        p = e2e_sandbox.pick(status="paid")
        ctx = browser.new_context()
        page = ctx.new_page()
        open_app(page, app, f"/payment?imp_uid={p['imp_uid']}")
        expect(page.get_by_text("Local mode")).to_be_visible()
        expect(page.get_by_role("link", name="Pending accounts")).to_be_visible()
        expect(metric(page, "Amount")).to_have_text(krw(p["amount"]))
        ctx.close()
    finally:
        app.stop()


def tick_row(page, n: int) -> None:
    """Click the row marker (checkbox) of the n-th row of the pending table (a canvas: by position)."""
    grid = page.locator("[data-testid=stDataFrame]").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * n + 17)
    settle(page)


def test_a_ticked_row_follows_its_payment_after_a_deposit_and_refresh(page, e2e_app, e2e_sandbox):
    """The habit the issue called dangerous: tick a row, a payment above it is paid, Refresh — the tick and the
    links must stay on the same buyer's payment, not move to whoever is now in that row."""
    open_app(page, e2e_app)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    order = [r["imp_uid"] for r in csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read()))]
    tick_row(page, 2)
    expect(page.get_by_text("Selected (1)")).to_be_visible()
    link = page.get_by_role("link", name="Open payment detail")
    expect(link).to_have_attribute("href", re.compile(re.escape(order[2]) + "$"))
    e2e_sandbox.deposit(order[0])                     # a payment above the ticked one is paid
    page.get_by_role("button", name="Refresh").click()
    settle(page)
    expect(link).to_have_attribute("href", re.compile(re.escape(order[2]) + "$"))
    expect(page.get_by_role("table").get_by_text(order[2])).to_be_visible()
    e2e_sandbox.deposit(order[2])                     # now the ticked one itself is paid
    page.get_by_role("button", name="Refresh").click()
    settle(page)
    expect(page.get_by_text("no longer in the list")).to_be_visible()
    expect(page.get_by_role("link", name="Open payment detail")).to_have_count(0)
