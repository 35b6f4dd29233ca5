"""The flows a Korean finance operator walks, in Korean (the product's default) at 1280×800, in a real browser.

Each step is checked by its Korean words and by what reached the sandbox; a screenshot of each screen is written
to $VBANK_SHOTS (``make screenshots`` sets docs/screenshots, shown in the README), else to the test's tmp dir.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.processes import session_today
from lib.domain.fmt import krw
from lib.domain.text import WRITE_TAG_RX
from tests.e2e.helpers import App, browser_page, drop, fill_refund_account, next_step, open_app, settle

pytestmark = pytest.mark.browser

RULES = """
refund_approval_above = 100000
refund_typed_confirm_above = 100000000
"""


@pytest.fixture(scope="module")
def ko_app(e2e_sandbox):
    tmp = Path(tempfile.mkdtemp(prefix="vbank-ko-"))
    rules = tmp / "vbank-desk.toml"
    rules.write_text(RULES)
    app = App(e2e_sandbox, tmp, VBANK_LANG="ko", VBANK_RULES_FILE=str(rules))
    yield app
    app.stop()


@pytest.fixture
def ko(browser, ko_app, e2e_sandbox, tmp_path):
    """A Korean operator's browser: 1280×800, ko-KR, Asia/Seoul."""
    e2e_sandbox.reset()
    ctx, page = browser_page(browser, width=1280, height=800, locale="ko-KR")
    yield page
    ctx.close()


# Three English words in a row on a Korean screen: a text that skipped the catalog. Streamlit's own widget chrome
# (the file uploader) is the one known exception.
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,.'’-]+[A-Za-z]{2,}){2,}")
STREAMLIT_CHROME = {"Drag and drop file here", "Browse files", "Limit 200MB per file", "Skip to main content"}


def english_on_screen(page) -> list[str]:
    text = page.locator("[data-testid=stApp]").inner_text()
    found = [m.group(0) for m in ENGLISH_RUN.finditer(text)
             if re.search(r"[a-z]{2,}[ ,'’]+[a-z]{2,}", m.group(0))]     # words, not "EUC-KR CSV" or file names
    return [f for f in found if not any(f in c or c in f for c in STREAMLIT_CHROME) and "@" not in f]


def shot(page, name: str, tmp_path: Path) -> None:
    """The screen as the operator sees it (the 1280×800 viewport), for docs/screenshots — and no English on it."""
    settle(page)
    assert english_on_screen(page) == [], (name, english_on_screen(page))
    out = Path(os.environ.get("VBANK_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)          # let the charts' canvases paint (the script has finished)
    page.screenshot(path=str(out / f"{name}.png"))


def metric(page, label: str):
    return page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)) \
        .locator("[data-testid=stMetricValue]")


def confirm(page, opener: str, button: str) -> None:
    page.get_by_role("button", name=opener).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).dblclick()          # twice: the app must send once
    settle(page)


