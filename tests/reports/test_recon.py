"""Reconciliation: reading real-world files, expected settlement, matching."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from devtools.processes import session_today
from lib.domain.clock import KST
from lib.domain.settings import FeeRule, Rules
from lib.reports.recon import expected, grid, match, normalize, payouts, read

D = date(2026, 11, 20)
TS = int(datetime(2026, 11, 20, 15, 0, tzinfo=KST).timestamp())


def pay(i, amount=10000, pg="kcp", paid_at=TS, refunds=()):
    return {"imp_uid": f"imp_{i}", "merchant_uid": f"ord_{i}", "pay_method": "vbank", "pg_provider": pg,
            "pg_tid": f"T{i}", "amount": amount, "paid_at": paid_at,
            "cancel_history": [{"amount": a, "cancelled_at": at, "pg_tid": f"T{i}C{n}"}
                               for n, (a, at) in enumerate(refunds)]}


CSV = ("거래일자,구분,주문번호,거래금액,수수료\r\n"
       "2026.11.20,입금,ord_1,\"10,000\",300\r\n"
       "2026.11.20,입금,ord_2,\"20,000\",300\r\n"
       "2026.11.20,환불,ord_2,\"5,000\",300\r\n"
       "\r\n"
       "합계,,,\"35,000\",900\r\n")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp949"])
def test_reads_korean_csv_in_any_common_encoding(encoding):
    df = read.read_file(CSV.encode(encoding), "settle.csv").df
    cmap = read.guess_map(list(df.columns))
    assert (cmap.date, cmap.type, cmap.amount, cmap.fee, cmap.merchant_uid) == ("거래일자", "구분", "거래금액", "수수료", "주문번호")
    rows = normalize.normalize(df, cmap)
    assert list(rows["kind"]) == ["deposit", "deposit", "refund"]          # blank and total lines dropped
    assert list(rows["amount"]) == [10000, 20000, 5000] and list(rows["date"]) == [D] * 3


def test_reads_excel_with_text_dates(tmp_path):
    df = pd.DataFrame({"Date": ["2026-11-20", "20261120"], "Order": ["ord_1", "ord_2"], "Amount": ["10000", "₩20,000"]})
    f = tmp_path / "bank.xlsx"
    df.to_excel(f, index=False)
    raw = read.read_file(f.read_bytes(), "bank.xlsx").df
    rows = normalize.normalize(raw, normalize.ColumnMap(date="Date", amount="Amount", merchant_uid="Order"))
    assert list(rows["amount"]) == [10000, 20000] and set(rows["date"]) == {D}


@pytest.mark.parametrize("bad,needle", [
    ("2026.11.20,입금,ord_1,\"ten\",300", "Row 2, column “거래금액”: “ten” is not an amount."),
    ("2026/13/45,입금,ord_1,100,300", "Row 2, column “거래일자”: “2026/13/45” is not a date"),
    ("2026.11.20,입금,ord_1,,300", "Row 2, column “거래금액”: the amount is empty."),
])
def test_unreadable_cells_name_row_and_column(bad, needle):
    df = read.read_file(("거래일자,구분,주문번호,거래금액,수수료\n" + bad + "\n").encode("cp949"), "f.csv").df
    with pytest.raises(grid.ReconFileError) as e:
        normalize.normalize(df, read.guess_map(list(df.columns)))
    assert needle in str(e.value)


def test_not_a_table():
    with pytest.raises(grid.ReconFileError):
        read.read_file(b"\xff\xfe\x00garbage", "x.csv").df
    with pytest.raises(grid.ReconFileError):
        read.read_file(b"PK\x03\x04broken", "x.xlsx").df


def test_expected_settlement_with_fees_and_vat():
    rules = Rules(fees={"kcp": FeeRule(issuance_fee=300, remittance_fee=300, vat_on_fees=True)})
    ev = expected.events([pay(1), pay(2, 20000, refunds=[(5000, TS + 60)]), pay(3, pg="settle", paid_at=TS - 86400 * 3)],
                      D, D, rules)
    exp = expected.expected_settlement(ev)
    r = exp.iloc[0]
    # fees without VAT, and their VAT in a column of its own (as 거래대사 shows 수수료 and 수수료부가세)
    assert (r["deposits"], r["gross"], r["issuance_fees"], r["refunds"], r["refunded"], r["remittance_fees"]) == \
        (2, 30000, 600, 1, 5000, 300)
    assert r["vat_on_fees"] == 90 and r["net"] == 30000 - 600 - 5000 - 300 - 90


def test_matching_groups_duplicates_partial_refunds_and_fees():
    rules = Rules()
    ev = expected.events([pay(1), pay(2, 20000, refunds=[(5000, TS + 60), (3000, TS + 120)]), pay(3, 7000)], D, D, rules)
    file_rows = pd.DataFrame([
        {"row": 2, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "", "merchant_uid": "ord_1", "pg_tid": ""},
        {"row": 3, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "", "merchant_uid": "ord_1", "pg_tid": ""},
        {"row": 4, "date": D, "kind": "deposit", "amount": 20000, "fee": 350, "imp_uid": "", "merchant_uid": "ord_2", "pg_tid": ""},
        {"row": 5, "date": D, "kind": "refund", "amount": 3000, "fee": 300, "imp_uid": "", "merchant_uid": "ord_2", "pg_tid": ""},
        {"row": 6, "date": D, "kind": "refund", "amount": 5500, "fee": 300, "imp_uid": "", "merchant_uid": "ord_2", "pg_tid": ""},
        {"row": 7, "date": D, "kind": "deposit", "amount": 1000, "fee": None, "imp_uid": "imp_9", "merchant_uid": "", "pg_tid": ""},
    ])
    m = match.match(file_rows, ev)
    assert sorted(m.matched["row"]) == [2, 5]                       # the 3,000 refund matched by amount
    mm = m.mismatched.set_index("row")
    assert mm.loc[4, "reasons"] == "수수료 불일치" and mm.loc[4, "fee_diff"] == 50
    assert mm.loc[6, "reasons"] == "금액 불일치" and mm.loc[6, "amount_diff"] == 500 and mm.loc[6, "import_amount"] == 5000
    fo = m.file_only.set_index("row")
    assert fo.loc[3, "reasons"] == "파일 중복" and fo.loc[7, "reasons"] == "아임포트에 없음"
    assert list(m.import_only["imp_uid"]) == ["imp_3"]
    s = m.summary().set_index("group")["rows"]
    assert list(s) == [2, 2, 2, 1]


def test_key_preference_imp_uid_then_merchant_uid_then_pg_tid():
    ev = expected.events([pay(1), pay(2)], D, D, Rules())
    rows = pd.DataFrame([
        {"row": 2, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "imp_2", "merchant_uid": "ord_1", "pg_tid": ""},
        {"row": 3, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "", "merchant_uid": "", "pg_tid": "T1"},
    ])
    m = match.match(rows, ev)
    assert list(m.matched["imp_uid"]) == ["imp_2", "imp_1"] and list(m.matched["matched_by"]) == ["imp_uid", "pg_tid"]


def test_presets_round_trip_need_a_role_and_are_audited(tmp_path):
    import pytest as _pytest

    from lib.db.appdb import AppDb
    from lib.domain.identity import Actor, Forbidden
    db = AppDb(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    store, audit = db.presets, db.audit
    kim, lee = Actor("kim", frozenset({"operator"})), Actor("lee", frozenset({"admin"}))
    store.save("KCP daily", normalize.ColumnMap(date="거래일자", amount="거래금액", merchant_uid="주문번호").as_dict(), kim, audit)
    store.save("KCP daily", normalize.ColumnMap(date="일자", amount="금액", merchant_uid="주문번호").as_dict(), lee, audit)
    assert {n: normalize.ColumnMap.of(m) for n, m in store.all().items()} == {
        "KCP daily": normalize.ColumnMap(date="일자", amount="금액", merchant_uid="주문번호")}
    with _pytest.raises(Forbidden):
        store.save("mine", normalize.ColumnMap(date="a", amount="b").as_dict(), Actor("v", frozenset({"viewer"})), audit)
    with _pytest.raises(ValueError):
        store.save("x" * 61, normalize.ColumnMap(date="a", amount="b").as_dict(), kim, audit)
    assert list(audit.records(action="recon_preset")["operator"]) == ["lee", "kim"]
    assert "mine" not in store.all()


def test_sandbox_settlement_file_matches_exactly_the_planted_discrepancies(fresh, client):
    """Every planted kind ends in its 거래대사 status and reason, and nothing else differs; the refunds of
    payments started more than 90 days ago are found by looking the file's ids up."""
    from datetime import timedelta

    from lib.services.desk import payments_for_file
    today = session_today()
    d_from = today - timedelta(days=10)
    data = fresh.http.get(fresh.url + "/sandbox/settlement", params={"from": str(d_from), "to": str(today)}).content
    planted = fresh.http.get(fresh.url + "/sandbox/settlement",
                             params={"from": str(d_from), "to": str(today), "planted": 1}).json()["planted"]
    data.decode("cp949")                                         # a CP949 file, like most PG reports
    raw = read.read_file(data, "settlement.csv").df
    cmap = read.guess_map(list(raw.columns))
    assert cmap.fee_vat == "수수료부가세"
    rows = normalize.normalize(raw, cmap)
    assert normalize.file_range(rows) == (min(rows["date"]), max(rows["date"]))
    a, b = expected.kst_range(expected.lookback_start(d_from), today)
    payments = client.list_columns("all", a, min(b, int(datetime.now().timestamp())), fields=expected.FIELDS)
    extra, left = payments_for_file(client, rows, payments)
    kinds: dict[str, list] = {}
    for p in planted:
        kinds.setdefault(p["kind"], []).append(p["merchant_uid"])
    assert left == 0 and sorted(extra["merchant_uid"].to_pylist()) == sorted(kinds["refund_of_old_payment"])
    m = match.match(rows, expected.events(expected.with_extra(payments, extra), d_from, today, Rules()))
    reasons = dict(zip(m.mismatched["merchant_uid"], m.mismatched["reasons"]))
    assert reasons == {kinds["amount_mismatch"][0]: "금액 불일치", kinds["fee_mismatch"][0]: "수수료 불일치",
                       kinds["date_shift"][0]: "결제일자 불일치", kinds["fee_vat_mismatch"][0]: "수수료부가세 불일치"}
    assert dict(zip(m.file_only["merchant_uid"], m.file_only["reasons"])) == {
        kinds["missing_in_import"][0]: "아임포트에 없음", kinds["duplicate"][0]: "파일 중복"}
    assert list(m.import_only["merchant_uid"]) == kinds["missing_in_file"]
    assert set(kinds["refund_of_old_payment"]) <= set(m.matched["merchant_uid"])
    assert len(m.matched) == len(rows) - 6
    dash = m.mismatch_dashboard()
    assert dash["rows"].sum() == 4 and dash["amount_diff"].sum() == -1000 and dash["fee_diff"].sum() == 100


