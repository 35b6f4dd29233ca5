"""Issue 31.2 and 31.3: the journal entries balance on every entry (over the sandbox's month, and a broken entry is
refused), follow the template in vbank-desk.toml; the payouts ahead say what each PG should pay per business day,
claim nothing without a matched bank statement, and call a payout late only when a statement covering its day shows
nothing from its sender a business day later."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from lib.domain.clock import KST
from lib.domain.settings import Rules
from lib.reports import ahead, journal
from lib.reports.recon.expected import FIELDS, kst_range, lookback_start


def ts(d: date, hour: int = 12) -> int:
    return int(datetime.combine(d, datetime.min.time(), KST).replace(hour=hour).timestamp())


def vbank(n: int, pg: str, amount: int, paid: date | None, refunds: tuple[tuple[date, int], ...] = ()) -> dict:
    return {"imp_uid": f"imp_{n}", "merchant_uid": f"ord_{n}", "pay_method": "vbank", "pg_provider": pg,
            "pg_tid": f"t{n}", "amount": amount, "paid_at": ts(paid) if paid else 0, "status": "paid",
            "cancel_history": [{"pg_tid": f"c{n}", "amount": a, "cancelled_at": ts(d)} for d, a in refunds]}


# ------------------------------------------------------------------ 회계 전표
def test_every_journal_entry_balances_over_the_sandboxs_month(client, rules):
    today = datetime.now(KST).date()
    d_from = today - timedelta(days=30)
    a, b = kst_range(lookback_start(d_from), today)
    lines = journal.entries(client.list_columns("all", a, min(b, int(time.time())), fields=FIELDS), d_from, today,
                            rules)
    assert lines["entry_no"].nunique() > 20
    per = lines.groupby("entry_no")[["debit", "credit"]].sum()
    assert (per["debit"] == per["credit"]).all()
    assert set(lines["account_name"]) >= {"미수금", "상품매출", "부가세예수금", "지급수수료", "부가세대급금", "보통예금"}
    assert not lines.isna().any().any()


def test_a_worked_example_gives_the_entries_the_readme_shows():
    """One 토스페이먼츠 deposit of ₩110,000 on Monday 2026-11-02, refunded ₩11,000 on Tuesday; fees 300 + 300 with
    VAT; paid out D+2 (Wednesday and Thursday)."""
    r = Rules()
    pays = [vbank(1, "tosspayments", 110_000, date(2026, 11, 2), ((date(2026, 11, 3), 11_000),))]
    lines = journal.entries(pays, date(2026, 11, 1), date(2026, 11, 30), r)
    got = [(str(x.date), x.entry_no, x.account_name, x.debit, x.credit) for x in lines.itertuples()]
    assert got == [
        ("2026-11-02", "20261102-001", "미수금", 110_000, 0), ("2026-11-02", "20261102-001", "상품매출", 0, 100_000),
        ("2026-11-02", "20261102-001", "부가세예수금", 0, 10_000),
        ("2026-11-02", "20261102-002", "지급수수료", 300, 0), ("2026-11-02", "20261102-002", "부가세대급금", 30, 0),
        ("2026-11-02", "20261102-002", "미수금", 0, 330),
        ("2026-11-03", "20261103-001", "상품매출", 10_000, 0), ("2026-11-03", "20261103-001", "부가세예수금", 1_000, 0),
        ("2026-11-03", "20261103-001", "미수금", 0, 11_000),
        ("2026-11-03", "20261103-002", "지급수수료", 300, 0), ("2026-11-03", "20261103-002", "부가세대급금", 30, 0),
        ("2026-11-03", "20261103-002", "미수금", 0, 330),
        ("2026-11-04", "20261104-001", "보통예금", 109_670, 0), ("2026-11-04", "20261104-001", "미수금", 0, 109_670)]
    assert set(lines["counterparty"]) == {"토스페이먼츠"}          # the PG's trade name, not tosspayments
    # Thursday's payout of Tuesday's net is negative (a refund and its fee): no money moves, no entry.


def test_an_unbalanced_entry_is_refused():
    bad = pd.DataFrame([{"entry_no": "20261102-001", "debit": 110_000, "credit": 0},
                        {"entry_no": "20261102-001", "debit": 0, "credit": 100_000}])
    with pytest.raises(journal.Unbalanced, match="20261102-001"):
        journal.check(bad)


def test_the_template_sets_columns_accounts_and_counterparty():
    r = Rules.model_validate({"journal": {"columns": {"일자": "date", "계정": "account_code", "차변": "debit",
                                                      "대변": "credit", "거래처코드": "counterparty"},
                                          "accounts": {"receivable": {"code": "108", "name": "외상매출금"}},
                                          "counterparty": {"tosspayments": "00101"}, "split_sales_vat": False}})
    lines = journal.entries([vbank(1, "tosspayments", 110_000, date(2026, 11, 2))], date(2026, 11, 1),
                            date(2026, 11, 2), r)
    out = journal.templated(lines, r)
    assert list(out.columns) == ["일자", "계정", "차변", "대변", "거래처코드"]
    assert out.iloc[0].to_dict() == {"일자": date(2026, 11, 2), "계정": "108", "차변": 110_000, "대변": 0,
                                     "거래처코드": "00101"}
    assert out.iloc[1]["대변"] == 110_000                            # no VAT split: the whole amount to sales
    with pytest.raises(ValueError, match="unknown fields"):
        journal.templated(lines, Rules.model_validate({"journal": {"columns": {"x": "nonsense"}}}))


# ------------------------------------------------------------------ 입금 예정
def got(v):
    return None if pd.isna(v) else int(v)


def statement(rows: list[tuple[date, str, int]]) -> pd.DataFrame:
    return pd.DataFrame([{"date": d, "depositor": who, "memo": "타행이체", "deposit": amt, "row": i + 2}
                         for i, (d, who, amt) in enumerate(rows)])


def test_payouts_ahead_per_business_day_and_pg_with_late_only_in_a_matched_statement():
    r = Rules.model_validate({"settlement_days": {"kcp": 1}})           # D+1 for NHN KCP, D+2 by default
    fri, mon, tue, wed = date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)
    pays = [vbank(1, "tosspayments", 110_000, fri), vbank(2, "kcp", 55_000, fri), vbank(3, "tosspayments", 33_000, mon)]
    # No statement: what is expected, nothing claimed about received or late.
    f = ahead.frame(pays, wed, r, None)
    rows = {(x.day, x.sender): (x.expected, got(x.received), x.status) for x in f.itertuples()}
    assert rows[(mon, "NHN KCP")] == (55_000 - 330, None, ahead.NO_STATEMENT)           # Friday + 1 business day
    assert rows[(tue, "토스페이먼츠")] == (110_000 - 330, None, ahead.NO_STATEMENT)        # Friday + 2 (weekend)
    assert rows[(wed, "토스페이먼츠")] == (33_000 - 330, None, ahead.NO_STATEMENT)
    s = ahead.summary(f, wed, None)
    assert s.late == 0 and s.statement_to is None
    # A statement covering Monday and Tuesday: KCP paid Monday, Toss not on Tuesday -> late (a business day on).
    text = ahead.remember(None, statement([(mon, "엔에이치엔케이씨피", 54_670), (mon, "홍길동", 5_000)]), r)
    text = ahead.remember(text, statement([(tue, "김철수", 1_000)]), r)
    stored = ahead.load(text)
    assert stored is not None and (stored.first, stored.last) == (mon, tue)
    assert "홍길동" not in text and "김철수" not in text                                 # no personal transfers kept
    f = ahead.frame(pays, wed, r, stored)
    rows = {(x.day, x.sender): (got(x.received), x.status) for x in f.itertuples()}
    assert rows[(mon, "NHN KCP")] == (54_670, ahead.RECEIVED)
    assert rows[(tue, "토스페이먼츠")] == (0, ahead.LATE)
    assert rows[(wed, "토스페이먼츠")] == (None, ahead.NO_STATEMENT)                       # not covered: no claim
    s = ahead.summary(f, wed, stored)
    assert (s.late, s.late_amount, s.statement_to) == (1, 109_670, tue)
    assert [(x.day, x.pgs) for x in s.late_rows] == [(tue, "토스페이먼츠")]
    # On Tuesday itself the payout may still come that day: not late yet.
    assert {x.status for x in ahead.frame(pays, tue, r, stored).itertuples() if x.day == tue} == {ahead.WAITING}


# ------------------------------------------------------------------ 오늘의 요약 as Excel
def test_the_summary_sheet_has_units_in_its_headers_and_no_nan(korean):
    import io

    from lib.domain import digest as digest_mod
    from lib.reports import digest as digest_sheet
    from lib.reports import export
    mon = datetime(2026, 12, 7, 9, 30, tzinfo=KST)
    pays = [vbank(1, "tosspayments", 110_000, date(2026, 12, 5), ((date(2026, 12, 7), 110_000),)),
            vbank(2, "kcp", 55_000, date(2026, 11, 28))]
    d = digest_mod.build(now=mon, pending=[], payments=pays, open_approvals=1, unknown_outcomes=0,
                         ahead=ahead.Ahead((), 0, 0, None))
    assert (d.span_from, d.span_to) == (date(2026, 12, 4), date(2026, 12, 6))
    assert (d.moved.deposits, d.moved.refunds, d.week_before.deposits) == (1, 0, 1)
    f = digest_sheet.frame(d)
    assert list(f.columns) == ["항목", "건수 (건)", "금액(원)", "한 주 전 (건)", "한 주 전 (원)"]
    book = pd.read_excel(io.BytesIO(export.to_xlsx_book([("오늘의 요약", f)])), dtype=str)
    assert not book.apply(lambda c: c.str.lower().isin(["nan", "none", "nat", "<na>"])).any().any()
    assert book.iloc[0, 0].startswith("지난 영업일 이후 입금") and book.iloc[0, 1] == "1"
