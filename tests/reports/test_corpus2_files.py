"""The second corpus (tests/fixtures/corpus2.py) is well-formed: every file opens as what it claims to be (openpyxl /
csv in its encoding), holds its header where it says and every row, carries the planted discrepancies of the first
corpus exactly (PG: one amount 1,000 short, one fee 100 over, a deposit missing, one twice, a ghost order, two card
rows; bank: a payout short, one missing, a stranger's 50,000), shows the quirk it was made for, and its
``transform_variants`` keep the same rows. No test here calls the reconciliation reader (its engine is being rebuilt);
these only guard the fixtures the reconciliation tests stand on."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from tests.fixtures import corpus2 as c2
from tests.fixtures import realfiles as rf


@pytest.fixture(scope="module")
def pays():
    return rf.payments()


@pytest.fixture(scope="module")
def pg_files(pays):
    return {k: fn(pays) for k, fn in c2.PG_FILES2.items()}


@pytest.fixture(scope="module")
def banks(pays):
    return {k: fn(pays) for k, fn in c2.BANKS2.items()}


# (amount column, fee column, the fee a row normally shows there): how the layout writes them
PG_COLUMNS = {
    "toss_ko": ("결제금액", "수수료", 330),
    "portone_console": ("거래금액", "PG수수료", 300),
    "portone_console_book": ("거래금액", "PG수수료", 300),
    "inicis_merged": ("금액 거래금액", "금액 수수료", 300),
    "kcp_fullwidth": ("거래금액（원）", "수수료（원）", 300),
    "nice_serial": ("승인금액", "수수료", 300),
    "kicc_dates": ("결제금액", "수수료", 300),
    "unknown_headers": ("승인액", "정산수수료(VAT포함)", 330),
}

_DATE_RX = re.compile(r"(\d{4})[.\-/]?(\d{2})[.\-/]?(\d{2})")
SERIAL_LAYOUTS = {"epost", "nice_serial", "kdb"}


def _date(v, serial_ok: bool = False) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if serial_ok and isinstance(v, int) and 40000 < v < 50000:
        return (c2.EXCEL_EPOCH + timedelta(days=v)).date()
    if v is None or isinstance(v, (int, float)):
        return None
    s = str(v).strip()
    if serial_ok and re.fullmatch(r"4\d{4}(\.\d+)?", s):
        return (c2.EXCEL_EPOCH + timedelta(days=float(s))).date()
    m = _DATE_RX.match(s)
    if m and 2000 < int(m.group(1)) < 2100 and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def _muids(row: list) -> list[str]:
    return [v for v in row if isinstance(v, str) and v.startswith("ord_")]


def _expected_muids(made: c2.Made2, pays) -> Counter:
    """The order numbers a PG file must hold: the PG's rows of the period, with the planted changes."""
    base = Counter(r["merchant_uid"] for r in rf.base_rows(pays, set(made.pgs) or None))
    for _status, muid, reason in made.expected:
        if reason == "":                       # missing from the file
            base[muid] -= 1
        elif reason in ("파일 중복", "아임포트에 없음"):
            base[muid] += 1
    base.update({"ord_card_0": 1, "ord_card_1": 1})
    return +base


def _base(layout: str) -> str:
    return layout.split("+")[0]


def check_pg(made: c2.Made2, pays, columns: bool = True) -> None:
    _t, header, data, _tail = c2.table_of(made)
    assert header == list(made.header)
    assert len(data) == made.rows > 10
    assert all(len(_muids(r)) == 1 for r in data)             # one order number a row
    assert Counter(_muids(r)[0] for r in data) == _expected_muids(made, pays)
    serial_ok = _base(made.layout) in SERIAL_LAYOUTS
    days = [d for r in data for d in [next((x for x in map(lambda v: _date(v, serial_ok), r) if x), None)]]
    assert all(d is not None and rf.D_FROM <= d <= rf.D_TO + timedelta(days=2) for d in days), days[:5]
    if not columns:
        return
    amount_h, fee_h, fee_normal = PG_COLUMNS[made.layout]
    ai, fi = header.index(amount_h), header.index(fee_h)
    by_uid = {p["merchant_uid"]: p for p in pays}
    reasons = {r: m for _s, m, r in made.expected}
    short, over = reasons["금액 불일치"], reasons["수수료 불일치"]
    short_rows = [r for r in data if _muids(r)[0] == short]
    assert any(abs(c2.parse_amount(r[ai]) or 0) == by_uid[short]["amount"] - 1000 for r in short_rows)
    fees = Counter(c2.parse_amount(r[fi]) for r in data)
    assert fees == Counter({fee_normal: len(data) - 1, fee_normal + 100: 1})
    assert [c2.parse_amount(r[fi]) for r in data if _muids(r)[0] == over][0] == fee_normal + 100