def test_pending_list_and_payment_story_in_korean(ko, ko_app, e2e_sandbox, tmp_path):
    open_app(ko, ko_app, "/", refresh=False)
    ko.get_by_role("button", name="새로고침").click()
    settle(ko)
    expect(ko.get_by_role("heading", name="입금대기 가상계좌")).to_be_visible()
    expect(ko.get_by_role("link", name="입금대기 계좌")).to_be_visible()                 # the navigation
    expect(ko.get_by_text("한국어")).to_be_visible()                                      # the language switch
    count = len(e2e_sandbox.pending_vbanks())
    expect(metric(ko, "입금대기 계좌")).to_have_text(f"{count:,}")
    expect(metric(ko, "입금 가능 금액")).to_have_text(re.compile(r"^₩[\d,]+(억( [\d,]+만)?|만)?$"))
    expect(ko.get_by_text("필터", exact=True)).to_be_in_viewport()                     # no scrolling needed
    shot(ko, "pending", tmp_path)
    grid = ko.locator("[data-testid=stDataFrame]").first            # tick the first row (a canvas: by position)
    box = grid.bounding_box()
    ko.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    settle(ko)
    expect(ko.get_by_text("선택됨(1건)")).to_be_visible()
    with ko.expect_download() as dl:
        ko.get_by_role("button", name="CSV 내려받기").click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    hours = "남은 시간(시간, 음수는 기한 경과)"                       # a number of hours (issue 31), not "2일 3시간 남음"
    assert {"포트원 결제번호", "구매자", "금액(원)", "입금기한(KST)", hours} <= set(rows[0])          # Korean headers
    assert all(re.fullmatch(r"-?\d+\.\d", r[hours]) for r in rows)
    with ko.expect_download() as dl:
        ko.get_by_role("button", name="엑셀 내려받기").click()
    from python_calamine import CalamineWorkbook
    sheet = CalamineWorkbook.from_path(dl.value.path()).get_sheet_by_index(0).to_python()
    header = dict(zip(sheet[0], sheet[1]))
    assert isinstance(header["금액(원)"], float) and str(header["포트원 결제번호"]).startswith("imp_")   # amounts as numbers
    ko.get_by_text("전체 계좌번호와 전화번호 보기").click()                # an audited action
    settle(ko)

    ko.get_by_role("link", name="결제 상세 열기").click()
    settle(ko)
    expect(metric(ko, "상태")).to_have_text("입금대기")
    expect(ko.get_by_text("진행 내역(KST)")).to_be_visible()
    shot(ko, "payment", tmp_path)
    open_app(ko, ko_app, "/audit")
    with ko.expect_download() as dl:
        ko.get_by_role("button", name="CSV 내려받기").click()
    assert "전체 계좌번호와 전화번호를 표시함(입금대기 목록)" in open(dl.value.path(), encoding="utf-8-sig").read()


def test_change_a_pending_account_in_korean(ko, ko_app, e2e_sandbox, tmp_path):
    p = e2e_sandbox.pick(status="ready", pg="settle", where=lambda x: x["vbank_date"] > time.time() + 3600)
    open_app(ko, ko_app, f"/update?imp_uid={p['imp_uid']}")
    expect(ko.get_by_role("heading", name="입금대기 가상계좌 변경")).to_be_visible()
    ko.get_by_label("새 금액(₩)").fill(f"{p['amount'] + 3000:,}")
    ko.get_by_role("button", name="변경 내용 검토").click()
    settle(ko)
    expect(ko.get_by_text("검토: 변경 전 → 변경 후")).to_be_visible()
    expect(ko.get_by_text(f"+{krw(3000)}")).to_be_visible()
    shot(ko, "update-review", tmp_path)
    e2e_sandbox.clear_requests()
    confirm(ko, "이 변경 보내기…", "확인하고 보내기")
    expect(ko.get_by_text("가상계좌를 변경했습니다.")).to_be_visible()
    assert len(e2e_sandbox.requests_seen("/vbanks/", "PUT")) == 1
    assert e2e_sandbox.api("GET", f"/payments/{p['imp_uid']}").json()["response"]["amount"] == p["amount"] + 3000


def test_refund_wizard_in_korean_sends_the_korean_reason(ko, ko_app, e2e_sandbox, tmp_path):
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] >= 20000)
    open_app(ko, ko_app, f"/refund?imp_uid={p['imp_uid']}")
    expect(ko.get_by_text("6단계 중 1단계 — 결제")).to_be_visible()
    ko.get_by_role("button", name="다음").click()
    settle(ko)
    expect(ko.get_by_text("6단계 중 2단계 — 금액과 사유")).to_be_visible()
    ko.get_by_text("부분 환불").click()
    ko.get_by_role("textbox", name="환불 금액(₩)").fill("7,000")
    ko.get_by_label("메모(선택, 사유와 함께 전송)").fill("배송 지연")
    ko.get_by_role("button", name="다음").first.click()
    settle(ko)
    fill_refund_account(ko, lang="ko")
    expect(ko.get_by_text("이번 환불 비용은 ₩7,330입니다")).to_be_visible()
    shot(ko, "refund-fees", tmp_path)
    ko.get_by_role("button", name="다음").click()
    settle(ko)
    expect(ko.get_by_text("6단계 중 5단계 — 확인")).to_be_visible()
    expect(ko.get_by_text("고객 요청 — 배송 지연")).to_be_visible()
    expect(ko.get_by_text("110******456")).to_be_visible()
    e2e_sandbox.clear_requests()
    confirm(ko, "환불 보내기…", "지금 환불")
    expect(ko.get_by_text("환불이 접수되었습니다 — PG가 다음 영업일에 고객에게 송금합니다.")).to_be_visible()
    shot(ko, "refund-result", tmp_path)
    sent = e2e_sandbox.requests_seen("/payments/cancel")
    assert len(sent) == 1
    got = [(r["refund_bank"], r["amount"], r["reason"]) for r in e2e_sandbox.refunds(p["imp_uid"])]
    # the reason the PG registers: the Korean text, then this write's tag (the proof of *our* refund on a re-read)
    assert [(b, a, WRITE_TAG_RX.sub("", why)) for b, a, why in got] == [("BK88", 7000, "고객 요청 — 배송 지연")]
    assert WRITE_TAG_RX.search(got[0][2])
    expect(ko.get_by_text("[vd:")).to_have_count(0)                       # never shown to the team


