"""Ad-hoc reconciliation: what the PG should settle (from I'mport's payments and the fee schedule)
and the matching of a PG settlement or bank file against it.

Matching key per file row: imp_uid, else merchant_uid, else pg_tid (the first that is present).
Four groups: matched; amount or fee mismatch; in the file but not in I'mport; in I'mport but not in
the file.
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Column, Float, MetaData, String, Table, Text, select
from sqlalchemy.dialects import postgresql, sqlite

from .audit import create_tables
from .fees import VAT_RATE_PERCENT, with_vat
from .clock import KST
from .settings import Rules
from .text import clean

FIELDS = ("date", "type", "amount", "fee", "imp_uid", "merchant_uid", "pg_tid")
REQUIRED = ("date", "amount")
DEPOSIT_WORDS = ("입금", "결제", "승인", "deposit", "paid", "payment", "pay")
REFUND_WORDS = ("환불", "취소", "refund", "cancel")
TOTAL_WORDS = ("합계", "소계", "총계", "total", "sum")
HEADER_GUESS = {
    "date": ("거래일자", "거래일", "일자", "날짜", "정산일", "입금일", "date", "paid_at", "day"),
    "type": ("구분", "거래구분", "유형", "type", "kind"),
    "amount": ("거래금액", "결제금액", "금액", "입금액", "amount", "gross"),
    "fee": ("수수료", "fee", "fees"),
    "imp_uid": ("imp_uid", "아임포트번호", "포트원거래번호"),
    "merchant_uid": ("주문번호", "merchant_uid", "가맹점주문번호", "order"),
    "pg_tid": ("pg거래번호", "거래번호", "pg_tid", "tid", "승인번호"),
}


class ReconFileError(Exception):
    """The file cannot be read; the message names the row and column when it can."""


@dataclass
class ColumnMap:
    date: str | None = None
    type: str | None = None
    amount: str | None = None
    fee: str | None = None
    imp_uid: str | None = None
    merchant_uid: str | None = None
    pg_tid: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------ reading
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


LIMITS = UploadLimits()


def read_table(data: bytes, filename: str, limits: UploadLimits = LIMITS) -> pd.DataFrame:
    """Every cell as text. CSV (comma, tab, semicolon or bar) in UTF-8 (with or without BOM) or CP949/EUC-KR;
    Excel .xlsx/.xls. Refuses, with one sentence, what it cannot read safely: too large, a zip bomb, UTF-16
    or binary data, duplicate or over-long headers, too many rows or columns, a header with no rows."""
    name = (filename or "").lower()
    label = f"“{(filename or 'the file')[:80]}”"
    if not data:
        raise ReconFileError(f"{label} is empty.")
    if len(data) > limits.max_bytes:
        raise ReconFileError(f"{label} is {len(data) / 1e6:,.0f} MB; files up to {limits.max_bytes / 1e6:,.0f} MB "
                             "can be read. Split it by date.")
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        header, rows = _read_excel(data, label, limits)
    else:
        return _finish(_read_csv(data, label, limits), label)
    if len(header) > limits.max_cols:
        raise ReconFileError(f"{label} has {len(header)} columns; at most {limits.max_cols} can be read.")
    df = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(columns=header, dtype=str)
    return _finish(df, label)


def _check_header(header: list[str], label: str, limits: UploadLimits) -> list[str]:
    out = []
    for i, h in enumerate(header, start=1):
        h = clean(str(h if h is not None else ""))
        if len(h) > limits.max_header_chars:
            raise ReconFileError(f"{label}: the name of column {i} is {len(h):,} characters long; the first line "
                                 "should hold short column names.")
        out.append(h or f"column {i}")
    if len(out) > limits.max_cols:
        raise ReconFileError(f"{label} has {len(out)} columns; at most {limits.max_cols} can be read.")
    seen: dict[str, int] = {}
    for i, h in enumerate(out, start=1):
        if h in seen:
            raise ReconFileError(f"{label} has the column “{h[:40]}” twice (columns {seen[h]} and {i}): rename one, "
                                 "so it is clear which one to use.")
        seen[h] = i
    return out


def _read_csv(data: bytes, label: str, limits: UploadLimits) -> pd.DataFrame:
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ReconFileError(f"{label} is UTF-16 text: save it as CSV in UTF-8 or CP949 (EUC-KR) and upload again.")
    if b"\x00" in data[:65536]:
        raise ReconFileError(f"{label} is not a text file (it holds binary data). Upload a CSV or Excel file.")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            body = body.decode("cp949").encode("utf-8")
        except UnicodeDecodeError:
            raise ReconFileError(f"{label} is neither UTF-8 nor CP949 (EUC-KR) text: save it as CSV in one of "
                                 "those and upload again.") from None
    body = body.lstrip()                               # blank lines before the header
    head_text = body[:65536].decode("utf-8", "ignore")
    lines = [ln for ln in head_text.splitlines() if ln.strip()]
    if not lines:
        raise ReconFileError(f"{label} has no text.")
    try:
        delim = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",\t;|").delimiter
    except csv.Error:
        delim = ","
    header = _check_header(next(csv.reader([lines[0]], delimiter=delim)), label, limits)
    if len(header) < 2:
        raise ReconFileError(f"{label} has fewer than two columns: is it a CSV file (comma, tab or semicolon "
                             "separated)?")
    bad: list[str] = []

    def invalid(row) -> str:
        bad.append(f"line {row.number}" if row.number else "a line")
        bad.append(f"{row.actual_columns} fields where the header has {row.expected_columns}")
        return "error"
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, use_threads=True,
                                           block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delim, invalid_row_handler=invalid,
                                             newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowException) as e:
        if bad:
            raise ReconFileError(f"{label}: {bad[0]} has {bad[1]}.") from None
        raise ReconFileError(f"{label} could not be read as CSV: {str(e)[:200]}") from None
    if table.num_rows > limits.max_rows:
        raise ReconFileError(f"{label} has {table.num_rows:,} rows; at most {limits.max_rows:,} can be read at once. "
                             "Split it by date.")
    return table.to_pandas()


def _read_excel(data: bytes, label: str, limits: UploadLimits) -> tuple[list[str], list[list[str]]]:
    import zipfile
    from python_calamine import CalamineWorkbook
    if data[:2] == b"PK":                               # .xlsx / .xlsm: a zip; check what it would unpack to
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                unpacked = sum(i.file_size for i in z.infolist())
        except zipfile.BadZipFile:
            raise ReconFileError(f"{label} is not a readable Excel file (a damaged .xlsx).") from None
        if unpacked > limits.max_xlsx_unpacked or unpacked > limits.max_xlsx_ratio * max(len(data), 1):
            raise ReconFileError(f"{label} would unpack to {unpacked / 1e6:,.0f} MB, far more than a real "
                                 "settlement sheet; it is not read. Export it again as CSV.")
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=True, nrows=limits.max_rows + 2)
    except Exception as e:  # calamine raises its own error types
        raise ReconFileError(f"{label} could not be read as an Excel file ({type(e).__name__}).") from None
    rows = [r for r in rows if any(v not in ("", None) for v in r)]
    if not rows:
        raise ReconFileError(f"{label} has an empty first sheet.")
    if len(rows) > limits.max_rows + 1:
        raise ReconFileError(f"{label} has more than {limits.max_rows:,} rows; split it by date.")
    header = _check_header([_cell(v) for v in rows[0]], label, limits)
    width = len(header)
    return header, [[_cell(v) for v in (r[:width] + [""] * (width - len(r)))] for r in rows[1:]]


def _cell(v) -> str:
    """An Excel cell as the text a person sees: 12000.0 → "12000", a date → 2026-11-20."""
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
    return str(v)


def _finish(df: pd.DataFrame, label: str) -> pd.DataFrame:
    df.columns = [str(c).strip() for c in df.columns]
    if len(df.columns) < 2:
        raise ReconFileError(f"{label} has fewer than two columns.")
    if df.empty:
        raise ReconFileError(f"{label} has a header line but no rows.")
    df = df.astype(str)
    df.index = range(2, len(df) + 2)          # file line numbers (header is line 1)
    return df


def guess_map(columns: list[str]) -> ColumnMap:
    norm = {c: re.sub(r"[\s_()\-]", "", c).lower() for c in columns}
    found = {}
    for f, names in HEADER_GUESS.items():
        for want in names:
            w = re.sub(r"[\s_()\-]", "", want).lower()
            hit = next((c for c, n in norm.items() if n == w and c not in found.values()), None)
            if hit:
                found[f] = hit
                break
    return ColumnMap(**found)


_AMOUNT = re.compile(r"^\(?-?[\d,]+(\.\d+)?\)?$")


def parse_amount(value: str, row: int, column: str) -> int | None:
    s = str(value).strip().replace("₩", "").replace("원", "").replace("KRW", "").replace(" ", "")
    if s in ("", "-"):
        return None
    if not _AMOUNT.match(s):
        raise ReconFileError(f"Row {row}, column “{column}”: “{str(value)[:40]}” is not an amount.")
    if sum(ch.isdigit() for ch in s.split(".")[0]) > 15:
        raise ReconFileError(f"Row {row}, column “{column}”: “{str(value)[:40]}” is too large to be an amount in won.")
    neg = s.startswith("(") and s.endswith(")") or s.startswith("-")
    n = float(s.strip("()-").replace(",", ""))
    if n != int(n):
        raise ReconFileError(f"Row {row}, column “{column}”: “{value}” is not a whole number of won.")
    return -int(n) if neg else int(n)


_DATE_FORMATS = ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y.%m.%d %H:%M:%S",
                 "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M", "%Y-%m-%dT%H:%M:%S")


def parse_date(value: str, row: int, column: str) -> date:
    s = str(value).strip().rstrip(".")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    m = re.match(r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일", s)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    raise ReconFileError(f"Row {row}, column “{column}”: “{value}” is not a date (use e.g. 2026-11-20 or 2026.11.20).")


def classify(value: str, amount: int) -> str:
    v = (value or "").strip().lower()
    if any(w in v for w in REFUND_WORDS):
        return "refund"
    if any(w in v for w in DEPOSIT_WORDS):
        return "deposit"
    return "refund" if amount < 0 else "deposit"


def normalize(df: pd.DataFrame, cmap: ColumnMap) -> pd.DataFrame:
    """Mapped, typed rows; blank and total lines dropped. Raises ReconFileError naming row and column."""
    missing = [f for f in REQUIRED if not getattr(cmap, f)]
    if missing:
        raise ReconFileError("Map the column(s) " + ", ".join(missing) + " first.")
    if not any(getattr(cmap, f) for f in ("imp_uid", "merchant_uid", "pg_tid")):
        raise ReconFileError("Map at least one of imp_uid, merchant_uid or pg_tid to match rows by.")
    for f in FIELDS:
        col = getattr(cmap, f)
        if col and col not in df.columns:
            raise ReconFileError(f"The file has no column “{col}” (mapped to {f}).")
    out = []
    for row_no, r in df.iterrows():
        cells = [str(v).strip() for v in r.values]
        if not any(cells):
            continue
        first = " ".join(cells).lower()
        date_cell = str(r[cmap.date]).strip()
        if any(w in date_cell.lower() for w in TOTAL_WORDS) or (not date_cell and any(w in first for w in TOTAL_WORDS)):
            continue                                   # a total line
        amount = parse_amount(r[cmap.amount], row_no, cmap.amount)
        if amount is None:
            raise ReconFileError(f"Row {row_no}, column “{cmap.amount}”: the amount is empty.")
        fee = parse_amount(r[cmap.fee], row_no, cmap.fee) if cmap.fee else None
        kind = classify(r[cmap.type] if cmap.type else "", amount)
        out.append({
            "row": row_no, "date": parse_date(date_cell, row_no, cmap.date), "kind": kind, "amount": abs(amount),
            "fee": abs(fee) if fee is not None else None,
            "imp_uid": str(r[cmap.imp_uid]).strip() if cmap.imp_uid else "",
            "merchant_uid": str(r[cmap.merchant_uid]).strip() if cmap.merchant_uid else "",
            "pg_tid": str(r[cmap.pg_tid]).strip() if cmap.pg_tid else "",
        })
    if not out:
        raise ReconFileError("The file has no data rows after blank and total lines.")
    return pd.DataFrame(out)


# ------------------------------------------------------------------ expected
def kst_range(d_from: date, d_to: date) -> tuple[int, int]:
    start = datetime.combine(d_from, datetime.min.time(), KST)
    end = datetime.combine(d_to, datetime.max.time(), KST)
    return int(start.timestamp()), int(end.timestamp())


def events(payments: list[dict], d_from: date, d_to: date, rules: Rules, pgs: list[str] | None = None) -> pd.DataFrame:
    """I'mport's side: deposits of virtual accounts paid in the range and refunds registered in it,
    each with the fee the schedule expects (VAT included where configured)."""
    a, b = kst_range(d_from, d_to)
    out = []
    for p in payments:
        if p.get("pay_method") != "vbank" or (pgs and p.get("pg_provider") not in pgs):
            continue
        rule = rules.fee_rule(p.get("pg_provider"))
        base = {"imp_uid": p["imp_uid"], "merchant_uid": p["merchant_uid"], "pg": p.get("pg_provider") or ""}
        paid_at = p.get("paid_at") or 0
        if paid_at and a <= paid_at <= b:
            fee = with_vat(rule.issuance_fee, rule)
            out.append({**base, "kind": "deposit", "date": datetime.fromtimestamp(paid_at, KST).date(),
                        "pg_tid": p.get("pg_tid") or "", "amount": int(p["amount"]), "fee": fee,
                        "vat": fee - rule.issuance_fee})
        for h in p.get("cancel_history") or []:
            at = h.get("cancelled_at") or 0
            if a <= at <= b:
                fee = with_vat(rule.remittance_fee, rule)
                out.append({**base, "kind": "refund", "date": datetime.fromtimestamp(at, KST).date(),
                            "pg_tid": h.get("pg_tid") or "", "amount": int(h["amount"]), "fee": fee,
                            "vat": fee - rule.remittance_fee})
    cols = ["kind", "date", "imp_uid", "merchant_uid", "pg_tid", "pg", "amount", "fee", "vat"]
    return pd.DataFrame(out, columns=cols)


def expected_settlement(ev: pd.DataFrame) -> pd.DataFrame:
    """Per day and PG: deposits (count, gross), issuance fees, refunds (count, amount), remittance fees,
    VAT on fees and the expected net."""
    cols = ["date", "pg", "deposits", "gross", "issuance_fees", "refunds", "refunded", "remittance_fees",
            "vat_on_fees", "net"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    d = ev[ev["kind"] == "deposit"].groupby(["date", "pg"]).agg(deposits=("amount", "size"), gross=("amount", "sum"),
                                                               issuance_fees=("fee", "sum"), vat_d=("vat", "sum"))
    r = ev[ev["kind"] == "refund"].groupby(["date", "pg"]).agg(refunds=("amount", "size"), refunded=("amount", "sum"),
                                                              remittance_fees=("fee", "sum"), vat_r=("vat", "sum"))
    g = d.join(r, how="outer").fillna(0).astype("int64").reset_index()
    g["vat_on_fees"] = g["vat_d"] + g["vat_r"]
    g["net"] = g["gross"] - g["issuance_fees"] - g["refunded"] - g["remittance_fees"]
    return g[cols].sort_values(["date", "pg"]).reset_index(drop=True)


# ------------------------------------------------------------------ matching
@dataclass
class MatchResult:
    matched: pd.DataFrame
    mismatched: pd.DataFrame
    file_only: pd.DataFrame
    import_only: pd.DataFrame
    key_used: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        def tot(df, col):
            return int(df[col].fillna(0).sum()) if col in df and not df.empty else 0
        return pd.DataFrame([
            {"group": "Matched", "rows": len(self.matched), "amount": tot(self.matched, "amount")},
            {"group": "Amount or fee mismatch", "rows": len(self.mismatched), "amount": tot(self.mismatched, "file_amount")},
            {"group": "In the file, not in I'mport", "rows": len(self.file_only), "amount": tot(self.file_only, "amount")},
            {"group": "In I'mport, not in the file", "rows": len(self.import_only), "amount": tot(self.import_only, "amount")},
        ])

    def exceptions(self) -> pd.DataFrame:
        parts = [self.mismatched.assign(group="mismatch"), self.file_only.assign(group="file_only"),
                 self.import_only.assign(group="import_only")]
        return pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
            not p.empty for p in parts) else pd.DataFrame(columns=["group"])


def match(file_rows: pd.DataFrame, ev: pd.DataFrame) -> MatchResult:
    pool: dict[tuple[str, str, str], list[int]] = {}
    for i, e in ev.iterrows():
        for keyname in ("imp_uid", "merchant_uid", "pg_tid"):
            if e[keyname]:
                pool.setdefault((keyname, e[keyname], e["kind"]), []).append(i)
    used: set[int] = set()
    matched, mismatched, file_only = [], [], []
    for _, r in file_rows.iterrows():
        keyname = next((k for k in ("imp_uid", "merchant_uid", "pg_tid") if r[k]), None)
        if keyname is None:
            file_only.append({**r.to_dict(), "reason": "no imp_uid, merchant_uid or pg_tid on this row"})
            continue
        cands = [i for i in pool.get((keyname, r[keyname], r["kind"]), []) if i not in used]
        if not cands:
            seen_before = pool.get((keyname, r[keyname], r["kind"]))
            file_only.append({**r.to_dict(), "reason": "duplicate row in the file" if seen_before else
                              f"no {r['kind']} with this {keyname} in I'mport for the range"})
            continue
        exact = [i for i in cands if ev.at[i, "amount"] == r["amount"]]
        i = (exact or cands)[0]
        used.add(i)
        e = ev.loc[i]
        fee_ok = r["fee"] is None or pd.isna(r["fee"]) or int(r["fee"]) == int(e["fee"])
        row = {"row": r["row"], "kind": r["kind"], "date": r["date"], "matched_by": keyname, "key": r[keyname],
               "imp_uid": e["imp_uid"], "merchant_uid": e["merchant_uid"], "pg": e["pg"]}
        if int(e["amount"]) == int(r["amount"]) and fee_ok:
            matched.append({**row, "amount": int(r["amount"]), "fee": int(e["fee"])})
        else:
            mismatched.append({**row, "file_amount": int(r["amount"]), "import_amount": int(e["amount"]),
                               "amount_diff": int(r["amount"]) - int(e["amount"]),
                               "file_fee": None if r["fee"] is None or pd.isna(r["fee"]) else int(r["fee"]),
                               "expected_fee": int(e["fee"]),
                               "fee_diff": 0 if fee_ok else int(r["fee"]) - int(e["fee"]),
                               "what": ", ".join(x for x, bad in (("amount", int(e["amount"]) != int(r["amount"])),
                                                                  ("fee", not fee_ok)) if bad)})
    import_only = ev.drop(index=list(used)).reset_index(drop=True)
    return MatchResult(pd.DataFrame(matched), pd.DataFrame(mismatched), pd.DataFrame(file_only), import_only)


# ------------------------------------------------------------------ presets
_meta = MetaData()
presets_table = Table(
    "recon_presets", _meta,
    Column("name", String(80), primary_key=True),
    Column("mapping", Text, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


class PresetStore:
    """Named column mappings, kept in the app's database (AUDIT_DB_URL)."""

    def __init__(self, engine):
        self.engine = engine
        create_tables(engine, _meta)

    def save(self, name: str, cmap: ColumnMap, actor, audit=None) -> str:
        """Save (or overwrite) a named mapping. Needs the ``save_settings`` permission; audited."""
        actor.require("save_settings")
        name = clean(name)
        if not name:
            raise ValueError("Give the preset a name.")
        if len(name) > 60:
            raise ValueError("A preset name has at most 60 characters.")
        for f, col in cmap.as_dict().items():
            if col is not None and len(col) > LIMITS.max_header_chars:
                raise ValueError(f"The column mapped to {f} has too long a name.")
        operator = actor.email
        values = {"name": name, "mapping": json.dumps(cmap.as_dict(), ensure_ascii=False), "operator": operator,
                  "updated_at": time.time()}
        dialect = self.engine.dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(presets_table).values(**values)
        stmt = ins.on_conflict_do_update(index_elements=["name"], set_={k: values[k] for k in
                                                                         ("mapping", "operator", "updated_at")})
        with self.engine.begin() as c:
            c.execute(stmt)
        if audit is not None:
            from .audit import new_correlation_id
            audit.record(operator=operator, action="recon_preset", outcome="succeeded",
                         correlation_id=new_correlation_id(), detail={"name": name, "mapping": cmap.as_dict()})
        return name

    def all(self) -> dict[str, ColumnMap]:
        with self.engine.connect() as c:
            rows = c.execute(select(presets_table).order_by(presets_table.c.name)).mappings().all()
        return {r["name"]: ColumnMap(**json.loads(r["mapping"])) for r in rows}


def lookback_start(d_from: date, days: int = 90) -> date:
    """Refunds in the range may be of payments started long before: fetch that far back."""
    return d_from - timedelta(days=days)


__all__ = ["ColumnMap", "ReconFileError", "read_table", "guess_map", "normalize", "events", "expected_settlement",
           "match", "MatchResult", "PresetStore", "kst_range", "lookback_start", "VAT_RATE_PERCENT"]