def check_bank(made: c2.Made2, planted: list[dict], pays, exact_rows: bool = True) -> None:
    rows, planted_again = rf.bank_rows(pays)
    assert planted == planted_again
    _t, header, data, _tail = c2.table_of(made)
    assert header == list(made.header)
    assert len(data) == len(rows) == made.rows
    serial_ok = _base(made.layout) in SERIAL_LAYOUTS

    def day_of(row: list) -> date:
        return next(d for d in (_date(v, serial_ok) for v in row) if d)

    def text(row: list) -> set[str]:
        return {str(v).strip() for v in row if v is not None}

    def amounts(row: list) -> set[int]:
        return {abs(a) for a in map(c2.parse_amount, row) if a is not None}
    for r, row in zip(rows, data):
        assert day_of(row) == r["date"]
        assert (r["pg"] or r["memo"]) in text(row)                # the sender, in a cell of its own
        assert (r["deposit"] or r["out"]) in amounts(row)
    for p in planted:
        d = date.fromisoformat(p["date"])
        on_day = [row for row in data if day_of(row) == d]
        if p["kind"] == "unexpected":
            assert any("홍길동" in text(row) and 50_000 in amounts(row) for row in on_day)
        elif p["kind"] == "missing":
            assert not any(p["pg"] in text(row) for row in on_day)
        else:
            assert len([row for row in on_day if p["pg"] in text(row)]) == 1


# ------------------------------------------------------------------ the files
def test_corpus_is_large_enough():
    assert len(c2.PG_FILES2) >= 8 and len(c2.BANKS2) >= 8
    assert not set(c2.BANKS2) & set(rf.BANKS) and not set(c2.PG_FILES2) & set(rf.PG_FILES)
    assert set(c2.SOURCES) == set(c2.PG_FILES2) | set(c2.BANKS2)           # every layout says where it is from


@pytest.mark.parametrize("layout", list(c2.PG_FILES2))
def test_pg_file_is_well_formed_and_carries_the_planted_discrepancies(layout, pg_files, pays):
    made = pg_files[layout]
    assert made.layout == layout and len(made.expected) == 5 and made.pgs
    check_pg(made, pays)


@pytest.mark.parametrize("layout", list(c2.BANKS2))
def test_bank_statement_is_well_formed_and_carries_the_planted_payouts(layout, banks, pays):
    made, planted = banks[layout]
    assert {p["kind"] for p in planted} == {"short", "missing", "unexpected"}
    check_bank(made, planted, pays)


def test_every_file_opens_as_what_it_claims(pg_files, banks):
    import openpyxl
    for made in [*pg_files.values(), *(m for m, _p in banks.values())]:
        if made.name.endswith(".xlsx"):
            assert zipfile.is_zipfile(io.BytesIO(made.data))
            wb = openpyxl.load_workbook(io.BytesIO(made.data))
            assert made.sheet in wb.sheetnames
        else:
            assert made.name.endswith(".csv") and made.encoding
            made.data.decode(made.encoding)                              # strict: the bytes are what it says
            if made.encoding == "cp949":
                with pytest.raises(UnicodeDecodeError):
                    made.data.decode("utf-8")


# ------------------------------------------------------------------ each file shows the quirk it was made for
def _ws(made: c2.Made2):
    import openpyxl
    return openpyxl.load_workbook(io.BytesIO(made.data))[made.sheet]


def test_toss_fee_includes_its_vat(pg_files):
    _t, header, data, _ = c2.table_of(pg_files["toss_ko"])
    i = {h: n for n, h in enumerate(header)}
    for r in data:
        amt, fee, vat, pay = (c2.parse_amount(r[i[k]]) for k in ("결제금액", "수수료", "부가세", "지급금액"))
        assert pay == amt - fee and vat == 30 and fee in (330, 430)
    assert any(c2.parse_amount(r[i["결제금액"]]) < 0 for r in data)            # a cancel is negative


def test_portone_console_has_todays_key_columns_and_excel_dates(pg_files):
    made = pg_files["portone_console"]
    for h in ("고객사 결제번호(주문번호)", "PG 결제번호", "포트원 결제번호", "PG수수료", "PG수수료 부가세"):
        assert h in made.header
    ws = _ws(made)
    assert all(ws.cell(r, 1).is_date for r in range(2, 2 + made.rows))


