"""Reconciliation: reading real-world files, expected settlement, matching."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from lib import recon
from lib.models import KST
from lib.settings import FeeRule, Rules

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
    df = recon.read_table(CSV.encode(encoding), "settle.csv")
    cmap = recon.guess_map(list(df.columns))
    assert (cmap.date, cmap.type, cmap.amount, cmap.fee, cmap.merchant_uid) == ("거래일자", "구분", "거래금액", "수수료", "주문번호")
    rows = recon.normalize(df, cmap)
    assert list(rows["kind"]) == ["deposit", "deposit", "refund"]          # blank and total lines dropped
    assert list(rows["amount"]) == [10000, 20000, 5000] and list(rows["date"]) == [D] * 3


def test_reads_excel_with_text_dates(tmp_path):
    df = pd.DataFrame({"Date": ["2026-11-20", "20261120"], "Order": ["ord_1", "ord_2"], "Amount": ["10000", "₩20,000"]})
    f = tmp_path / "bank.xlsx"
    df.to_excel(f, index=False)
    raw = recon.read_table(f.read_bytes(), "bank.xlsx")
    rows = recon.normalize(raw, recon.ColumnMap(date="Date", amount="Amount", merchant_uid="Order"))
    assert list(rows["amount"]) == [10000, 20000] and set(rows["date"]) == {D}


@pytest.mark.parametrize("bad,needle", [
    ("2026.11.20,입금,ord_1,\"ten\",300", "Row 2, column “거래금액”: “ten” is not an amount."),
    ("2026/13/45,입금,ord_1,100,300", "Row 2, column “거래일자”: “2026/13/45” is not a date"),
    ("2026.11.20,입금,ord_1,,300", "Row 2, column “거래금액”: the amount is empty."),
])
def test_unreadable_cells_name_row_and_column(bad, needle):
    df = recon.read_table(("거래일자,구분,주문번호,거래금액,수수료\n" + bad + "\n").encode("cp949"), "f.csv")
    with pytest.raises(recon.ReconFileError) as e:
        recon.normalize(df, recon.guess_map(list(df.columns)))
    assert needle in str(e.value)


def test_not_a_table():
    with pytest.raises(recon.ReconFileError):
        recon.read_table(b"\xff\xfe\x00garbage", "x.csv")
    with pytest.raises(recon.ReconFileError):
        recon.read_table(b"PK\x03\x04broken", "x.xlsx")


def test_expected_settlement_with_fees_and_vat():
    rules = Rules(fees={"kcp": FeeRule(issuance_fee=300, remittance_fee=300, vat_on_fees=True)})
    ev = recon.events([pay(1), pay(2, 20000, refunds=[(5000, TS + 60)]), pay(3, pg="settle", paid_at=TS - 86400 * 3)],
                      D, D, rules)
    exp = recon.expected_settlement(ev)
    r = exp.iloc[0]
    assert (r["deposits"], r["gross"], r["issuance_fees"], r["refunds"], r["refunded"], r["remittance_fees"]) == \
        (2, 30000, 660, 1, 5000, 330)
    assert r["vat_on_fees"] == 90 and r["net"] == 30000 - 660 - 5000 - 330


def test_matching_groups_duplicates_partial_refunds_and_fees():
    rules = Rules()
    ev = recon.events([pay(1), pay(2, 20000, refunds=[(5000, TS + 60), (3000, TS + 120)]), pay(3, 7000)], D, D, rules)
    file_rows = pd.DataFrame([
        {"row": 2, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "", "merchant_uid": "ord_1", "pg_tid": ""},
        {"row": 3, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "", "merchant_uid": "ord_1", "pg_tid": ""},
        {"row": 4, "date": D, "kind": "deposit", "amount": 20000, "fee": 350, "imp_uid": "", "merchant_uid": "ord_2", "pg_tid": ""},
        {"row": 5, "date": D, "kind": "refund", "amount": 3000, "fee": 300, "imp_uid": "", "merchant_uid": "ord_2", "pg_tid": ""},
        {"row": 6, "date": D, "kind": "refund", "amount": 5500, "fee": 300, "imp_uid": "", "merchant_uid": "ord_2", "pg_tid": ""},
        {"row": 7, "date": D, "kind": "deposit", "amount": 1000, "fee": None, "imp_uid": "imp_9", "merchant_uid": "", "pg_tid": ""},
    ])
    m = recon.match(file_rows, ev)
    assert sorted(m.matched["row"]) == [2, 5]                       # the 3,000 refund matched by amount
    mm = m.mismatched.set_index("row")
    assert mm.loc[4, "what"] == "fee" and mm.loc[4, "fee_diff"] == 50
    assert mm.loc[6, "what"] == "amount" and mm.loc[6, "amount_diff"] == 500 and mm.loc[6, "import_amount"] == 5000
    fo = m.file_only.set_index("row")
    assert fo.loc[3, "reason"] == "duplicate row in the file" and "no deposit with this imp_uid" in fo.loc[7, "reason"]
    assert list(m.import_only["imp_uid"]) == ["imp_3"]
    s = m.summary().set_index("group")["rows"]
    assert list(s) == [2, 2, 2, 1]


def test_key_preference_imp_uid_then_merchant_uid_then_pg_tid():
    ev = recon.events([pay(1), pay(2)], D, D, Rules())
    rows = pd.DataFrame([
        {"row": 2, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "imp_2", "merchant_uid": "ord_1", "pg_tid": ""},
        {"row": 3, "date": D, "kind": "deposit", "amount": 10000, "fee": 300, "imp_uid": "", "merchant_uid": "", "pg_tid": "T1"},
    ])
    m = recon.match(rows, ev)
    assert list(m.matched["imp_uid"]) == ["imp_2", "imp_1"] and list(m.matched["matched_by"]) == ["imp_uid", "pg_tid"]


def test_presets_round_trip_need_a_role_and_are_audited(tmp_path):
    import pytest as _pytest

    from lib.audit import AuditStore
    from lib.identity import Actor, Forbidden
    audit = AuditStore(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    store = recon.PresetStore(audit.engine)
    kim, lee = Actor("kim", frozenset({"operator"})), Actor("lee", frozenset({"admin"}))
    store.save("KCP daily", recon.ColumnMap(date="거래일자", amount="거래금액", merchant_uid="주문번호"), kim, audit)
    store.save("KCP daily", recon.ColumnMap(date="일자", amount="금액", merchant_uid="주문번호"), lee, audit)
    assert store.all() == {"KCP daily": recon.ColumnMap(date="일자", amount="금액", merchant_uid="주문번호")}
    with _pytest.raises(Forbidden):
        store.save("mine", recon.ColumnMap(date="a", amount="b"), Actor("v", frozenset({"viewer"})), audit)
    with _pytest.raises(ValueError):
        store.save("x" * 61, recon.ColumnMap(date="a", amount="b"), kim, audit)
    assert list(audit.records(action="recon_preset")["operator"]) == ["lee", "kim"]
    assert "mine" not in store.all()


def test_sandbox_settlement_file_matches_exactly_the_planted_discrepancies(fresh, client):
    from datetime import timedelta
    today = datetime.now(KST).date()
    d_from = today - timedelta(days=10)
    data = fresh.http.get(fresh.url + "/sandbox/settlement", params={"from": str(d_from), "to": str(today)}).content
    planted = fresh.http.get(fresh.url + "/sandbox/settlement",
                             params={"from": str(d_from), "to": str(today), "planted": 1}).json()["planted"]
    data.decode("cp949")                                         # a CP949 file, like most PG reports
    raw = recon.read_table(data, "settlement.csv")
    rows = recon.normalize(raw, recon.guess_map(list(raw.columns)))
    a, b = recon.kst_range(recon.lookback_start(d_from), today)
    ev = recon.events(client.list_by_status_raw("all", a, min(b, int(datetime.now().timestamp()))), d_from, today,
                      Rules())
    m = recon.match(rows, ev)
    kinds = {p["kind"]: p for p in planted}
    assert set(m.mismatched["merchant_uid"]) == {kinds["amount_mismatch"]["merchant_uid"],
                                                 kinds["fee_mismatch"]["merchant_uid"]}
    assert list(m.file_only["merchant_uid"]) == [kinds["missing_in_import"]["merchant_uid"]]
    assert list(m.import_only["merchant_uid"]) == [kinds["missing_in_file"]["merchant_uid"]]
    assert len(m.matched) == len(rows) - 3


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
    today = datetime.now(KST).date()
    out = tmp_path / "s.csv"
    r = subprocess.run([sys.executable, "-m", "sandbox", "settlement", "--from", str(today - pd.Timedelta(days=14).to_pytimedelta()),
                        "--to", str(today), "--db", str(db), "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    planted = json.loads((tmp_path / "s.csv.planted.json").read_text())
    assert [p["kind"] for p in planted] == ["amount_mismatch", "fee_mismatch", "missing_in_file", "missing_in_import"]
    text = out.read_bytes().decode("cp949")
    assert text.startswith("거래일자,구분,주문번호") and "\r\n합계," in text
