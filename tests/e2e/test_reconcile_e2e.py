"""Upload the sandbox's settlement file in a real browser and see exactly the planted discrepancies."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from lib.models import KST
from tests.e2e.helpers import open_app, settle

pytestmark = pytest.mark.browser


def metric(page, label):
    return page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)) \
        .locator("[data-testid=stMetricValue]")


def test_upload_settlement_file_shows_the_planted_discrepancies(page, e2e_app, e2e_sandbox, tmp_path):
    today = datetime.now(KST).date()
    d_from = today - timedelta(days=7)
    q = {"from": str(d_from), "to": str(today)}
    f = tmp_path / "settlement.csv"
    f.write_bytes(e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params=q).content)
    planted = e2e_sandbox.http.get(e2e_sandbox.url + "/sandbox/settlement", params={**q, "planted": 1}).json()["planted"]

    open_app(page, e2e_app, "/reconcile")
    expect(page.get_by_text("Expected settlement")).to_be_visible()
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(f))
    settle(page)
    expect(metric(page, "Amount or fee mismatch")).to_have_text("2")
    expect(metric(page, "In the file, not in I'mport")).to_have_text("1")
    expect(metric(page, "In I'mport, not in the file")).to_have_text("1")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the exceptions (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    got = {(r["group"], r["merchant_uid"]) for r in rows}
    want = {("mismatch", p["merchant_uid"]) for p in planted if p["kind"] in ("amount_mismatch", "fee_mismatch")}
    want |= {("file_only", p["merchant_uid"]) for p in planted if p["kind"] == "missing_in_import"}
    want |= {("import_only", p["merchant_uid"]) for p in planted if p["kind"] == "missing_in_file"}
    assert got == want