def test_summary_sheet_comes_first(pg_files, banks):
    import openpyxl
    for made in (pg_files["portone_console_book"], banks["kbank"][0]):
        names = openpyxl.load_workbook(io.BytesIO(made.data)).sheetnames
        assert len(names) == 2 and names[0] != made.sheet and names[1] == made.sheet


def test_merged_two_row_header(pg_files):
    made = pg_files["inicis_merged"]
    ws = _ws(made)
    merged = {str(r) for r in ws.merged_cells.ranges}
    hr = made.header_row
    assert f"G{hr}:I{hr}" in merged and f"A{hr}:A{hr + 1}" in merged
    assert ws.cell(hr, 10).value == "입금예정액" and ws.cell(hr + 1, 10).value == "(원)"
    assert "금액 부가세" in made.header and "입금예정액 (원)" in made.header


def test_full_width_header_and_won_amounts(pg_files):
    made = pg_files["kcp_fullwidth"]
    assert any("（" in h for h in made.header) and any(ch in "".join(made.header) for ch in "１０")
    _t, _h, data, _ = c2.table_of(made)
    assert all(str(r[5]).endswith("원") for r in data)


def test_serial_dates_and_parenthesised_cancels_in_a_csv(pg_files, banks):
    _t, _h, data, _ = c2.table_of(pg_files["nice_serial"])
    assert all(re.fullmatch(r"4\d{4}\.\d{5}", r[0]) for r in data)
    assert any(r[4].startswith("(") and r[4].endswith(".00)") for r in data)
    _t, _h, data, _ = c2.table_of(banks["epost"][0])
    assert all(re.fullmatch(r"4\d{4}", r[0]) for r in data)


def test_excel_date_cells(pg_files, banks):
    for made in (pg_files["kicc_dates"], banks["kyongnam"][0], banks["kbank"][0], banks["kfcc"][0]):
        ws = _ws(made)
        col = 2 if made.header[0] == "No" else 1
        assert all(ws.cell(r, col).is_date for r in range(made.header_row + 1, made.header_row + 1 + made.rows))


def test_bank_amount_forms(banks):
    _t, _h, data, _ = c2.table_of(banks["kwangju"][0])
    assert any(str(r[3]).startswith("(") for r in data)                      # withdrawals in parentheses
    _t, _h, data, _ = c2.table_of(banks["suhyup"][0])
    assert {str(r[2])[0] for r in data} == {"+", "-"}                        # signed
    _t, _h, data, _ = c2.table_of(banks["busan"][0])
    assert {r[3] for r in data} == {"입금", "출금"} and all(c2.parse_amount(r[4]) > 0 for r in data)


def test_nh_generic_announces_nh_business_but_has_another_header(banks):
    made = banks["nh_generic"][0]
    title, header, _d, _ = c2.table_of(made)
    assert "NH농협" in str(title[0][0]) and "기업" in str(title[0][0])
    assert header != rf.BANKS["nh_business"].header and "거래기록사항" not in header


def test_sender_headers_no_first_corpus_layout_uses(banks):
    known = {h for lay in rf.BANKS.values() for h in lay.header}
    for layout, sender in (("busan", "송금인 성명"), ("kbank", "상대방"), ("kyongnam", "입금인"), ("suhyup", "거래상대방")):
        assert sender in banks[layout][0].header and sender not in known


# ------------------------------------------------------------------ variants
def _fingerprint(made: c2.Made2) -> tuple[Counter, Counter, Counter]:
    """What a variant must keep: the order numbers, every amount, and each row's set of days."""
    _t, _h, data, _ = c2.table_of(made)
    serial_ok = _base(made.layout) in SERIAL_LAYOUTS
    muids = Counter(m for r in data for m in _muids(r))
    amounts = Counter(a for r in data for a in map(c2.parse_amount, r) if a is not None)
    days = Counter(frozenset(d for d in (_date(v, serial_ok) for v in r) if d) for r in data)
    return muids, amounts, days


@pytest.mark.parametrize("layout", ["toss_ko", "inicis_merged", "kcp_fullwidth", "nice_serial", "kicc_dates",
                                    "unknown_headers"])