def test_bulk_extension_in_korean(ko, ko_app, e2e_sandbox, tmp_path):
    targets = [p for p in e2e_sandbox.pending_vbanks() if p["pg_provider"] in ("settle", "kcp")
               and p["vbank_date"] > time.time() + 3600][:3]
    open_app(ko, ko_app, "/bulk")
    ko.get_by_label("imp_uid(한 줄에 하나씩)").fill("\n".join(p["imp_uid"] for p in targets))
    ko.keyboard.press("Control+Enter")
    settle(ko)
    expect(ko.get_by_text("미리보기")).to_be_visible()
    e2e_sandbox.clear_requests()
    confirm(ko, "3개 계좌 연장…", "확인하고 보내기")
    expect(ko.get_by_text("3개 중 3개 계좌를 연장했습니다.")).to_be_visible()
    shot(ko, "bulk-result", tmp_path)
    assert len(e2e_sandbox.requests_seen("/vbanks/", "PUT")) == 3


def test_approval_request_withdrawn_and_the_audit_in_korean(ko, ko_app, e2e_sandbox, tmp_path):
    p = e2e_sandbox.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 100000)
    open_app(ko, ko_app, f"/refund?imp_uid={p['imp_uid']}")
    expect(ko.get_by_text("6단계 중 1단계 — 결제")).to_be_visible()
    ko.get_by_role("button", name="다음").click()
    settle(ko)
    expect(ko.get_by_text("6단계 중 2단계 — 금액과 사유")).to_be_visible()
    next_step(ko, ko.get_by_role("button", name="다음").first, "6단계 중 3단계 — 환불 계좌")   # full refund
    expect(ko.get_by_text("이 환불은 다른 사람의 승인이 필요합니다")).to_be_visible()      # known at step 3
    fill_refund_account(ko, lang="ko")
    ko.get_by_role("button", name="다음").click()
    settle(ko)
    expect(ko.get_by_text("6단계 중 5단계 — 확인")).to_be_visible()
    ko.get_by_label("사유(승인자에게)").fill("고객이 전액 환불 요청")
    e2e_sandbox.clear_requests()
    ko.get_by_role("button", name="승인 요청").click()
    settle(ko)
    expect(ko.get_by_text("요청을 보냈습니다 — 승인자를 기다리고 있습니다. 아직 환불되지 않았습니다.")).to_be_visible()
    assert e2e_sandbox.requests_seen("/payments/cancel") == []

    open_app(ko, ko_app, "/approvals")
    expect(ko.get_by_text("내가 보낸 요청입니다: 다른 승인자가 결정해야 합니다.")).to_be_visible()
    expect(ko.get_by_text(f"{krw(p['amount'])} 환불").first).to_be_visible()
    shot(ko, "approvals", tmp_path)
    ko.get_by_role("button", name="이 요청 철회").click()
    settle(ko)
    expect(ko.get_by_text("결정이 기록되었습니다: 철회됨")).to_be_visible()

    open_app(ko, ko_app, f"/audit?imp_uid={p['imp_uid']}")
    expect(ko.get_by_role("heading", name="감사 로그")).to_be_visible()
    expect(ko.get_by_text("기록 2건")).to_be_visible()                 # requested, withdrawn
    with ko.expect_download() as dl:
        ko.get_by_role("button", name="CSV 내려받기").click()
    text = open(dl.value.path(), encoding="utf-8-sig").read()
    assert "승인 요청됨" in text and "승인 철회됨" in text                # the sentences, in Korean
    shot(ko, "audit", tmp_path)


