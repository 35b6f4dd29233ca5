"""The sheets of an Excel workbook (.xlsx, or BIFF .xls) as rows of text cells, bounded before any grid is built:
what an .xlsx unpacks to, and every sheet's rows, columns and cells counted from its XML while it streams (a cell's
``r="A1"`` is optional, so references alone do not tell a sheet's size); every visible sheet looked at and the one
holding the transactions read (a summary sheet first is common). Library: python-calamine."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

from lib.domain.i18n import _
from lib.domain.text import clean
from lib.reports.recon.grid import ReconFileError, UploadLimits, _data_like

if TYPE_CHECKING:
    from python_calamine import CalamineWorkbook


# ------------------------------------------------------------------ Excel
MAX_SHEETS = 30                  # sheets looked at in one workbook
SCORE_ROWS = 300                 # rows of each sheet looked at to tell the transactions from a summary


def _sheet_parts(z: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(name, part) of every sheet in workbook order (as calamine reads them), from workbook.xml and its rels."""
    try:
        wb = z.read("xl/workbook.xml")[:1 << 20].decode("utf-8", "ignore")
        rels = z.read("xl/_rels/workbook.xml.rels")[:1 << 20].decode("utf-8", "ignore")
    except KeyError:
        return []
    out = []
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)>", wb):
        attrs = m.group(1)
        rid = re.search(r"\br:id=\"([^\"]+)\"", attrs)
        name = re.search(r"\bname=\"([^\"]*)\"", attrs)
        if not rid:
            continue
        t = re.search(r"<Relationship\b[^>]*?\bId=\"" + re.escape(rid.group(1)) + r"\"[^>]*?\bTarget=\"([^\"]+)\"", rels) \
            or re.search(r"<Relationship\b[^>]*?\bTarget=\"([^\"]+)\"[^>]*?\bId=\"" + re.escape(rid.group(1)) + r"\"", rels)
        if t:
            target = t.group(1)
            out.append((name.group(1) if name else "", target.lstrip("/") if target.startswith("/") else "xl/" + target))
    return out


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


_TAG = re.compile(rb"<(?:\w+:)?(row|c|dimension)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"\b(?:r|ref)=\"(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})?([0-9]{1,7})\"")


def sheet_extent(z: zipfile.ZipFile, part: str) -> tuple[int, int, int]:
    """(rows, columns, cells) the sheet's XML holds, read a megabyte at a time with nothing of the grid built. Rows
    and columns count what the references say *and* what is there without one (a cell's ``r="A1"`` is optional:
    calamine places such cells one after another), so a sheet cannot hide its size by leaving references out."""
    rows = cols = cells = 0
    row_tags = in_row = 0
    tail = b""
    with z.open(part) as f:
        while True:
            chunk = f.read(1 << 20)
            buf = tail + chunk
            cut = buf.rfind(b"<") if chunk else len(buf)
            if cut <= 0 and chunk:
                tail = buf
                continue
            for m in _TAG.finditer(buf, 0, cut):
                tag, attrs = m.group(1), m.group(2)
                ref = _REF.search(attrs)
                if tag == b"c":
                    cells += 1
                    in_row += 1
                    cols = max(cols, in_row, _col_number(ref.group(1)) if ref and ref.group(1) else 0)
                    if ref:
                        rows = max(rows, int(ref.group(2)))
                        if ref.group(1):
                            in_row = _col_number(ref.group(1))
                elif tag == b"row":
                    row_tags += 1
                    in_row = 0
                    rows = max(rows, row_tags, int(ref.group(2)) if ref else 0)
                elif ref:                                          # <dimension ref="A1:K200">
                    rows = max(rows, int(ref.group(2)))
                    cols = max(cols, _col_number(ref.group(1)) if ref.group(1) else 0)
            tail = buf[cut:]
            if not chunk:
                break
    return rows, cols, cells