def test_payouts_by_settlement_day_match_the_planted_bank_statement(fresh, client):
    from datetime import timedelta
    today = session_today()
    d_from = today - timedelta(days=10)
    stmt = fresh.http.get(fresh.url + "/sandbox/statement", params={"from": str(d_from), "to": str(today)}).content
    planted = fresh.http.get(fresh.url + "/sandbox/statement",
                             params={"from": str(d_from), "to": str(today), "planted": 1}).json()["planted"]
    raw = read.read_file(stmt, "statement.csv").df
    bmap = read.guess_bank_map(list(raw.columns))
    assert {k: bmap[k] for k in ("date", "memo", "deposit", "withdrawal", "sender")} == \
        {"date": "거래일시", "memo": "적요", "deposit": "입금액", "withdrawal": "출금액", "sender": None}
    st = normalize.normalize_statement(raw, bmap)
    a, b = expected.kst_range(expected.lookback_start(d_from), today)
    payments = client.list_columns("all", a, min(b, int(datetime.now().timestamp())), fields=expected.FIELDS)
    ev = expected.events(expected.with_extra(payments, _old_payments(fresh, client)), d_from, today, Rules())
    exp = payouts.expected_payouts(expected.expected_settlement(ev), Rules())
    res = payouts.match_payouts(exp, st, Rules())
    by = {p["kind"]: p for p in planted}
    odd = res[~res["status"].isin([payouts.PAYOUT_MATCHED, payouts.PAYOUT_OFFSET])]
    assert len(odd) == 3, odd
    short = odd[odd["status"] == payouts.PAYOUT_SHORT].iloc[0]
    assert (str(short["date"]), short["sender"], short["difference"]) == (by["short"]["date"], by["short"]["pg"],
                                                                          -1000)
    missing = odd[odd["status"] == payouts.PAYOUT_MISSING].iloc[0]
    assert (str(missing["date"]), missing["sender"], missing["expected"]) == (
        by["missing"]["date"], by["missing"]["pg"], by["missing"]["expected"])
    unexpected = odd[odd["status"] == payouts.PAYOUT_UNEXPECTED].iloc[0]
    assert (unexpected["memo"], unexpected["received"]) == ("홍길동", 50_000)


