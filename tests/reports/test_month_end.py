"""Month end that holds: exceptions keyed so closing one never closes another (issue 30 item 6), the workbook a
download builds even with an all-empty column, and an .xlsx whose cells leave out their optional references
counted while it streams (issue 30 item 1)."""

from __future__ import annotations

import io
import tracemalloc
from datetime import date

import openpyxl
import pandas as pd
import pytest

from lib.reports import export
from lib.reports.recon import grid, match, payouts, read
from tests.reports.test_realfiles import _xlsx


def test_two_keyless_exceptions_of_two_files_on_one_day_are_two_keys():
    """Line 5 of another file on the same day used to show as resolved: a row with no id is keyed by its file."""
    exc = pd.DataFrame({"status": [match.FILE_ONLY] * 2, "kind": ["deposit"] * 2, "date": [date(2026, 11, 20)] * 2,
                        "row": [5, 5], "amount": [33000, 33000], "imp_uid": ["", ""], "merchant_uid": ["", ""],
                        "pg_tid": ["", ""]})
    a = match.exception_keys(exc.iloc[:1], "file-a")
    b = match.exception_keys(exc.iloc[1:], "file-b")
    assert a.iloc[0] != b.iloc[0]
    assert match.exception_keys(exc.iloc[:1], "file-a").iloc[0] == a.iloc[0]        # the same file: the same key
    # a row the other file names by its order number keeps the key it always had (carried over)
    named = exc.assign(merchant_uid=["ord_1", "ord_1"])
    assert match.exception_keys(named.iloc[:1], "file-a").iloc[0] == match.exception_keys(named.iloc[1:], "file-b").iloc[0]


def test_two_unexpected_deposits_from_one_sender_on_one_day_are_two_keys():
    checked = pd.DataFrame({"status": [payouts.PAYOUT_UNEXPECTED] * 3, "date": [date(2026, 11, 20)] * 3,
                            "sender": [""] * 3, "depositor": ["홍길동"] * 3, "pg": [""] * 3,
                            "received": [50_000, 70_000, 50_000], "difference": [50_000, 70_000, 50_000],
                            "expected": [0, 0, 0]})
    keys = match.payout_keys(checked)
    assert keys.nunique() == 3


def test_an_expected_payout_keeps_its_key_across_statements():
    one = pd.DataFrame({"status": [payouts.PAYOUT_SHORT], "date": [date(2026, 11, 20)], "sender": ["토스페이먼츠"],
                        "depositor": ["토스페이먼츠"], "pg": ["tosspayments"], "received": [9_000],
                        "difference": [-1_000], "expected": [10_000]})
    other = one.assign(received=[8_000], difference=[-2_000])
    assert match.payout_keys(one).iloc[0] == match.payout_keys(other).iloc[0]


def test_a_workbook_with_an_all_empty_column_is_still_made():
    """The month-end download failed silently: a column of pandas' text NA measured as NaN wide."""
    df = pd.DataFrame({"memo": pd.Series([pd.NA, pd.NA], dtype="string"), "amount": [1_000, 2_000]})
    wb = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_book([("예외", df)])))
    assert [c.value for c in wb["예외"][1]] == ["memo", "amount"]


def _sheet_without_references(rows: int, cols: int) -> str:
    """Valid OOXML whose cells carry no r="A1": calamine places them one after another."""
    cell = "<c><v>1</v></c>" * cols
    body = "".join(f"<row>{cell}</row>" for _ in range(rows))
    return ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{body}</sheetData></worksheet>')


def test_cells_without_references_are_counted_while_the_sheet_streams():
    limits = grid.UploadLimits(max_excel_cells=100_000, max_xlsx_ratio=10**6)   # the attack passes the ratio
    data = _xlsx(_sheet_without_references(5_000, 40))            # 200,000 cells, no reference, no dimension
    tracemalloc.start()
    with pytest.raises(grid.ReconFileError, match="200,000 cells"):
        read.read_file(data, "x.xlsx", limits)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 1024 * 1024                                 # refused before any grid is built


def test_one_wide_row_and_many_short_ones_count_as_their_grid():
    """A sheet of one row of 2,000 cells and 1,000 rows of one: calamine's grid is 1,001 × 2,000."""
    sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row>' + "<c><v>1</v></c>" * 2_000 + "</row>" + "<row><c><v>1</v></c></row>" * 1_000
             + "</sheetData></worksheet>")
    with pytest.raises(grid.ReconFileError, match="1,001 rows × 2,000 columns"):
        read.read_file(_xlsx(sheet), "x.xlsx", grid.UploadLimits(max_excel_cells=1_000_000, max_xlsx_ratio=10**6))


def test_an_html_page_past_its_limit_is_refused_before_its_tree_is_built():
    """A 39 MB HTML table of tiny cells took 1.3 GB above the idle server to parse; the limit keeps it unread."""
    row = "<tr>" + "".join(f"<td>{i}</td>" for i in range(40)) + "</tr>"
    data = ("<html><body><table>" + row * (16_000_000 // len(row)) + "</table></body></html>").encode()
    with pytest.raises(grid.ReconFileError, match="HTML page"):
        read.read_file(data, "x.xls")
