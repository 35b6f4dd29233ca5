"""Reconciliation on the files the team really has (layouts: tests/fixtures/README.md): each layout is found under
its title block, recognised by its header signature with no hand edit, read with its own meaning (fee with VAT,
which 부가세, signed amounts, cancel codes, the sender column) and matched exactly against what was planted."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pandas as pd
import pytest

from lib.domain.names import recon_status
from lib.domain.settings import Rules
from lib.reports.recon import expected, grid, match, normalize, payouts, read
from tests.fixtures import realfiles as rf


@pytest.fixture(scope="module")
def pays():
    return rf.payments()


def exceptions(rows: pd.DataFrame, pays) -> set:
    a, b = normalize.file_range(rows)
    res = match.match(rows, expected.events(pays, a, b, Rules(), normalize.file_pgs(rows) or None))
    exc = res.exceptions()
    reasons = exc["reasons"] if "reasons" in exc else pd.Series("", index=exc.index)
    # the status as the page says it (the code in 거래대사's words)
    return {(recon_status(s), m, r if isinstance(r, str) else "") for s, m, r in zip(exc["status"], exc["merchant_uid"],
                                                                                    reasons)}


@pytest.mark.parametrize("layout", list(rf.PG_FILES))
def test_pg_files_are_recognised_and_match_exactly(layout, pays):
    made = rf.PG_FILES[layout](pays)
    table = read.read_file(made.data, made.name)
    rec, cmap = read.recognise_pg(table.columns)
    assert rec.layout is not None and rec.layout.id == layout and rec.sure, (rec.layout, rec.warnings)
    rows = normalize.normalize(table.df, cmap)
    assert rows.attrs["other_methods"] == 2                 # card rows of the same file left out, not 파일에만
    if len(made.pgs) == 1:                                   # a file of one PG scopes the match to it
        assert made.pgs[0] in normalize.file_pgs(rows)
    else:                                                    # a file of several PGs is compared with all of them
        assert normalize.file_pgs(rows) == []
    assert exceptions(rows, pays) == made.expected          # exactly the planted ones: no false row


@pytest.mark.parametrize("layout", list(rf.BANKS))
def test_bank_statements_are_recognised_and_payouts_match_exactly(layout, pays):
    made, planted = rf.bank_file(layout, pays)
    table = read.read_file(made.data, made.name)
    assert table.header_row == len(rf.BANKS[layout].title) + 1        # found under the title block
    rec, bmap = read.recognise_bank(table.columns)
    assert rec.layout is not None and rec.layout.id == layout and rec.sure, (rec.layout, rec.warnings)
    st = normalize.normalize_statement(table.df, bmap)
    ev = expected.events(pays, rf.D_FROM, rf.D_TO, Rules())
    chk = payouts.match_payouts(payouts.expected_payouts(expected.expected_settlement(ev), Rules()), st, Rules())
    bad = chk[~chk["status"].isin([payouts.PAYOUT_MATCHED, payouts.PAYOUT_OFFSET])]
    got = {(s, d.isoformat(), p or who) for s, d, p, who in zip(bad["status"], bad["date"], bad["sender"],
                                                                   bad["depositor"])}
    kinds = {"short": payouts.PAYOUT_SHORT, "missing": payouts.PAYOUT_MISSING, "unexpected": payouts.PAYOUT_UNEXPECTED}
    want = {(kinds[p["kind"]], p["date"], p.get("pg") or p.get("memo")) for p in planted}
    assert got == want
    stranger = bad[bad["status"] == payouts.PAYOUT_UNEXPECTED]
    assert list(stranger["depositor"]) == ["홍길동"]                   # the sender is shown, not blank


def test_row_numbers_are_the_ones_excel_shows(pays):
    made, _p = rf.bank_file("hana", pays)                # title block, a blank row, header on row 7
    table = read.read_file(made.data, made.name)
    assert table.header_row == 7 and table.df.index[0] == 8
    assert table.dropped["total"] and table.dropped["note"]
    assert table.dropped["total"][0] == table.df.index[-1] + 1


def test_text_rows_keep_their_line_numbers_through_blank_lines():
    text = "거래내역조회\n\n거래일자,주문번호,거래금액\n2026.11.20,o1,1000\n\n\n2026.11.20,o2,oops\n합계,,1000\n"
    t = read.read_file(text.encode("cp949"), "x.csv")
    assert list(t.df.index) == [4, 7] and t.header_row == 3
    with pytest.raises(grid.ReconFileError, match="Row 7, column “거래금액”: “oops” is not an amount"):
        normalize.normalize(t.df, normalize.ColumnMap(date="거래일자", amount="거래금액", merchant_uid="주문번호"))


def test_operator_can_choose_the_header_row():
    text = "a,b,c\n조회기간,2026.11.01,2026.11.30\nday,order,amount\n2026-11-20,o1,1000\n"
    t = read.read_file(text.encode(), "x.csv", header_row=3)
    assert t.columns == ["day", "order", "amount"] and list(t.df.index) == [4]


@pytest.mark.parametrize("value,want", [("2026.11.21 13:05:22", date(2026, 11, 21)), ("20261121", date(2026, 11, 21)),
                                        ("2026/11/21", date(2026, 11, 21)), ("2026-11-20T23:30:00Z", date(2026, 11, 21)),
                                        ("2026-11-21T08:30:00+09:00", date(2026, 11, 21)),
                                        ("2026-11-20T14:59:59+00:00", date(2026, 11, 20))])
def test_dates_in_every_korean_form_and_offsets_in_kst(value, want):
    assert normalize.parse_dates(pd.Series([value], index=[5]), "d").iloc[0] == want


@pytest.mark.parametrize("value,want", [("+50,000", 50000), ("−1,127,350", -1127350), ("(1,200)", -1200),
                                        ("1,000원", 1000), ("₩ 3,000", 3000)])
def test_amounts_with_signs_parentheses_and_won(value, want):
    assert int(normalize.parse_amounts(pd.Series([value], index=[2]), "a", required=True).iloc[0]) == want


def test_unknown_layout_warns_about_the_vat_column_it_guessed():
    t = read.read_file("승인일자,주문번호,거래금액,수수료,부가세\n2026-11-20,o1,10000,300,30\n".encode(), "x.csv")
    rec, cmap = read.recognise_pg(t.columns)
    assert rec.layout is None and cmap.fee_vat == "부가세" and cmap.vat is None
    assert any("부가세" in w for w in rec.warnings)


def test_sender_is_read_from_the_counterparty_column_not_the_channel():
    t = read.read_file("거래일시,적요,기재내용,입금(원),지급(원)\n2026.11.24 09:00:00,타행이체,KG이니시스,9700,0\n"
                        .encode("cp949"), "woori.csv")
    rec, bmap = read.recognise_bank(t.columns)
    st = normalize.normalize_statement(t.df, bmap)
    assert bmap["sender"] == "기재내용" and list(st["depositor"]) == ["KG이니시스"]
    assert list(payouts.sender_of(st["depositor"].str.cat(st["memo"], sep=" "), Rules())) == ["KG이니시스"]


# ------------------------------------------------------------------ hostile files: one sentence, bounded
def far_corner_xlsx() -> bytes:
    """2 KB: A1, B1 and one cell at XFD1048576 (the reader would allocate the whole grid)."""
    sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t>'
             '</is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')
    return _xlsx(sheet)


def _xlsx(sheet: str, dimension: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
                   'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        if dimension:
            sheet = sheet.replace("<sheetData>", f'<dimension ref="{dimension}"/><sheetData>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def test_far_corner_cell_is_refused_before_any_grid_is_built():
    data = far_corner_xlsx()
    assert len(data) < 3000
    with pytest.raises(grid.ReconFileError, match="1,048,576 rows × 16,384 columns"):
        read.read_file(data, "evil.xlsx")


def test_a_lying_dimension_is_refused_too():
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
             '<c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row></sheetData></worksheet>')
    with pytest.raises(grid.ReconFileError, match="cells are read from Excel"):
        read.read_file(_xlsx(sheet, dimension="A1:ZZ900000"), "evil.xlsx")


def test_a_sheet_within_the_byte_limit_but_past_the_cell_limit():
    small = grid.UploadLimits(max_excel_cells=1000)
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in "ABCDEFGHIJ") + "</row>"
                   for r in range(1, 202))
    sheet = f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}' \
            '</sheetData></worksheet>'
    with pytest.raises(grid.ReconFileError, match="201 rows × 10 columns"):
        read.read_file(_xlsx(sheet), "big.xlsx", small)


def test_a_million_columns_in_a_text_file_end_in_one_sentence():
    data = (",".join(f"c{i}" for i in range(1_000_000)) + "\n" + ",".join("1" for _ in range(1_000_000))).encode()
    with pytest.raises(grid.ReconFileError, match="at most 60 can be read"):
        read.read_file(data, "wide.csv")


def test_mixed_encodings_end_in_one_sentence_or_read():
    data = "거래일자,금액,주문번호\n".encode("cp949") + "2026-11-20,1000,주문\n".encode("utf-8") + b"\xff\xfe\x80\n"
    try:
        t = read.read_file(data, "mixed.csv")
    except grid.ReconFileError as e:
        assert "\n" not in str(e) and len(str(e)) < 300
    else:
        assert len(t.df.columns) == 3


def test_utf16_text_reads():
    t = read.read_file("거래일자,금액,주문번호\n2026-11-20,1000,o1\n".encode("utf-16"), "x.csv")
    assert t.columns == ["거래일자", "금액", "주문번호"] and t.encoding == "utf-16"


def test_html_xls_without_a_table_and_xml_spreadsheets_say_what_to_do():
    with pytest.raises(grid.ReconFileError, match="no readable table"):
        read.read_file(b"<html><body>nothing</body></html>", "kb.xls")
    with pytest.raises(grid.ReconFileError, match="save it as .xlsx"):
        read.read_file(b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
                        "old.xls")


def test_lookups_one_file_may_trigger_are_capped():
    """50,000 made-up imp_uids cost at most MAX_IMP_LOOKUPS ids (20 requests of 100), and the rest is counted."""
    from lib.services import desk

    class Client:
        asked: list[str] = []

        def get_payments(self, ids):
            self.asked.extend(ids)
            return []

        def _map(self, fn, items):
            return [fn(x) for x in items]

        def find_by_merchant_uid(self, m):
            raise desk.NotFound("no")
    keys = pd.DataFrame({"imp_uid": [f"imp_{i:012d}" for i in range(5_000)], "merchant_uid": [""] * 5_000})
    c = Client()
    found, left = desk.payments_for_file(c, keys, [])
    assert len(c.asked) == desk.MAX_IMP_LOOKUPS and left == 5_000 - desk.MAX_IMP_LOOKUPS and found.num_rows == 0


def test_month_end_workbook_has_a_summary_sheet_and_whole_won(pays):
    """The exceptions as Excel: a one-page summary first (per PG: matched / mismatched / unmatched rows and amounts;
    payouts short, over, missing), whole won as numbers (never 18800.0), dates as dates."""
    import openpyxl

    from lib.reports import export
    made = rf.PG_FILES["portone_recon"](pays)
    table = read.read_file(made.data, made.name)
    rows = normalize.normalize(table.df, read.recognise_pg(table.columns)[1])
    a, b = normalize.file_range(rows)
    res = match.match(rows, expected.events(pays, a, b, Rules(), normalize.file_pgs(rows)))
    summary = match.month_end_summary(res, None)
    assert set(summary["group"]) == {match.MATCHED, match.MISMATCHED, match.FILE_ONLY, match.IMPORT_ONLY}
    assert summary.loc[summary["group"] == match.MISMATCHED, "rows"].sum() == 2
    exc = res.exceptions()
    assert str(exc["amount"].dtype) == "Int64" and str(exc["row"].dtype) == "Int64"     # no floats after the concat
    data = export.to_xlsx_book([("월말 요약", summary), ("예외", exc)])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["월말 요약", "예외"]
    ws = wb["예외"]
    header = [c.value for c in ws[1]]
    amounts = [r[header.index("amount")].value for r in ws.iter_rows(min_row=2) if r[header.index("amount")].value]
    assert amounts and all(isinstance(v, int) for v in amounts)
    days = [r[header.index("date")].value for r in ws.iter_rows(min_row=2)]
    assert all(isinstance(d, datetime) for d in days if d is not None)
