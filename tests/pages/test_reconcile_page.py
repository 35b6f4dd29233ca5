"""The reconciliation page (AppTest): the sandbox's settlement file and bank statement, with their manifests."""

from datetime import datetime, timedelta

import pytest

from devtools.processes import session_today
from lib.domain.clock import KST
from lib.domain.text import plain
from tests.pages.conftest import metric


def frame(at, *columns: str):
    """The table with these columns (st.dataframe without selection has no key in AppTest)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def sandbox_files(app_env, days=7):
    today = session_today()
    q = {"from": str(today - timedelta(days=days)), "to": str(today)}
    get = app_env.http.get
    return (get(app_env.url + "/sandbox/settlement", params=q).content,
            get(app_env.url + "/sandbox/settlement", params={**q, "planted": 1}).json()["planted"],
            get(app_env.url + "/sandbox/statement", params=q).content,
            get(app_env.url + "/sandbox/statement", params={**q, "planted": 1}).json()["planted"])


def test_reconcile_page_with_the_sandbox_file(app, app_env):
    data, planted, _, _ = sandbox_files(app_env)
    at = app("app_pages/reconcile.py").run()
    assert not at.exception
    assert int(metric(at, "Deposits").replace(",", "")) > 0
    at.get("file_uploader")[0].upload("settlement.csv", data, "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Using the file's own dates" in at.info[0].value
    assert metric(at, "불일치") == "4"
    assert metric(at, "대사불능 (파일에만)") == "2"          # not in I'mport, and the duplicate row
    assert metric(at, "대사불능 (아임포트에만)") == "1"
    mism = frame(at, "reasons", "file_amount")
    kinds = {p["kind"]: p["merchant_uid"] for p in planted}
    assert dict(zip(mism["merchant_uid"], mism["reasons"])) == {
        kinds["amount_mismatch"]: "금액 불일치", kinds["fee_mismatch"]: "수수료 불일치",
        kinds["date_shift"]: "결제일자 불일치", kinds["fee_vat_mismatch"]: "수수료부가세 불일치"}
    assert mism["imp_uid"].str.startswith("/payment?imp_uid=imp_").all()        # links to the payment page
    assert frame(at, "amount_diff", "fee_diff", "rows")["rows"].sum() == 4
    # save the mapping as a preset and pick it again: the same result, from the cache
    at.text_input(key="rc_preset_name").input("PG daily report")
    at.button(key="rc_save").click().run()
    assert any("Saved the reading as “PG daily report”." in plain(x.value) for x in at.success)
    at.selectbox(key="rc_preset").set_value("PG daily report").run()
    assert metric(at, "불일치") == "4"


def test_payouts_against_the_bank_statement(app, app_env):
    data, _, statement, planted = sandbox_files(app_env, days=10)
    at = app("app_pages/reconcile.py").run()
    at.get("file_uploader")[0].upload("settlement.csv", data, "text/csv").run()
    at.checkbox(key="rc_own_range").check().run()
    at.date_input(key="rc_from").set_value(datetime.now(KST).date() - timedelta(days=10)).run()
    at.get("file_uploader")[1].upload("statement.csv", statement, "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert metric(at, "부족 입금") == "1" and metric(at, "미입금") == "1" and metric(at, "예상 외 입금") == "1"
    check = frame(at, "received", "sender")
    short = check[check["status"] == "부족 입금"].iloc[0]
    by = {p["kind"]: p for p in planted}
    assert (str(short["date"]), short["sender"], short["difference"]) == (by["short"]["date"], by["short"]["pg"], -1000)


def test_unreadable_file_is_a_sentence(app, app_env):
    at = app("app_pages/reconcile.py").run()
    at.get("file_uploader")[0].upload("broken.csv", "거래일자,금액,주문번호\n2026.11.20,열두개,ord_1\n".encode("cp949"),
                                      "text/csv").run()
    assert not at.exception
    assert "Row 2, column “금액”: “열두개” is not an amount." in plain(at.error[0].value)


def test_a_result_table_shows_its_first_rows_and_says_the_totals_are_for_all(app, app_env, monkeypatch):
    """A month end of a million matched rows is not drawn row by row on every rerun: each table shows the first
    VBANK_TABLE_ROWS rows and says so; the metrics still count every row."""
    from lib.domain.settings import get_settings
    monkeypatch.setenv("VBANK_TABLE_ROWS", "10")
    get_settings.cache_clear()
    data, _planted, _, _ = sandbox_files(app_env)
    at = app("app_pages/reconcile.py").run()
    at.get("file_uploader")[0].upload("settlement.csv", data, "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    matched = int(metric(at, "일치").replace(",", ""))
    assert matched > 10
    shown = next(d.value for d in at.dataframe if "matched_by" in d.value.columns and "reasons" not in d.value.columns)
    assert len(shown) == 10
    assert any(f"{matched:,}" in c.value and "first 10" in c.value for c in at.caption)
    assert len(frame(at, "reasons", "file_amount")) == 4                 # a short table is shown whole


def test_the_wrong_shops_file_stops_with_one_sentence_and_no_numbers(app, app_env):
    """A file whose rows are all unknown here (another shop's, another month's) is not shown as thousands of
    대사불능 rows under plausible totals: the page stops with one sentence naming the likely cause and the fix."""
    data, _planted, _, _ = sandbox_files(app_env)
    text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp949", "replace")
    foreign = text.replace("ord_", "xrd_").replace("imp_", "xmp_")
    at = app("app_pages/reconcile.py").run()
    at.get("file_uploader")[0].upload("settlement.csv", foreign.encode("utf-8"), "text/csv").run()
    assert not at.exception
    assert len(at.error) == 1 and "Only 0 of the file's" in plain(at.error[0].value)
    assert not [m for m in at.metric if m.label in ("불일치", "대사불능 (파일에만)", "일치")]     # no numbers from it
    assert not at.get("selectbox") or "rc_res_pick" not in [b.key for b in at.selectbox]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_month_end_page_shows_no_nan_none_or_nat(app, app_env, monkeypatch, lang):
    """Issue 31 point 6 on the reconciliation page: both files read, every group, the payouts and the lists to close."""
    from tests.pages.test_nothing_broken_on_screen import BROKEN, shown_texts
    monkeypatch.setenv("VBANK_LANG", lang)
    data, _planted, statement, _ = sandbox_files(app_env, days=10)
    at = app("app_pages/reconcile.py").run()
    at.get("file_uploader")[0].upload("settlement.csv", data, "text/csv").run()
    at.get("file_uploader")[1].upload("statement.csv", statement, "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    texts = shown_texts(at) + [str(o) for m in at.multiselect for o in m.options] \
        + [str(o) for r in at.radio for o in r.options]
    bad = [t for t in texts if BROKEN.search(t)]
    assert not bad, bad[:5]


def test_a_workbook_with_two_sheets_of_transactions_offers_the_other_one(app, app_env):
    """The sheet with the most transactions is read first; when another one qualifies too, a picker offers it."""
    from tests.fixtures import corpus2 as c2
    from tests.fixtures import realfiles as rf
    made = c2.PG_FILES2["portone_console_book"](rf.payments())       # a per-day summary first, then the rows
    at = app("app_pages/reconcile.py").run()
    at.get("file_uploader")[0].upload(made.name, made.data, "application/octet-stream").run()
    assert not at.exception
    pick = next(s for s in at.selectbox if s.label in ("Sheet", "시트"))
    assert pick.value == "거래건별조회" and set(pick.options) == {"거래건별조회", "거래정산내역"}
    assert any("거래건별조회" in c.value for c in at.caption)
    assert any("“거래정산내역”" in w.value for w in at.warning)          # the other sheet is said, never quietly left
    pick.set_value("거래정산내역").run()
    assert not at.exception
    assert any("거래정산내역" in c.value for c in at.caption)
    assert at.error                                  # the summary has no order numbers: it stops, with a sentence
