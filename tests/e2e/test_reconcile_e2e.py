"""Upload the sandbox's settlement file in a real browser and see exactly the planted discrepancies."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from lib.domain.clock import KST
from tests.e2e.helpers import drop, open_app

pytestmark = pytest.mark.browser


def metric(page, label):
    return page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)) \
        .locator("[data-testid=stMetricValue]")


def test_upload_settlement_file_and_bank_statement_show_every_planted_discrepancy(page, e2e_app, e2e_sandbox,
                                                                                   tmp_path):
    today = datetime.now(KST).date()
    d_from = today - timedelta(days=10)
    q = {"from": str(d_from), "to": str(today)}
    f = tmp_path / "settlement.csv"
    f.write_bytes(e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params=q).content)
    planted = e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params={**q, "planted": 1}).json()["planted"]
    b = tmp_path / "statement.csv"
    b.write_bytes(e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/statement", params=q).content)

    open_app(page, e2e_app, "/reconcile")
    expect(page.get_by_text("Expected settlement")).to_be_visible()
    drop(page, 0, f)
    expect(page.get_by_text("Using the file's own dates")).to_be_visible()
    expect(metric(page, "불일치")).to_have_text("4")
    expect(metric(page, "대사불능 (파일에만)")).to_have_text("2")
    expect(metric(page, "대사불능 (아임포트에만)")).to_have_text("1")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the exceptions (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    got = {(r["Status"], r["Order number"], r["Reasons"]) for r in rows}        # the headers shown on screen
    kinds = {p["kind"]: p["merchant_uid"] for p in planted}
    want = {("불일치", kinds["amount_mismatch"], "금액 불일치"), ("불일치", kinds["fee_mismatch"], "수수료 불일치"),
            ("불일치", kinds["date_shift"], "결제일자 불일치"),
            ("불일치", kinds["fee_vat_mismatch"], "수수료부가세 불일치"),
            ("대사불능 (파일에만)", kinds["missing_in_import"], "아임포트에 없음"),
            ("대사불능 (파일에만)", kinds["duplicate"], "파일 중복"),
            ("대사불능 (아임포트에만)", kinds["missing_in_file"], "")}
    assert got == want
    # payouts of the file's days against the bank statement of the same days
    drop(page, 1, b)
    expect(metric(page, "부족 입금")).to_have_text("1")
    expect(metric(page, "미입금")).to_have_text("1")
    expect(metric(page, "예상 외 입금")).to_have_text("1")