def _check_xlsx(data: bytes, label: str, limits: UploadLimits) -> None:
    """Everything bounded before calamine builds a grid: what the zip unpacks to, and every sheet's extent and cells."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > limits.max_xlsx_unpacked or unpacked > limits.max_xlsx_ratio * max(len(data), 1):
                raise ReconFileError(_("{label} would unpack to {v2:,.0f} MB, far more than a real settlement "
                                       "sheet; it is not read. Export it again as CSV.").format(
                    label=label, v2=unpacked / 1000000.0))
            parts = _sheet_parts(z)
            names = set(z.namelist())
            if not parts or any(part not in names for _n, part in parts):
                raise ReconFileError(_("{label} is not a readable Excel file (a damaged .xlsx).").format(label=label))
            for name, part in parts[:MAX_SHEETS]:
                n_rows, n_cols, n_cells = sheet_extent(z, part)
                _check_cells(max(n_rows * n_cols, n_cells), n_rows, n_cols, label, name, limits)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        raise ReconFileError(_("{label} is not a readable Excel file (a damaged .xlsx).").format(
            label=label)) from None


def _excel_failed(label: str) -> ReconFileError:
    return ReconFileError(_("{label} could not be read as an Excel file: it may be damaged or protected by a "
                            "password. Open it in Excel, save it as .xlsx and upload again.").format(label=label))


def _sheet_rows(wb: CalamineWorkbook, name: str, label: str, limits: UploadLimits, *, xlsx: bool,
                nrows: int) -> tuple[list[list[str]], list[int]]:
    sheet = wb.get_sheet_by_name(name)
    if not xlsx:
        n_rows = sheet.end[0] + 1 if sheet.end else 0
        n_cols = sheet.end[1] + 1 if sheet.end else 0
        _check_cells(n_rows * n_cols, n_rows, n_cols, label, name, limits)
    first = (sheet.start or (0, 0))[0]
    rows = sheet.to_python(skip_empty_area=True, nrows=nrows)
    return [[_cell(v) for v in r] for r in rows], list(range(first + 1, first + 1 + len(rows)))


def _read_excel(data: bytes, label: str, limits: UploadLimits, *, xlsx: bool,
                sheet: str | None = None) -> tuple[list[list[str]], list[int], str, list[str]]:
    """(rows, their numbers, the sheet read, the sheets that hold transactions). Every visible sheet is looked at:
    the one with the most rows that read as transactions (a day and an amount) is read — a summary sheet first is
    common — unless ``sheet`` names another."""
    from python_calamine import CalamineWorkbook
    if xlsx:
        _check_xlsx(data, label, limits)
    full = limits.max_rows + limits.header_scan_rows + 2
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in wb.sheets_metadata if str(m.visible).endswith("Visible")][:MAX_SHEETS] \
            or list(wb.sheet_names[:1])
        if sheet is not None and sheet in wb.sheet_names:
            rows, numbers = _sheet_rows(wb, sheet, label, limits, xlsx=xlsx, nrows=full)
            return rows, numbers, sheet, [sheet]
        scored = []
        for name in names:
            head, _n = _sheet_rows(wb, name, label, limits, xlsx=xlsx, nrows=SCORE_ROWS)
            scored.append((sum(1 for r in head if _data_like(r)), name))
        qualifying = [n for sc, n in sorted(scored, key=lambda t: -t[0]) if sc >= 3]
        pick = qualifying[0] if qualifying else names[0]
        rows, numbers = _sheet_rows(wb, pick, label, limits, xlsx=xlsx, nrows=full)
    except ReconFileError:
        raise
    except MemoryError:
        raise ReconFileError(_("{label} needs more memory to read than this server allows for one file. Export it "
                               "as CSV, or split it by date.").format(label=label)) from None
    except BaseException as e:  # calamine raises its own error types, and a Rust panic is a BaseException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise _excel_failed(label) from None
    return rows, numbers, pick, qualifying or [pick]


def _check_cells(n_cells: int, n_rows: int, n_cols: int, label: str, sheet: str, limits: UploadLimits) -> None:
    if n_cells > limits.max_excel_cells:
        raise ReconFileError(_("{label}: the sheet “{sheet}” spans {rows:,} rows × {cols:,} columns ({cells:,} cells); "
                               "at most {max_cells:,} cells are read from Excel. Delete what lies outside the table, "
                               "or export it as CSV.").format(label=label, sheet=sheet[:40], rows=n_rows, cols=n_cols,
                                                              cells=n_cells, max_cells=limits.max_excel_cells))


def _cell(v: object) -> str:
    """An Excel cell as the text a person sees: 12000.0 → "12000", a date → 2026-11-20."""
    from datetime import date, datetime, time
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.strftime("%Y-%m-%d")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    return clean(str(v)) if not isinstance(v, str) else v.replace("\x00", "")