def test_the_language_switch_holds_across_pages(ko, ko_app):
    open_app(ko, ko_app, "/", refresh=False)
    expect(ko.get_by_role("heading", name="입금대기 가상계좌")).to_be_visible()
    ko.get_by_role("radio", name="English").click()
    settle(ko)
    expect(ko.get_by_role("heading", name="Pending virtual accounts")).to_be_visible()
    with ko.expect_download() as dl:        # made later, on a server thread: still in the person's language
        ko.get_by_role("button", name="Download CSV").click()
    header = open(dl.value.path(), encoding="utf-8-sig").readline()
    assert "Buyer" in header and "Time left" in header and "구매자" not in header
    ko.get_by_role("link", name="Refund").click()                  # a page that stops early (no payment chosen)
    settle(ko)
    expect(ko.get_by_role("heading", name="Refund a virtual-account payment")).to_be_visible()
    ko.get_by_role("link", name="Pending accounts").click()
    settle(ko)
    expect(ko.get_by_role("heading", name="Pending virtual accounts")).to_be_visible()
    expect(ko).to_have_url(re.compile(r"[?&]lang=en"))                 # kept in the URL: a reload keeps it
    ko.reload()
    settle(ko)
    expect(ko.get_by_role("heading", name="Pending virtual accounts")).to_be_visible()
    ko.get_by_role("radio", name="한국어").click()
    settle(ko)
    expect(ko.get_by_role("heading", name="입금대기 가상계좌")).to_be_visible()


def test_reconciliation_in_korean(ko, ko_app, e2e_sandbox, tmp_path):
    from datetime import timedelta

    today = session_today()
    q = {"from": str(today - timedelta(days=10)), "to": str(today)}
    f = tmp_path / "정산내역.csv"
    f.write_bytes(e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params=q).content)
    open_app(ko, ko_app, "/reconcile")
    expect(ko.get_by_role("heading", name="정산 대사")).to_be_visible()
    drop(ko, 0, f)
    expect(ko.get_by_text("파일의 날짜를 사용합니다")).to_be_visible()
    expect(metric(ko, "불일치")).to_have_text("4")
    with ko.expect_download() as dl:
        ko.get_by_role("button", name="예외 항목 내려받기(CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    assert {"상태", "주문번호", "불일치 사유"} <= set(rows[0])                 # the headers shown on screen
    ko.get_by_text("대사", exact=True).first.scroll_into_view_if_needed()
    shot(ko, "reconcile", tmp_path)


CUT_METRICS = """() => [...document.querySelectorAll('[data-testid=stMetricValue]')]
  .filter(e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))
  .map(e => e.innerText)"""


def test_every_metric_fits_at_1280x800(ko, ko_app, e2e_sandbox, tmp_path):
    """Issue 19 §5: at 1280×800 in Korean no metric is cut ("₩1,375,…"): the pending list, a filtered view with a
    7-digit total, a payment of ₩1,200,000 and the reconciliation walk; the exact amounts are in a caption."""
    from datetime import timedelta
    open_app(ko, ko_app, "/", refresh=False)
    assert ko.evaluate(CUT_METRICS) == []
    expect(ko.get_by_text(re.compile(r"^정확한 금액: 입금 가능 금액 ₩[0-9,]+"))).to_be_visible()
    open_app(ko, ko_app, "/?min=1000000", refresh=False)                      # a filtered view: 7-digit figures
    settle(ko)
    assert ko.evaluate(CUT_METRICS) == []
    big = e2e_sandbox.pick(status="paid", where=lambda x: x["amount"] >= 1_000_000)
    open_app(ko, ko_app, f"/payment?imp_uid={big['imp_uid']}", refresh=False)
    assert ko.evaluate(CUT_METRICS) == []
    expect(ko.get_by_text(re.compile(r"^정확한 금액: 금액 ₩1,[0-9]{3},[0-9]{3}"))).to_be_visible()
    today = session_today()
    q = {"from": str(today - timedelta(days=10)), "to": str(today)}
    f = tmp_path / "정산내역.csv"
    f.write_bytes(e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params=q).content)
    open_app(ko, ko_app, "/reconcile")
    drop(ko, 0, f)
    expect(ko.get_by_text("파일의 날짜를 사용합니다")).to_be_visible()
    settle(ko)
    assert ko.evaluate(CUT_METRICS) == []
