from datetime import datetime, timedelta

from lib.models import KST
from lib.text import plain
from tests.pages.conftest import metric


def test_reconcile_page_with_the_sandbox_file(app, app_env):
    today = datetime.now(KST).date()
    d_from = today - timedelta(days=7)
    data = app_env.http.get(app_env.url + "/sandbox/settlement", params={"from": str(d_from), "to": str(today)}).content
    planted = app_env.http.get(app_env.url + "/sandbox/settlement",
                               params={"from": str(d_from), "to": str(today), "planted": 1}).json()["planted"]
    at = app("pages/reconcile.py").run()
    assert not at.exception
    assert int(metric(at, "Deposits").replace(",", "")) > 0
    at.get("file_uploader")[0].upload("settlement.csv", data, "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert metric(at, "Amount or fee mismatch") == "2"
    assert metric(at, "In the file, not in I'mport") == "1"
    assert metric(at, "In I'mport, not in the file") == "1"
    mism = at.dataframe[-3].value              # tabs: matched, mismatched, file only, I'mport only
    assert set(mism["merchant_uid"]) == {p["merchant_uid"] for p in planted if p["kind"].endswith("_mismatch")}
    # save the mapping as a preset and pick it again
    at.text_input(key="rc_preset_name").input("PG daily report")
    at.button(key="rc_save").click().run()
    assert "Saved preset “PG daily report”." in at.success[0].value
    at.selectbox(key="rc_preset").set_value("PG daily report").run()
    assert metric(at, "Amount or fee mismatch") == "2"


def test_unreadable_file_is_a_sentence(app, app_env):
    at = app("pages/reconcile.py").run()
    at.get("file_uploader")[0].upload("broken.csv", "거래일자,금액,주문번호\n2026.11.20,열두개,ord_1\n".encode("cp949"),
                                      "text/csv").run()
    assert not at.exception
    assert "Row 2, column “금액”: “열두개” is not an amount." in plain(at.error[0].value)
