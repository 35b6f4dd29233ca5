"""The table inside any file the team downloads, told by its bytes: .xlsx (its extent read before any grid is built),
BIFF .xls, HTML saved as .xls, and text in any Korean encoding with any delimiter."""

from __future__ import annotations

import codecs
import csv
import re
from typing import Any

import numpy as np

from lib.domain.i18n import _
from lib.reports.recon.excel import _read_excel
from lib.reports.recon.grid import (
    LIMITS,
    TOTAL_RX,
    ReconFileError,
    Table,
    UploadLimits,
    _finish,
    _from_grid,
    _header_names,
    _pick_header,
    _score,
    header_cells,
    label_of,
)


def read_table(data: bytes, filename: str, *, header_words: frozenset[str] = frozenset(),
               header_row: int | None = None, limits: UploadLimits = LIMITS, sheet: str | None = None) -> Table:
    """The table in ``data``: the format is told by the bytes, not the name (.xls files are often HTML).
    ``header_words`` (normalised with ``norm_header``) find the header row; ``header_row`` (as a person numbers
    rows) overrides it. Raises ReconFileError with one sentence for anything it cannot read safely."""
    label = label_of(filename)
    if not data:
        raise ReconFileError(_("{label} is empty.").format(label=label))
    if len(data) > limits.max_bytes:
        raise ReconFileError(_("{label} is {v2:,.0f} MB; files up to {v4:,.0f} MB can be read. Split it by date.").format(
            label=label, v2=len(data) / 1000000.0, v4=limits.max_bytes / 1000000.0))
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    excel = {b"PK": True, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": False}
    for magic, xlsx in excel.items():
        if data[:len(magic)] == magic:
            if not xlsx and len(data) > limits.max_xls_bytes:
                raise ReconFileError(_("{label} is an old Excel file (.xls) of {v2:,.0f} MB; such files are read up "
                                       "to {v4:,.0f} MB. Save it from Excel as .xlsx or CSV.").format(
                    label=label, v2=len(data) / 1000000.0, v4=limits.max_xls_bytes / 1000000.0))
            rows, numbers, name, sheets = _read_excel(data, label, limits, xlsx=xlsx, sheet=sheet)
            table = _from_grid(rows, numbers, "xlsx" if xlsx else "xls", label, header_words, header_row, limits)
            table.sheet, table.sheets = name, sheets
            return table
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<meta", b"<head", b"<body", b"<style")) or \
            (head.startswith(b"<") and b"<table" in data[:65536].lower()):
        return _from_grid(*_read_html(data, label, limits), "html", label, header_words, header_row, limits)
    if head.startswith(b"<?xml"):
        raise ReconFileError(_("{label} is an XML spreadsheet (Excel 2003): open it in Excel and save it as .xlsx, "
                               "then upload again.").format(label=label))
    return _read_text(data, label, header_words, header_row, limits)


# ------------------------------------------------------------------ HTML saved as .xls
def _decode_markup(data: bytes) -> str:
    m = re.search(rb"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", data[:4096], re.IGNORECASE)
    tries = ([m.group(1).decode("ascii", "ignore")] if m else []) + ["utf-8", "cp949"]
    for enc in tries:
        try:
            return data.decode("cp949" if enc.lower().replace("-", "") in ("euckr", "ksc56011987") else enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", "replace")


def _read_html(data: bytes, label: str, limits: UploadLimits) -> tuple[list[list[str]], list[int]]:
    """The largest table of an HTML page (what KB국민's "엑셀 저장" gives), cell texts as shown, colspans
    spread so the columns stay aligned. Written with lxml directly rather than ``pandas.read_html``, which turns
    order numbers and account numbers into numbers (leading zeros and long ids lost)."""
    import lxml.html
    if len(data) > limits.max_html_bytes:
        raise ReconFileError(_("{label} is an HTML page of {v2:,.0f} MB; such pages are read up to {v4:,.0f} MB. "
                               "Save it from Excel as .xlsx or CSV.").format(
            label=label, v2=len(data) / 1000000.0, v4=limits.max_html_bytes / 1000000.0))
    try:
        doc = lxml.html.document_fromstring(_decode_markup(data))
    except Exception:  # lxml's parser errors
        raise ReconFileError(_("{label} looks like a web page but holds no readable table.").format(
            label=label)) from None
    tables = doc.xpath("//table[not(descendant::table)]")
    if not tables:
        raise ReconFileError(_("{label} looks like a web page but holds no readable table.").format(label=label))
    table = max(tables, key=lambda t: len(t.xpath(".//tr")))
    rows: list[list[str]] = []
    for tr in table.xpath(".//tr"):
        cells: list[str] = []
        for td in tr.xpath("./td|./th"):
            text = " ".join(td.text_content().split())
            try:
                span = max(1, min(int(td.get("colspan", "1")), limits.max_cols))
            except ValueError:
                span = 1
            cells.extend([text] + [""] * (span - 1))
        rows.append(cells)
        if len(rows) > limits.max_rows + limits.header_scan_rows:
            raise ReconFileError(_("{label} has more than {max_rows:,} rows; split it by date.").format(
                label=label, max_rows=limits.max_rows))
    return rows, list(range(1, len(rows) + 1))


# ------------------------------------------------------------------ text (CSV, TSV, pipe)
ENCODINGS_OK = ("utf_8", "cp949", "euc_kr", "utf_16", "utf_16_le", "utf_16_be", "johab", "iso2022_kr")


_NOT_SPACE = np.ones(256, dtype=bool)
_NOT_SPACE[[9, 10, 11, 12, 13, 32]] = False                      # what bytes.strip() takes away


def _only_space(raw: np.ndarray) -> bool:
    """Whether the bytes are all whitespace, looked at a megabyte at a time (the first row usually answers)."""
    step = 1 << 20
    return not any(_NOT_SPACE[raw[i:i + step]].any() for i in range(0, len(raw), step))


def _transcode(data: bytes, enc: str, *, keep: bool) -> bytearray | None:
    """``data`` read as ``enc``, a megabyte at a time, as UTF-8 bytes (``keep``) or only checked (None): a 100 MB
    file never becomes one Python string (Korean text as ``str`` takes two to four bytes a character)."""
    dec = codecs.getincrementaldecoder(enc)()
    out = bytearray() if keep else None
    step = 1 << 20
    for i in range(0, len(data), step):
        piece = dec.decode(data[i:i + step])
        if out is not None:
            out += piece.encode("utf-8")
    tail = dec.decode(b"", final=True)
    if out is not None:
        out += tail.encode("utf-8")
        return out
    return None


def decode_text(data: bytes, label: str) -> tuple[bytes | bytearray, str]:
    """(the text as UTF-8 bytes, the encoding it was in): a BOM first, then UTF-8, then CP949 (Korean banks'
    default), then what charset-normalizer finds on a sample, if it is a Korean or Unicode encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            _transcode(data[3:], "utf-8", keep=False)
            return data[3:], "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError:
            raise ReconFileError(_("{label} is damaged UTF-16 text.").format(label=label)) from None
    if b"\x00" not in data[:65536]:
        for enc in ("utf-8", "cp949"):
            try:
                return (data if enc == "utf-8" and _transcode(data, enc, keep=False) is None
                        else _transcode(data, enc, keep=True) or bytearray()), enc
            except UnicodeDecodeError:
                continue
    from charset_normalizer import from_bytes
    best = from_bytes(data[:262144], cp_isolation=list(ENCODINGS_OK)).best()
    if best is not None and best.encoding in ENCODINGS_OK:
        try:
            return _transcode(data, best.encoding, keep=True) or bytearray(), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    if b"\x00" in data[:65536]:
        raise ReconFileError(_("{label} is not a text file (it holds binary data). Upload a CSV or Excel file.").format(
            label=label))
    raise ReconFileError(_("{label} is neither UTF-8 nor CP949 (EUC-KR) text: save it as CSV in one of those "
                           "and upload again.").format(label=label))


def sniff_delimiter(lines: list[str], words: frozenset[str]) -> str:
    """The delimiter: the one under which a line names the most known columns; else what clevercsv detects on
    the sample (a title block above the table does not fool it); else a comma."""
    best, score = None, 1
    for d in (",", "\t", "|", ";"):
        s = max((_score(next(csv.reader([ln], delimiter=d), []), words) for ln in lines), default=0)
        if s > score:
            best, score = d, s
    if best:
        return best
    try:
        import clevercsv
        dialect = clevercsv.Detector().detect("\n".join(lines), delimiters=[",", "\t", "|", ";"])
        if dialect is not None and dialect.delimiter in (",", "\t", "|", ";"):
            return dialect.delimiter
    except Exception:  # clevercsv's own errors on odd samples
        pass
    return ","


def _plain_text(data: bytes) -> tuple[str, str] | None:
    """(encoding, the first 64 KB as text) when the file can be parsed as it is: UTF-8 (no BOM), or CP949 whose
    beginning reads as CP949 — then the cells are read from the CP949 bytes and only the few distinct non-ASCII
    values are decoded (``_decoded``), instead of transcoding the whole file in Python (a 75 MB file: 0.4 CPU-s).
    CP949's bytes never make a comma, a quote or a line break inside a character, so the CSV reads the same. None:
    what ``decode_text`` finds (a BOM, UTF-16, another encoding)."""
    if data[:3] == b"\xef\xbb\xbf" or data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:65536]:
        return None
    try:
        _transcode(data, "utf-8", keep=False)
        return "utf-8", data[:65536].decode("utf-8", "ignore")
    except UnicodeDecodeError:
        pass
    try:
        return "cp949", codecs.getincrementaldecoder("cp949")().decode(data[:65536])   # a cut character waits
    except UnicodeDecodeError:
        return None


_DISTINCT_MAX = 50_000     # a CP949 column of more distinct non-ASCII values than this: the file is transcoded whole


def _decoded(table: Any, encoding: str) -> Any:
    """The cells of a table parsed from ``encoding``'s bytes as text: ASCII columns as they are (no copy), the others
    through their distinct values, each decoded strictly. None when a value is not ``encoding`` or a column has too
    many distinct values: the file is then read the careful way."""
    import pyarrow as pa
    import pyarrow.compute as pc
    cols = []
    for col in table.columns:
        text = pa.chunked_array([c.view(pa.large_string()) for c in col.chunks], pa.large_string())
        if pc.all(pc.string_is_ascii(text)).as_py() is not False:
            cols.append(text)
            continue
        enc = pc.dictionary_encode(col).combine_chunks()
        if len(enc.dictionary) > _DISTINCT_MAX:
            return None
        try:
            words = pa.array([v.decode(encoding) for v in enc.dictionary.to_pylist()], pa.large_string())
        except UnicodeDecodeError:
            return None
        cols.append(words.take(enc.indices))
    return pa.table(cols, names=table.column_names)


def _read_text(data: bytes, label: str, words: frozenset[str], header_row: int | None, limits: UploadLimits,
               *, as_is: bool = True) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    plain = _plain_text(data) if as_is else None
    body: bytes | bytearray
    if plain is not None:                                 # parsed from the file's own bytes
        body, (encoding, head) = data, plain
    else:
        body, encoding = decode_text(data, label)
        if body.startswith(b"\xef\xbb\xbf"):            # a BOM left inside (UTF-16 with one, a BOM twice)
            body = body[3:]
        head = body[:65536].decode("utf-8", "ignore")     # a character cut at the end is dropped, not refused
    raw_cp949 = plain is not None and encoding != "utf-8"
    sample = [ln.rstrip("\r") for ln in head.split("\n")[: limits.header_scan_rows * 2]]
    filled = [(i + 1, ln) for i, ln in enumerate(sample) if ln.strip()]
    if not filled:
        raise ReconFileError(_("{label} has no text.").format(label=label))
    delim = sniff_delimiter([ln for _n, ln in filled], words)
    rows = [next(csv.reader([ln], delimiter=delim), []) for _n, ln in filled]
    numbers = [n for n, _ln in filled]
    top, h, guessed = _pick_header(rows, numbers, words, header_row, label, limits)
    header_line = numbers[h]
    names = _header_names(header_cells(rows, top, h), label, limits)
    title = [c.strip() for r in rows[:top] for c in r if c.strip()]
    # Byte offsets of every line: the table starts on the line after the header.
    raw = np.frombuffer(body, dtype=np.uint8)
    step = 8 << 20                                        # a mask of 8 MB at a time, not one the size of the file
    ends = np.concatenate([np.flatnonzero(raw[i:i + step] == 10) + i for i in range(0, len(raw), step)] or
                          [np.zeros(0, dtype=np.int64)])
    starts = np.concatenate(([0], ends + 1))
    if header_line >= len(starts):
        raise ReconFileError(_("{label} has a header line but no rows.").format(label=label))
    first_row = int(starts[header_line])
    if _only_space(raw[first_row:]):
        raise ReconFileError(_("{label} has a header line but no rows.").format(label=label))
    after = pa.py_buffer(body).slice(first_row)                 # the rows, without copying the text
    line_no = np.arange(header_line + 1, len(starts) + 1)
    seg_starts = starts[header_line:]
    seg_ends = np.concatenate((ends[header_line:], [len(body)]))[: len(seg_starts)]
    lens = seg_ends - seg_starts
    first = raw[np.minimum(seg_starts, max(len(raw) - 1, 0))] if len(raw) else np.array([], dtype=np.uint8)
    empty = (lens == 0) | ((lens == 1) & (first == 13))
    if len(seg_starts) and seg_starts[-1] >= len(body):
        empty[-1] = True
    kept_lines = line_no[~empty]
    bad: list[tuple[int | None, str]] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text or ""))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            after,
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads, block_size=8 << 20),
            # From CP949 bytes a ragged row fails the parse (Arrow would hand its text over as UTF-8): the careful way
            parse_options=pacsv.ParseOptions(delimiter=delim, invalid_row_handler=None if raw_cp949 else invalid,
                                             newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(column_types={c: cell for c in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    cell = pa.large_binary() if raw_cp949 else pa.large_string()
    if raw_cp949 and delim not in (",", "\t", ";"):      # "|" is also the second byte of some CP949 characters
        return _read_text(data, label, words, header_row, limits, as_is=False)
    if raw_cp949:
        try:
            table = parse(True)
        except (pa.ArrowInvalid, pa.ArrowException):         # a ragged row, a quote left open: the careful way
            return _read_text(data, label, words, header_row, limits, as_is=False)
    try:
        if not raw_cp949:
            table = parse(True)
        if bad:                                   # the numbers of skipped rows are known single-threaded only
            bad.clear()
            table = parse(False)
    except (pa.ArrowInvalid, pa.ArrowException) as e:
        raise ReconFileError(_("{label} could not be read as CSV: {v2}").format(label=label, v2=str(e)[:200])) from None
    if raw_cp949:
        table = _decoded(table, encoding)
        if table is None:
            return _read_text(data, label, words, header_row, limits, as_is=False)
    if table.num_rows > limits.max_rows:
        raise ReconFileError(_("{label} has {num_rows:,} rows; at most {max_rows:,} can be read at once. Split it by "
                               "date.").format(label=label, num_rows=table.num_rows, max_rows=limits.max_rows))
    skipped = [n for n, _t in bad if n is not None]
    keep = np.ones(len(kept_lines), dtype=bool)
    for n in skipped:
        if 1 <= n <= len(keep):
            keep[n - 1] = False
    lines = kept_lines[keep]
    ragged = [(int(kept_lines[n - 1]) if n and 1 <= n <= len(kept_lines) else None, t) for n, t in bad]
    for line, t in ragged:                         # a short row that is a note, a title or a total is no data
        cells = [c for c in next(csv.reader([t], delimiter=delim), []) if c.strip()]
        if len(cells) >= 3 and not any(TOTAL_RX.match(c) for c in cells):
            raise ReconFileError(_("{label}: line {line} has {n} fields where the header has {m}.").format(
                label=label, line=line if line is not None else "?", n=len(next(csv.reader([t], delimiter=delim), [])),
                m=len(names)))
    df = table.to_pandas()
    df.index = lines[: len(df)] if len(lines) >= len(df) else range(header_line + 1, header_line + 1 + len(df))
    out = _finish(df, header_line, "csv", label, title=title, guessed=guessed, encoding=encoding, delimiter=delim)
    notes = [line for line, _t in ragged if line is not None]
    if notes:
        out.dropped.setdefault("note", []).extend(notes)
    return out