def _old_payments(fresh, client):
    """The seeded payments started more than 90 days ago (their refunds are in this week's payouts)."""
    return [client.get_payment(x).model_dump(mode="json") for x in
            [f"imp_old{(fresh.seed * 131 + j) % 10**8:08d}" for j in range(3)]]


def test_business_days_skip_weekends_and_korean_holidays():
    from datetime import date as d
    assert payouts.business_days_after(d(2026, 9, 23), 2) == d(2026, 9, 29)      # 추석 24–26 Sep, then a weekend
    assert payouts.business_days_after(d(2026, 12, 24), 1) == d(2026, 12, 28)    # 성탄절, then a weekend
    assert payouts.business_days_after(d(2026, 11, 20), 2) == d(2026, 11, 24)    # Friday → Tuesday


def test_every_reason_of_a_row_is_listed():
    ev = expected.events([pay(1)], D, D, Rules())
    rows = pd.DataFrame([{"row": 2, "date": date(2026, 11, 21), "kind": "deposit", "amount": 9000, "fee": 350,
                          "fee_vat": 0, "vat": 100, "tax_free": 0, "imp_uid": "imp_1", "merchant_uid": "",
                          "pg_tid": ""}])
    m = match.match(rows, ev)
    assert m.mismatched.iloc[0]["reasons"] == "금액 불일치; 수수료 불일치; 수수료부가세 불일치; 부가세 불일치; 결제일자 불일치"
    assert m.mismatched.iloc[0]["status"] == match.MISMATCHED and m.summary()["rows"].tolist() == [0, 1, 0, 0]


