"""Finding the table in a file a bank or a PG really produces.

Real downloads are not clean CSVs: a title block above the table (account, period, "거래내역조회"), blank rows, the
header repeated on every printed page, a 합계 row at the foot, notes under it; KB국민's web-banking ".xls" is an HTML
table; Excel sheets carry styles and stray cells far away; text comes in CP949, UTF-8 with or without a BOM, or
UTF-16. ``read_table`` turns any of them into one frame of text cells whose index is the row number as Excel or a
text editor shows it, under the header row it found (or the one the operator chose), and says what it left out.

Everything is bounded *before* a grid is built: the file's bytes, what an .xlsx would unpack to, the cells the first
sheet spans (read from the sheet's XML without building it — a single far-corner cell would otherwise make the
reader allocate the whole 16,384 × 1,048,576 grid and abort the process), rows, columns and the size of an HTML page.
Libraries: python-calamine (Excel), lxml (HTML tables), clevercsv (delimiter), charset-normalizer (encoding),
pyarrow (the bulk of a text file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.domain.errors import DeskError
from lib.domain.i18n import _
from lib.domain.text import clean
from lib.reports.recon.words import norm_header


class ReconFileError(DeskError):
    """The file cannot be read; the message names the row and column when it can."""


@dataclass(frozen=True)
class UploadLimits:
    """What an uploaded file may be. Checked before and while parsing, so a hostile file ends in one
    sentence instead of minutes of CPU and gigabytes of memory."""

    max_bytes: int = 200 * 1024 * 1024              # also .streamlit/config.toml server.maxUploadSize (MB)
    max_rows: int = 1_200_000
    max_cols: int = 60
    max_header_chars: int = 100
    max_xlsx_unpacked: int = 600 * 1024 * 1024      # what the .xlsx (a zip) would unpack to
    max_xlsx_ratio: int = 200                       # unpacked / packed: a zip bomb is far above real sheets
    max_excel_cells: int = 3_000_000                # cells a sheet may hold (~0.5 GB to read; larger: export as CSV)
    max_html_bytes: int = 15 * 1024 * 1024          # an HTML table saved as .xls (its tree takes ~30x its size)
    max_xls_bytes: int = 60 * 1024 * 1024           # BIFF .xls: calamine loads it whole (65,536 rows a sheet at most)
    header_scan_rows: int = 60                      # where the header row is looked for


LIMITS = UploadLimits()


TOTAL_RX = re.compile(r"^\s*[\[(<]?\s*(총\s*합\s*계|합\s*계|소\s*계|총\s*계|누\s*계|일\s*계|total|subtotal|sum)\b",
                      re.IGNORECASE)


@dataclass
class Table:
    """The cells of the table found in a file (text), indexed by the row number a person sees."""

    df: pd.DataFrame
    header_row: int
    fmt: str                                       # xlsx | xls | html | csv
    encoding: str | None = None
    delimiter: str | None = None
    title: list[str] = field(default_factory=list)  # the texts above the header (bank, account, period)
    dropped: dict[str, list[int]] = field(default_factory=dict)   # blank / total / note / repeated_header → rows
    header_guessed: bool = False                   # no known column name was found: the first full row was taken
    sheet: str | None = None                       # the workbook's sheet read
    sheets: list[str] = field(default_factory=list)   # the sheets that hold transactions (a picker when several)

    @property
    def columns(self) -> list[str]:
        return list(self.df.columns)


def label_of(filename: str | None) -> str:
    return f"“{(filename or _('the file'))[:80]}”"


# ------------------------------------------------------------------ header row and clean-up (every format)
def _score(cells: list[str], words: frozenset[str]) -> int:
    return sum(1 for c in cells if c and norm_header(c) in words)


def _data_like(row: list[str]) -> bool:
    """A row that reads as a transaction: a day and an amount among its cells (a day may be an Excel serial number
    with its time, 46328.54616: a bare integer could as well be an amount, so it does not count here)."""
    from lib.reports.recon.cells import amount_of, day_of, serial_day
    day = money = False
    for c in row:
        c = c.strip() if isinstance(c, str) else str(c)
        if not c:
            continue
        if not day and (day_of(c) or ("." in c and serial_day(c))):
            day = True
        elif not money and amount_of(c) is not None:
            money = True
        if day and money:
            return True
    return False


def find_header(rows: list[list[str]], words: frozenset[str], scan: int) -> tuple[int, int, bool]:
    """(top, bottom, guessed): the header row(s) among ``rows``. The header is the row just above the first run of
    rows that read as transactions (a day and an amount) — found by the cells, whatever the column names — and
    two rows when the one above it completes it (a merged group header over 거래금액 / 수수료 / 부가세, or "입금액"
    over "(원)"). Without such rows: the row naming the most known columns (two at least), else the first row with
    two or more filled cells (``guessed``)."""
    filled = [sum(1 for c in r if str(c).strip()) for r in rows[:scan + 3]]
    data = [_data_like(r) for r in rows[:scan + 3]]
    for i in range(1, min(len(data), scan + 1)):
        nxt = data[i:i + 3]
        if not data[i] or sum(nxt) < min(2, len(nxt)):
            continue
        h = i - 1
        while h >= 0 and (data[h] or filled[h] < 2):
            h -= 1
        if h < 0:
            break
        top = h
        if h >= 1 and not data[h - 1] and filled[h - 1] >= 2 and _completes(rows[h - 1], rows[h]):
            top = h - 1
        return top, h, False
    best, best_i = 1, -1
    for i, r in enumerate(rows[:scan]):
        sc = _score(r, words)
        if sc > best:
            best, best_i = sc, i
    if best_i >= 0:
        return best_i, best_i, False
    for i, r in enumerate(rows[:scan]):
        if sum(1 for c in r if c.strip()) >= 2:
            return i, i, True
    return 0, 0, True


_UNIT = re.compile(r"^\s*[(\[]?\s*(원|krw|₩|천원|건|%)\s*[)\]]?\s*$", re.IGNORECASE)


def _completes(top: list[str], bottom: list[str]) -> bool:
    """Whether ``top`` is the first row of a two-row header above ``bottom``: the bottom names what the top leaves
    empty (columns under a merged group cell) or only gives units, and the top names columns the bottom leaves empty."""
    w = max(len(top), len(bottom))
    t = [(top[j] if j < len(top) else "").strip() for j in range(w)]
    b = [(bottom[j] if j < len(bottom) else "").strip() for j in range(w)]
    under_empty = any(b[j] and not t[j] for j in range(w))
    units = any(b[j] and t[j] and _UNIT.match(b[j]) for j in range(w))
    over_empty = any(t[j] and not b[j] for j in range(w))
    return over_empty and (under_empty or units)


def join_header(top: list[str], bottom: list[str]) -> list[str]:
    """Two header rows as one: a merged group cell's name is spread over the columns under it and left out where
    the row below names each ("금액" over 거래금액 / 수수료 / 부가세); a unit below joins the name above ("입금액 (원)")."""
    w = max(len(top), len(bottom))
    t = [(top[j] if j < len(top) else "").strip() for j in range(w)]
    b = [(bottom[j] if j < len(bottom) else "").strip() for j in range(w)]
    out = []
    group = [""] * w                                   # the merged group cell each column sits under
    for j in range(w):
        group[j] = t[j] or (group[j - 1] if j and b[j] else "")
    repeated = {x for x in b if x and b.count(x) > 1}   # 부가세 under 결제금액 and under 수수료: named by their group
    for j in range(w):
        if b[j] in repeated and group[j]:
            out.append(f"{group[j]} {b[j]}")
            continue
        if not b[j]:
            out.append(t[j])
        elif not t[j] or _UNIT.match(b[j]) is None and (j + 1 < w and not t[j + 1] and b[j + 1]):
            out.append(b[j])                       # under a group cell: its own name
        elif _UNIT.match(b[j]):
            out.append(f"{t[j]} {b[j]}")
        else:
            out.append(b[j] if not t[j] else f"{t[j]} {b[j]}")
    return out


def _header_names(cells: list[str], label: str, limits: UploadLimits) -> list[str]:
    out: list[str] = []
    unnamed: set[str] = set()
    for i, h in enumerate(cells, start=1):
        h = clean(str(h if h is not None else ""))
        if len(h) > limits.max_header_chars:
            raise ReconFileError(_("{label}: the name of column {i} is {h:,} characters long; the first line should "
                                   "hold short column names.").format(label=label, i=i, h=len(h)))
        if not h:
            h = _("(column {i})").format(i=i)
            unnamed.add(h)
        out.append(h)
    if len(out) > limits.max_cols:
        raise ReconFileError(_("{label} has {out} columns; at most {max_cols} can be read.").format(
            label=label, out=len(out), max_cols=limits.max_cols))
    seen: dict[str, int] = {}
    for i, h in enumerate(out, start=1):
        if h in seen:
            if h in unnamed:
                continue
            raise ReconFileError(_("{label} has the column “{v2}” twice (columns {v4} and {i}): rename one, so it is "
                                   "clear which one to use.").format(label=label, v2=h[:40], v4=seen[h], i=i))
        seen[h] = i
    return out


def _pick_header(rows: list[list[str]], numbers: list[int], words: frozenset[str], header_row: int | None, label: str,
                 limits: UploadLimits) -> tuple[int, int, bool]:
    """(top, bottom, guessed) as indices of ``rows``; the person's own header row, when given, is one row."""
    if header_row is not None:
        if header_row not in numbers:
            raise ReconFileError(_("{label} has no row {n} with text in it to use as the header.").format(
                label=label, n=header_row))
        i = numbers.index(header_row)
        return i, i, False
    return find_header(rows, words, limits.header_scan_rows)


