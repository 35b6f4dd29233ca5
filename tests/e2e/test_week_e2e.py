"""Issue 31 in a real browser, in Korean at 1280×800: Monday's 오늘의 요약 (지난 영업일 이후 with units and the week
before), 입금 예정 before and after a bank statement is matched (nothing late is claimed without one; a short payout
planted in the statement shows, and 오늘의 요약 then tells it), and 회계 전표 balanced — no "nan" on any of them."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.processes import Sandbox
from tests.e2e.helpers import App, browser_page, open_app, settle
from tests.helpers import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def week(browser):
    """A sandbox kept in a file (the bank statement is written from it, as `make settlement` does) and the app in
    Korean."""
    tmp = Path(tempfile.mkdtemp(prefix="vbank-week-"))
    sb = Sandbox("--db", str(tmp / "sandbox.sqlite3"), payments=1500, seed=21)
    app = App(sb, tmp, VBANK_LANG="ko")
    (tmp / "data").mkdir()
    today = date.today()
    subprocess.run([sys.executable, "-m", "tests.fixtures.realfiles", "--from", str(today - timedelta(days=10)),
                    "--to", str(today), "--db", str(tmp / "sandbox.sqlite3"), "--out", str(tmp / "data")],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    ctx, page = browser_page(browser, width=1280, height=800, locale="ko-KR")
    yield page, app, next((tmp / "data").glob("KB*.xls"))
    ctx.close()
    app.stop()
    sb.stop()


def shown(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def grid_text(page) -> str:
    """What the page's table holds, as its CSV download gives it (the grid itself is drawn on a canvas)."""
    with page.expect_download() as dl:
        page.get_by_role("button", name="내려받기 (CSV)").click()
    return Path(dl.value.path()).read_bytes().decode("utf-8-sig")


def test_a_week_in_the_desk(week):
    page, app, statement = week
    open_app(page, app, "/today", refresh=False)
    expect(page.get_by_text("지난 영업일 이후:", exact=False).first).to_be_visible()
    text = shown(page)
    assert "한 주 전" in text and "건" in text and "nan" not in text.lower().split()
    assert "대조한 은행 입금 내역이 없어" in text                         # nothing claimed without a statement

    open_app(page, app, "/payouts", refresh=False)
    expect(page.get_by_text("아직 대조한 은행 입금 내역이 없어", exact=False)).to_be_visible()
    assert "입금 지연" not in grid_text(page) and "덜 들어옴" not in grid_text(page)
    page.locator("[data-testid=stFileUploader] input[type=file]").first.set_input_files(str(statement))
    expect(page.get_by_text("은행 입금 내역을 대조했습니다", exact=False)).to_be_visible(timeout=30_000)
    settle(page)
    expect(page.get_by_text("지연·부족 정산 입금", exact=False)).to_be_visible()      # the statement's planted short
    cells = grid_text(page)
    assert "덜 들어옴" in cells or "입금 지연" in cells
    assert "nan" not in cells.replace(",", " ").split() and "html5_inicis" not in cells and "tosspayments" not in cells

    open_app(page, app, "/today", refresh=False)
    expect(page.get_by_text("지연·부족 정산 입금", exact=False)).to_be_visible()

    open_app(page, app, "/journal", refresh=False)
    expect(page.get_by_text("차변 ₩", exact=False)).to_be_visible()
    ok = page.locator("[data-testid=stAlertContentSuccess]").inner_text()
    debit, credit = ok.split("차변 ")[1].split(" = 대변 ")
    assert debit.strip() == credit.strip().rstrip(".")