def test_pg_variants_keep_every_row(layout, pg_files, pays):
    made = pg_files[layout]
    variants = c2.transform_variants(made)
    kinds = {v.layout.split("+")[1] for v in variants}
    assert {"shuffled", "synonyms", "summary", "won"} <= kinds
    before = _fingerprint(made)
    for v in variants:
        assert v.expected == made.expected and v.pgs == made.pgs
        check_pg(v, pays, columns=False)
        muids, amounts, days = _fingerprint(v)
        assert muids == before[0]
        if not v.layout.endswith("+split"):
            assert amounts == before[1] and days == before[2], v.layout
        else:
            assert {d for s in days for d in s} == {d for s in before[2] for d in s}


@pytest.mark.parametrize("layout", ["sc_first", "busan", "im_daegu", "kbank", "epost", "suhyup"])
def test_bank_variants_keep_every_row(layout, banks, pays):
    made, planted = banks[layout]
    for v in c2.transform_variants(made):
        check_bank(v, planted, pays)


def test_variants_do_what_they_say(pg_files):
    import openpyxl
    made = pg_files["toss_ko"]
    v = {x.layout.split("+")[1]: x for x in c2.transform_variants(made)}
    assert sorted(v["shuffled"].header) == sorted(made.header) and v["shuffled"].header != made.header
    assert "승인금액" in v["synonyms"].header and "결제금액" not in v["synonyms"].header
    assert openpyxl.load_workbook(io.BytesIO(v["summary"].data)).sheetnames[0] == "요약"
    assert ("거래일자", "거래시간") == v["split"].header[:2]
    _t, h, data, _ = c2.table_of(v["won"])
    assert all(str(r[h.index("결제금액")]).endswith("원") for r in data)


def test_plain_number_dates_time_cells_and_two_name_columns(banks):
    made = banks["kdb"][0]
    ws = _ws(made)
    first = made.header_row + 1
    assert isinstance(ws.cell(first, 1).value, int) and not ws.cell(first, 1).is_date
    assert ws.cell(first, 2).is_date                                          # a time cell
    _t, h, data, _ = c2.table_of(made)
    deposits = [r for r in data if c2.parse_amount(r[h.index("입금액")])]
    assert {r[h.index("수취인")] for r in deposits} == {c2.HOLDER}            # the trap: the same name on every deposit


# ------------------------------------------------------------------ files a reader must stop on
def test_files_nothing_explains(pays):
    known = {p["merchant_uid"] for p in pays} | {p["imp_uid"] for p in pays}
    made = c2.STOP_FILES["foreign_orders"][1](pays)
    _t, _h, data, _ = c2.table_of(made)
    assert len(data) == made.rows > 100 and not {v for r in data for v in r if isinstance(v, str)} & known
    made = c2.STOP_FILES["other_year"][1](pays)
    _t, _h, data, _ = c2.table_of(made)
    assert len(data) == made.rows and all(_date(r[0]).year == rf.D_FROM.year - 1 for r in data)
    made = c2.STOP_FILES["no_payouts"][1](pays)
    _t, _h, data, _ = c2.table_of(made)
    senders = set(rf.PG_KO.values()) | {"KG이니시스", "토스페이먼츠", "헥토파이낸셜", "LG유플러스"}
    assert data and not {str(v) for r in data for v in r} & senders
    assert any(c2.parse_amount(r[2]) for r in data)                           # deposits there are, from people


def test_statement_with_a_made_up_sender_header(pays):
    made, planted = c2.statement_with_sender_header(pays, "돈 보낸 곳")
    assert "돈 보낸 곳" in made.header
    check_bank(replace(made, layout="custom"), planted, pays)


@pytest.mark.parametrize("layout", ["kb_excel", "hana", "ibk", "nh_business", "kakaobank"])
def test_first_corpus_statements_have_variants_too(layout, pays):
    made, planted = rf.bank_file(layout, pays)
    m2 = c2.as_made2(made)
    assert m2.header_row == len(rf.BANKS[layout].title) + 1 and m2.rows == len(rf.bank_rows(pays)[0])
    variants = c2.transform_variants(made)
    assert len(variants) >= 4
    for v in variants:
        check_bank(v, planted, pays)


@pytest.mark.parametrize("layout", ["portone_recon", "tosspayments_settlement"])
def test_first_corpus_pg_files_have_variants_too(layout, pays):
    made = rf.PG_FILES[layout](pays)
    for v in c2.transform_variants(made):
        assert v.expected == made.expected
        check_pg(v, pays, columns=False)


def test_files_without_a_grid_have_no_variants(pays):
    made, _p = rf.bank_file("kb_web", pays)                  # an HTML table saved as .xls
    with pytest.raises(ValueError, match="only CSV and .xlsx"):
        c2.transform_variants(made)