def header_cells(rows: list[list[str]], top: int, bottom: int) -> list[str]:
    return list(rows[bottom]) if top == bottom else join_header(rows[top], rows[bottom])


TOTAL_RE2 = r"(?i)^\s*[\[(<]?\s*(총\s*합\s*계|합\s*계|소\s*계|총\s*계|누\s*계|일\s*계|total|subtotal|sum)(?:$|[^\p{L}\p{N}])"


def _total_starts() -> object:
    """How a total's cell can begin (after its spaces): a bracket, or the first two characters of a total word in any
    case, or its first with a space after it (합 계). RE2 folds case the Unicode way (ſ is an s); its \\s is ASCII."""
    import pyarrow as pa
    starts: set[str] = set()
    for w in ("총합계", "합계", "소계", "총계", "누계", "일계"):
        starts |= {w[:2], *(w[0] + sp for sp in " \t\n\f\r")}
    for w in ("total", "subtotal", "sum"):
        for a in {w[0], w[0].upper(), *(("\u017f",) if w[0] == "s" else ())}:
            starts |= {a + w[1], a + w[1].upper()}
    return pa.array(sorted(starts), pa.string())


_TOTAL_START = _total_starts()


def _marks(col: pd.Series, name: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One column's cells: (empty, a total word, the column's own name or empty), as numpy masks."""
    import pyarrow as pa
    import pyarrow.compute as pc
    try:                                   # arrow-backed text (pandas' str dtype): no copy
        raw = pa.array(col.array) if hasattr(col.array, "__arrow_array__") else None
    except (TypeError, pa.ArrowException):
        raw = None
    if raw is None or not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        raw = pa.array(col.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    arr = pc.fill_null(pc.utf8_trim_whitespace(raw), "")
    empty = pc.equal(arr, "").to_numpy(zero_copy_only=False)
    # The regular expression only where a total can begin (its first two characters): a million ids or amounts are
    # one cheap pass instead of a regular expression each (measured: 0.04–0.08 CPU-s a column).
    two = pc.utf8_slice_codeunits(arr, 0, 2)
    maybe = pc.is_in(two, value_set=_TOTAL_START)
    for b in "[(<":
        maybe = pc.or_(maybe, pc.starts_with(two, b))
    total = np.zeros(len(arr), dtype=bool)
    if pc.any(maybe).as_py():
        at = pc.indices_nonzero(maybe)
        total[at.to_numpy()] = pc.match_substring_regex(arr.take(at), TOTAL_RE2).to_numpy(zero_copy_only=False)
    header = pc.or_(pc.equal(arr, str(name).strip()), pc.equal(arr, "")).to_numpy(zero_copy_only=False)
    return empty, total, header


def tidy(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """Rows that are not data, taken out and named: blank, a 합계/소계/총계 row wherever the word stands, the header
    repeated (printed pages), a note with a single filled cell (under or inside the table). Column by column with
    pyarrow's kernels (RE2): a million rows cost a fraction of a second."""
    n = len(df)
    filled = np.zeros(n, dtype=np.int32)
    total = np.zeros(n, dtype=bool)
    header = np.ones(n, dtype=bool)
    columns = list(df.columns)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2, thread_name_prefix="tidy") as pool:     # Arrow's kernels let go of the GIL:
        marks = list(pool.map(lambda i: _marks(df.iloc[:, i], columns[i]), range(len(columns))))   # 2 at once
    for empty, is_total, is_header in marks:
        filled += ~empty
        total |= is_total
        header &= is_header
    blank = filled == 0
    header &= filled >= 2
    note = (filled == 1) & ~total
    masks = {"blank": blank, "total": total & ~blank, "repeated_header": header & ~total & ~blank,
             "note": note & ~header}
    gone = blank | total | header | note
    out = {k: [int(x) for x in df.index[v]] for k, v in masks.items() if v.any()}
    return (df[~gone] if gone.any() else df), out