def test_settlement_cli_writes_file_and_manifest(tmp_path):
    import json
    import subprocess
    import sys

    from sandbox.seed import SeedPlan, generate
    from sandbox.store import Store
    from tests.helpers import ROOT
    db = tmp_path / "sb.sqlite3"
    plan = SeedPlan(seed=3, payments=800)
    Store(str(db)).reset(generate(plan), plan)
    today = session_today()
    out = tmp_path / "s.csv"
    r = subprocess.run([sys.executable, "-m", "sandbox", "settlement", "--from", str(today - pd.Timedelta(days=14).to_pytimedelta()),
                        "--to", str(today), "--db", str(db), "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    planted = json.loads((tmp_path / "s.csv.planted.json").read_text())
    assert [p["kind"] for p in planted if p["kind"] != "refund_of_old_payment"] == [
        "amount_mismatch", "fee_mismatch", "missing_in_file", "date_shift", "fee_vat_mismatch", "duplicate",
        "missing_in_import"]
    assert (tmp_path / "s-bank-statement.csv").read_bytes().decode("cp949").startswith("거래일시,적요,입금액")
    text = out.read_bytes().decode("cp949")
    assert text.startswith("거래일자,구분,주문번호") and "\r\n합계," in text


# ------------------------------------------------------------------ the fast readings agree with the careful ones
@pytest.mark.parametrize("cells,want", [
    (["12,000", "-4,950", "+50", "0012", "300"], [12000, -4950, 50, 12, 300]),
    (["12,000", "₩1,200", "(1,200)", "1200원", "−1,000"], [12000, 1200, -1200, 1200, -1000]),   # careful reading
])
def test_plain_amounts_take_one_cast_and_read_as_the_careful_reading_does(cells, want):
    col = pd.Series(cells, index=range(5, 10), dtype="str")
    got = normalize.parse_amounts(col, "거래금액", required=True)
    assert got.tolist() == want and list(got.index) == list(range(5, 10)) and str(got.dtype) == "Int64"
    alone = normalize.parse_amounts(col.iloc[:1], "거래금액", required=True)       # one plain cell: the fast path
    assert alone.tolist() == want[:1]


def test_the_fast_amount_path_keeps_the_careful_refusals():
    with pytest.raises(grid.ReconFileError, match="too large"):
        normalize.parse_amounts(pd.Series(["1234567890123456"], dtype="str"), "거래금액", required=True)
    with pytest.raises(grid.ReconFileError, match="empty"):
        normalize.parse_amounts(pd.Series(["100", ""], dtype="str"), "거래금액", required=True)
    assert normalize.parse_amounts(pd.Series(["100", ""], dtype="str"), "수수료", required=False).isna().tolist() == \
        [False, True]


@pytest.mark.parametrize("cells", [["2026.1.5", "2026.11.20"], ["2026-01-05", "2026-11-20"], ["20260105", "20261120"],
                                   ["2026.01.05 13:00", "2026/11/20"]])
def test_dates_written_one_plain_way_take_one_pass_and_agree(cells):
    got = normalize.parse_dates(pd.Series(cells, index=[3, 4], dtype="str"), "거래일자")
    assert got.tolist() == [date(2026, 1, 5), date(2026, 11, 20)] and list(got.index) == [3, 4]


def test_a_bad_date_among_plain_ones_is_still_named():
    with pytest.raises(grid.ReconFileError, match="Row 4"):
        normalize.parse_dates(pd.Series(["2026.11.20", "2026.13.01"], index=[3, 4], dtype="str"), "거래일자")
