"""CSV and Excel exports that are safe to open: no cell from outside becomes a formula.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some programs, a tab or a
carriage return) as a formula: a merchant_uid ``=HYPERLINK("http://evil","x")`` would become a live link in the
team's Excel. Every *text* cell that starts so is written with a leading ``'`` (shown as text, as OWASP advises);
numbers the app computed stay numbers. The Excel writer is also told never to turn strings into formulas, URLs or
numbers. Excel files get dates as real dates (KST), amounts as numbers with a ₩ format, a frozen header row and an
autofilter.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from lib.domain.clock import KST

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_text(value: Any) -> Any:
    """A text cell that cannot run as a formula; anything that is not text is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns (and the header) neutralised; numeric and date columns untouched."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        out[col] = s.map(safe_text)
    out.columns = [safe_text(str(c)) for c in out.columns]
    return out


def _text_dates(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            s = out[col]
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_convert(KST)
            out[col] = s.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel shows Korean; amounts stay plain integers; dates as KST text."""
    # "\r\n" as the line end makes the writer quote every value holding a CR or an LF: a bare CR in a name
    # (홍길동\r=cmd…) can never start a new, live line in a reader that ends lines at CR.
    return safe_frame(_text_dates(df)).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "Sheet1", *, money: tuple[str, ...] | None = None) -> bytes:
    """An .xlsx with dates as dates (KST), ``money`` columns (default: those named with ₩ or KRW, or integer
    columns whose name says amount/fee/net) as numbers in ₩ format, a frozen header and an autofilter."""
    return to_xlsx_book([(sheet, df)], money=money)


def to_xlsx_book(sheets: list[tuple[str, pd.DataFrame]], *, money: tuple[str, ...] | None = None) -> bytes:
    """Several sheets in one workbook, each written as ``to_xlsx_bytes`` writes one (the first is shown first)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter", datetime_format="yyyy-mm-dd hh:mm:ss",
                        date_format="yyyy-mm-dd",
                        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False,
                                                   "strings_to_numbers": False}}) as xw:
        won = xw.book.add_format({"num_format": "₩#,##0;-₩#,##0"})
        for sheet, df in sheets:
            _write_sheet(xw, won, sheet[:31], df, money)
    return buf.getvalue()


def _write_sheet(xw: pd.ExcelWriter, won: Any, sheet: str, df: pd.DataFrame, money: tuple[str, ...] | None) -> None:
    out = safe_frame(df)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]) and getattr(out[col].dt, "tz", None) is not None:
            out[col] = out[col].dt.tz_convert(KST).dt.tz_localize(None)
    if money is None:
        words = ("₩", "krw", "amount", "금액", "fee", "수수료", "net", "gross", "refund", "환불")
        money = tuple(c for c in out.columns if pd.api.types.is_integer_dtype(out[c])
                      and any(w in str(c).lower() for w in words))
    out.to_excel(xw, index=False, sheet_name=sheet)
    ws = xw.sheets[sheet]
    for i, col in enumerate(out.columns):
        longest = out[col].astype(str).str.len().max() if len(out) else None
        # an all-empty column measures as NaN (pandas' text NA): a width from it failed the whole download
        width = max(12, min(40, int(longest) + 2)) if longest is not None and pd.notna(longest) else 14
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            width = 20
        ws.set_column(i, i, width, won if col in money else None)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(out), 1), max(len(out.columns) - 1, 0))