def _from_grid(rows: list[list[str]], numbers: list[int], fmt: str, label: str, words: frozenset[str],
               header_row: int | None, limits: UploadLimits) -> Table:
    """A grid of text cells (Excel, HTML) → the table under its header row."""
    keep = [i for i, r in enumerate(rows) if any(c.strip() for c in r)]
    rows = [rows[i] for i in keep]
    numbers = [numbers[i] for i in keep]
    if not rows:
        raise ReconFileError(_("{label} has an empty first sheet.").format(label=label))
    top, h, guessed = _pick_header(rows, numbers, words, header_row, label, limits)
    width = max(len(r) for r in rows)
    if width > limits.max_cols * 4:
        raise ReconFileError(_("{label} has {header} columns; at most {max_cols} can be read.").format(
            label=label, header=width, max_cols=limits.max_cols))
    joined = header_cells(rows, top, h)
    head = joined + [""] * (width - len(joined))
    used = [j for j in range(width) if head[j].strip() or any(j < len(r) and r[j].strip() for r in rows[h + 1:])]
    names = _header_names([head[j] for j in used], label, limits)
    body = [[(r[j] if j < len(r) else "") for j in used] for r in rows[h + 1:]]
    if len(body) > limits.max_rows:
        raise ReconFileError(_("{label} has more than {max_rows:,} rows; split it by date.").format(
            label=label, max_rows=limits.max_rows))
    df = pd.DataFrame(body, columns=names, index=numbers[h + 1:], dtype=str) if body else \
        pd.DataFrame(columns=names, dtype=str)
    title = [c.strip() for r in rows[:top] for c in r if c.strip()]
    return _finish(df, numbers[h], fmt, label, title=title, guessed=guessed)


def _finish(df: pd.DataFrame, header_line: int, fmt: str, label: str, **kw: Any) -> Table:
    if len(df.columns) < 2:
        raise ReconFileError(_("{label} has fewer than two columns: is it a CSV file (comma, tab or semicolon "
                               "separated)?").format(label=label))
    df = df.fillna("").astype(str)
    df, dropped = tidy(df) if len(df) else (df, {})
    if df.empty:
        raise ReconFileError(_("{label} has a header line but no rows.").format(label=label))
    return Table(df=df, header_row=header_line, fmt=fmt, dropped=dropped, title=kw.get("title", []),
                 header_guessed=kw.get("guessed", False), encoding=kw.get("encoding"),
                 delimiter=kw.get("delimiter"))
