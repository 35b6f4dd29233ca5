"""A file's rows in one shape (date, kind, amount, fee, fee VAT, VAT, keys, PG), whatever the layout: amounts in
won (원/₩, signs, parentheses), dates in KST, cancels told by sign or by the layout's own codes, rows of other
payment methods left out and counted; and a bank statement's deposits with their sender.

Matching key per file row: imp_uid, else merchant_uid, else pg_tid (the first that is present). Reading,
normalising and matching are vectorised (pyarrow, pandas merges).

Longer than 400 lines: a PG file's rows and a bank statement's share the cell readings (amounts, days, ids) and
their errors naming the row and column."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from lib.domain.i18n import N_, _
from lib.reports.recon.cells import pg_of
from lib.reports.recon.grid import ReconFileError
from lib.reports.recon.layouts import BANK_FIELDS, PG_FIELDS
from lib.reports.recon.words import pg_code, pg_family

if TYPE_CHECKING:
    import pyarrow as pa


FIELDS = PG_FIELDS


# What each field is called on the page (and in every message about it): the team's words, never the field's code.
FIELD_LABELS = {"date": N_("Day (거래일)"), "type": N_("Deposit or cancel (구분)"), "amount": N_("Amount (거래금액)"),
                "fee": N_("Fee (수수료)"), "fee_vat": N_("Fee VAT (수수료 부가세)"), "tax_free": N_("Tax-free (면세)"),
                "vat": N_("VAT of the payment (부가세)"), "imp_uid": N_("PortOne transaction number (포트원 결제번호)"),
                "merchant_uid": N_("Order number (주문번호)"), "pg_tid": N_("PG transaction number (PG 거래번호)"),
                "pg": N_("PG (a column naming it)"), "method": N_("Payment method (결제수단)"),
                "cancel_date": N_("Day of a cancel (취소일시), when apart"),
                "cancel_amount": N_("Amount of a cancel (취소금액), when apart"),
                "sign_from": N_("Minus marks a cancel (정산금액)")}
BANK_LABELS = {"date": N_("Day (거래일시)"), "memo": N_("Description (적요)"), "deposit": N_("Money in (입금액)"),
               "withdrawal": N_("Money out (출금액)"), "sender": N_("Who sent it (보낸분)"),
               "amount": N_("Signed amount (거래금액)"), "direction": N_("In or out (구분)")}


def _labels(fields: Iterable[str], table: Mapping[str, str] = FIELD_LABELS) -> str:
    return ", ".join(f"“{_(table[f])}”" for f in fields)


REQUIRED = ("date", "amount")


DEPOSIT_WORDS = ("입금", "결제", "승인", "deposit", "paid", "payment", "pay")


REFUND_WORDS = ("환불", "취소", "refund", "cancel")


TOTAL_WORDS = ("합계", "소계", "총계", "total", "sum")


VBANK_WORDS = ("가상계좌", "가상", "무통장", "vbank", "virtual")


VBANK_CODES = ("va", "v", "가상", "vcnt", "vacct")  # PGs' own short codes for a virtual account (Hecto: VA, KCP: VCNT)


@dataclass
class ColumnMap:
    """Which column holds what, and what the layout means by it (kept with a saved preset)."""

    date: str | None = None
    type: str | None = None
    amount: str | None = None
    fee: str | None = None
    fee_vat: str | None = None
    tax_free: str | None = None
    vat: str | None = None
    imp_uid: str | None = None
    merchant_uid: str | None = None
    pg_tid: str | None = None
    pg: str | None = None                  # a column naming each row's PG
    method: str | None = None              # a column naming the payment method (rows of other methods left out)
    fee_includes_vat: bool = False         # the fee column is the fee with its VAT (Toss Payments)
    refund_values: str = ""                # type-column codes meaning a cancel, comma separated (Hecto: "1")
    deposit_values: str = ""
    file_pg: str | None = None             # the PG every row of the file belongs to
    cancel_date: str | None = None         # a day written only on cancels (취소일시 beside 승인일시): a cancel's own day
    cancel_amount: str | None = None       # an amount written only on cancels (취소금액 beside 승인금액)
    sign_from: str | None = None           # a column whose minus marks a cancel when the amount is unsigned (정산금액)
    file_pgs: str | None = None            # the PGs a file of several holds, when no column names them (comma separated)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, d: dict) -> "ColumnMap":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# ------------------------------------------------------------------ normalising (vectorised)
_AMOUNT_RX = r"^\(?-?[0-9,]+(?:\.[0-9]+)?\)?$"


def _first_bad(mask: pd.Series) -> int | None:
    bad = mask[mask]
    return int(bad.index[0]) if len(bad) else None


def _arrow(col: pd.Series) -> pa.Array:
    """The column's text as an Arrow array: pandas' Arrow-backed text is taken as it is (no Python string per cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    try:
        if hasattr(col.array, "__arrow_array__"):
            arr = pa.array(col.array)
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                return pc.fill_null(arr, "nan")             # as astype(str) would say a missing cell
    except (TypeError, pa.ArrowException):
        pass
    return pa.array(col.astype(str).to_numpy(dtype=object), type=pa.string())


def _whole_won(s: pa.Array, col: pd.Series) -> pd.Series | None:
    """Plain amounts ("12,000", "-4,950", "300"): one cast, no regular expression; None when any cell is more
    than that (₩, 원, parentheses, a fraction, an empty cell, more than 15 digits) and needs the careful reading."""
    import pyarrow as pa
    import pyarrow.compute as pc
    try:
        num = pc.cast(pc.replace_substring(s, ",", "") if pc.any(pc.match_substring(s, ",")).as_py() else s,
                      pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if num.null_count or (len(num) and pc.max(pc.abs(num)).as_py() >= 10**15):
        return None
    out = num.to_pandas().astype("Int64")
    out.index = col.index
    return out


def parse_amounts(col: pd.Series, column: str, *, required: bool) -> pd.Series:
    """Whole won as nullable Int64: "₩1,200", "1200원", "(1,200)" and "-1200" (negative) read; anything else
    raises ReconFileError naming the first bad row and the column. Vectorised with pyarrow compute."""
    import pyarrow as pa
    import pyarrow.compute as pc
    trimmed = pc.utf8_trim_whitespace(_arrow(col))
    fast = _whole_won(trimmed, col)
    if fast is not None:
        return fast
    s = pc.replace_substring_regex(trimmed, r"[₩원\s]|KRW", "")
    s = pc.replace_substring_regex(pc.replace_substring(s, "\u2212", "-"), r"^\+", "")   # "−1,000", "+50,000"
    empty = pc.or_(pc.equal(s, ""), pc.equal(s, "-"))
    idx = col.index

    def first(mask: pa.Array) -> int:
        return int(idx[pc.index(mask, True).as_py()])
    if required and pc.any(empty).as_py():
        raise ReconFileError(_("Row {empty}, column “{column}”: the amount is empty.").format(
            empty=first(empty), column=column))
    ok = pc.or_(empty, pc.match_substring_regex(s, _AMOUNT_RX))
    if not pc.all(ok).as_py():
        bad = pc.invert(ok)
        row = first(bad)
        raise ReconFileError(_("Row {row}, column “{column}”: “{value}” is not an amount.").format(
            row=row, column=column, value=str(col[row])[:40]))
    neg = pc.or_(pc.starts_with(s, "-"), pc.and_(pc.starts_with(s, "("), pc.ends_with(s, ")")))
    body = pc.replace_substring_regex(s, r"[()\-,]", "")
    parts = pc.extract_regex(body, r"^(?P<whole>\d*)(?:\.(?P<frac>\d*))?$")
    whole = pc.struct_field(parts, "whole")
    frac = pc.fill_null(pc.struct_field(parts, "frac"), "")
    too_long = pc.and_(pc.invert(empty), pc.greater(pc.utf8_length(whole), 15))
    if pc.any(too_long).as_py():
        row = first(too_long)
        raise ReconFileError(_("Row {row}, column “{column}”: “{value}” is too large to be an amount in won.").format(
            row=row, column=column, value=str(col[row])[:40]))
    fractional = pc.and_(pc.invert(empty), pc.not_equal(pc.utf8_trim(frac, "0"), ""))
    if pc.any(fractional).as_py():
        row = first(fractional)
        raise ReconFileError(_("Row {row}, column “{column}”: “{value}” is not a whole number of won.").format(
            row=row, column=column, value=str(col[row])[:40]))
    num = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), whole), pa.int64())
    num = pc.if_else(neg, pc.negate(num), num)
    out = num.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    out.index = idx
    return out.astype("Int64")


def _plain_dates(s: pa.Array) -> bool:
    """Every cell is a bare day, 8 to 10 characters (strptime alone would take "2026.1.5" but also stray text after
    a time that the careful reading turns away)."""
    import pyarrow.compute as pc
    n = pc.utf8_length(s)
    return bool(pc.all(pc.and_(pc.greater_equal(n, 8), pc.less_equal(n, 10))).as_py())


def parse_dates(col: pd.Series, column: str) -> pd.Series:
    """The KST day of each cell: 2026-11-20, 2026.11.20, 2026/11/20, 20261120, with or without a time, or
    "2026년 11월 20일"; anything else raises ReconFileError naming the row. Vectorised with pyarrow compute."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from lib.reports.recon import cells
    if cells.serial_column(col.head(2000)) and cells.serial_column(col):     # Excel serial numbers (46350.5)
        return cells.days(col, serial=True)
    s = pc.utf8_rtrim(pc.utf8_trim_whitespace(_arrow(col)), ".")
    for fmt in ("%Y.%m.%d", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):     # a file writes every date one way: one pass
        ts = pc.strptime(s, format=fmt, unit="s", error_is_null=True)
        if not ts.null_count and len(s) and _plain_dates(s):
            out = pc.cast(ts, pa.date32()).to_pandas(date_as_object=True)
            out.index = col.index
            return out
    offset = pc.match_substring_regex(s, r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
    if pc.any(offset).as_py():           # "2026-11-20T23:30:00Z" is 2026-11-21 in KST: convert before taking the day
        mask = offset.to_numpy(zero_copy_only=False)
        raw = pd.Series(s.to_pylist(), dtype=object)
        kst = pd.to_datetime(raw[mask], utc=True, format="ISO8601").dt.tz_convert("Asia/Seoul").dt.strftime("%Y-%m-%d")
        raw[mask] = kst.to_numpy()
        s = pa.array(raw.to_numpy(dtype=object), type=pa.string())
    s = pc.replace_substring_regex(s, r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일.*$", r"\1-\2-\3")
    s = pc.replace_substring_regex(s, r"^(\d{4})(\d{2})(\d{2})(?:\D.*)?$", r"\1-\2-\3")
    s = pc.replace_substring_regex(s, r"^(\d{4})[./-](\d{1,2})[./-](\d{1,2})(?:\D.*)?$", r"\1-\2-\3")
    ts = pc.strptime(s, format="%Y-%m-%d", unit="s", error_is_null=True)
    bad = pc.is_null(ts)
    if pc.any(bad).as_py():                 # the careful reading, once per distinct value: "2026. 11. 04. 오전 9:00:00",
        from lib.reports.recon import cells  # "26.11.04", "2026.11.20(금)"
        careful = cells.days(col)
        if careful.notna().all():
            return careful
        row = int(col.index[pc.index(bad, True).as_py()])
        raise ReconFileError(_("Row {row}, column “{column}”: “{value}” is not a date (use e.g. 2026-11-20 or "
                               "2026.11.20).").format(row=row, column=column, value=str(col[row])[:40]))
    out = pc.cast(ts, pa.date32()).to_pandas(date_as_object=True)
    out.index = col.index
    return out


def _per_value(col: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` (a column in, a column of its length out) worked on the column's distinct values and spread back to
    its rows: a day, a kind, a method or a PG name is a few dozen values in a million rows (5 M rows: seconds of
    string work become a hash and a gather). A column of many values is worked on as it is."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if hasattr(col.array, "__arrow_array__"):          # Arrow's hash of the text (pandas' factorize: twice the CPU)
        enc = pc.dictionary_encode(pa.chunked_array(pa.array(col.array)), null_encoding="encode").combine_chunks()
        codes, uniq = enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pandas()
    else:
        codes, uniq = pd.factorize(col, use_na_sentinel=False)
    if len(uniq) > max(1_000, len(col) // 20):
        return fn(col)
    out = fn(pd.Series(uniq, dtype=col.dtype))
    return pd.Series(out.array.take(codes), index=col.index, name=col.name)


def normalize(df: pd.DataFrame, cmap: ColumnMap) -> pd.DataFrame:
    """Mapped, typed rows (vectorised); blank and total lines dropped. Raises ReconFileError naming row and column."""
    missing = [f for f in REQUIRED if not getattr(cmap, f)]
    if missing:
        raise ReconFileError(_("Choose the column(s) {columns} under “Columns” first.").format(
            columns=_labels(missing)))
    if not any(getattr(cmap, f) for f in ("imp_uid", "merchant_uid", "pg_tid")):
        raise ReconFileError(_("Choose the column of order numbers (or of PortOne or PG transaction numbers) under "
                               "“Columns”: the rows are matched by it."))
    for f in FIELDS:
        col = getattr(cmap, f)
        if col and col not in df.columns:
            raise ReconFileError(_("The file has no column “{col}” (chosen as {f}).").format(col=col,
                                                                                           f=_labels([f])))
    cells = df
    date_cell = _per_value(cells[cmap.date].astype(str), lambda v: v.str.strip())
    total_rx = "|".join(TOTAL_WORDS)
    odd = date_cell == ""                                   # only rows without a date can be blank or totals
    blank = pd.Series(False, index=cells.index)
    any_total = pd.Series(False, index=cells.index)
    if odd.any():
        sub = cells[odd].astype(str).apply(lambda c: c.str.strip())
        blank[odd] = (sub == "").all(axis=1)
        any_total[odd] = sub.apply(lambda c: c.str.lower().str.contains(total_rx, regex=True)).any(axis=1)
    is_total = _per_value(date_cell, lambda v: v.str.lower().str.contains(total_rx, regex=True)) | (odd & any_total)
    dropped = blank | is_total
    keep = cells[~dropped] if dropped.any() else cells      # nothing to drop: no copy of the whole file
    assert cmap.amount is not None and cmap.date is not None          # required (checked before reading)
    if keep.empty:
        raise ReconFileError(_("The file has no data rows after blank and total lines."))
    amount = parse_amounts(keep[cmap.amount], cmap.amount, required=True)
    out = pd.DataFrame({"row": keep.index.astype("int64"), "date": parse_dates(keep[cmap.date], cmap.date)},
                       index=keep.index)
    kind_text = _per_value(keep[cmap.type].astype(str), lambda v: v.str.strip().str.lower()) if cmap.type \
        else pd.Series("", index=keep.index)
    refund_word = _per_value(kind_text, lambda v: v.str.contains("|".join(REFUND_WORDS), regex=True))
    deposit_word = _per_value(kind_text, lambda v: v.str.contains("|".join(DEPOSIT_WORDS), regex=True))
    codes = [v.strip().lower() for v in (cmap.refund_values or "").split(",") if v.strip()]
    if codes:                                   # a layout's own cancel codes (Hecto: 승인구분 0 = approval, 1 = cancel)
        refund_word |= kind_text.isin(codes)
        deposit_word |= kind_text.isin([v.strip().lower() for v in (cmap.deposit_values or "").split(",") if v.strip()])
    cancel = refund_word | (~deposit_word & (amount < 0))
    if cmap.sign_from:                          # an unsigned amount; the net beside it is minus on a cancel
        cancel |= ~deposit_word & (parse_amounts(keep[cmap.sign_from], cmap.sign_from, required=False) < 0).fillna(False)
    amount = amount.abs()
    if cmap.cancel_amount:                      # 취소금액 beside 승인금액: a row with one is a cancel of that much
        ca = parse_amounts(keep[cmap.cancel_amount], cmap.cancel_amount, required=False).abs().fillna(0)
        cancel |= ca > 0
        amount = amount.where(~(ca > 0), ca)
    if cmap.cancel_date:                        # 취소일시 beside 승인일시: a cancel happened on its own day
        cd = keep[cmap.cancel_date].astype(str).str.strip()
        has = cancel & (cd != "")
        if has.any():
            out.loc[has, "date"] = parse_dates(keep.loc[has, cmap.cancel_date], cmap.cancel_date)
    out["kind"] = "deposit"
    out.loc[cancel, "kind"] = "refund"
    out["amount"] = amount.astype("int64")
    for f in ("fee", "fee_vat", "tax_free", "vat"):
        col = getattr(cmap, f)
        out[f] = parse_amounts(keep[col], col, required=False).abs() if col else pd.Series(pd.NA, index=keep.index,
                                                                                            dtype="Int64")
    if cmap.fee_includes_vat and cmap.fee:      # Toss Payments: fee = supply + VAT, vat = the fee's VAT
        total = out["fee"]
        vat = out["fee_vat"] if cmap.fee_vat else total - (total * 10 + 5) // 11
        out["fee"] = (total - vat.fillna(0)).astype("Int64")
        # a VAT the file does not give is worked out only to split the fee; it is not compared as the file's own
        out["fee_vat"] = vat.astype("Int64") if cmap.fee_vat else pd.Series(pd.NA, index=out.index, dtype="Int64")
    for f in ("imp_uid", "merchant_uid", "pg_tid"):
        col = getattr(cmap, f)
        out[f] = ids(keep[col]) if col else ""
    if cmap.file_pg:
        out["pg"] = cmap.file_pg
    elif cmap.pg:
        names = _per_value(keep[cmap.pg].astype(str), lambda v: v.str.strip())
        out["pg"] = _per_value(names, lambda v: v.map(lambda x: pg_of(x, pg_code)))
    else:
        out["pg"] = ""
    other = 0
    if cmap.method:                             # a file of every payment method: only virtual accounts are ours
        method = _per_value(keep[cmap.method].astype(str), lambda v: v.str.strip().str.lower())
        vbank = _per_value(method, lambda v: v.str.contains("|".join(VBANK_WORDS), regex=True) | v.isin(VBANK_CODES)
                           | (v == ""))
        other = int((~vbank).sum())
        if other:                               # every row a virtual account: no copy of the rows
            out = out[vbank.to_numpy()]
    out = out.reset_index(drop=True)
    out.attrs["other_methods"] = other
    out.attrs["file_pgs"] = [p for p in (cmap.file_pgs or "").split(",") if p]
    return out


def ids(col: pd.Series) -> pd.Series:
    """Order numbers and transaction ids as I'mport writes them: full-width letters and digits folded (NFKC), spaces
    around them and Excel's text guard (="ord_1") taken off; Arrow's kernels, a million ids in a fraction of a second."""
    import pyarrow.compute as pc
    arr = _arrow(col)
    if pc.all(pc.string_is_ascii(arr)).as_py() is not True:          # ASCII is its own NFKC form
        arr = pc.utf8_normalize(arr, "NFKC")
    arr = pc.utf8_trim_whitespace(arr)
    if pc.any(pc.starts_with(arr, '="')).as_py():       # Excel's text guard on some cells: off, then their spaces
        arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r'^="(.*)"$', r"\1"))
    out = arr.to_pandas()
    out.index = col.index
    return out.astype(str)


def file_pgs(rows: pd.DataFrame) -> list[str]:
    """The PG a file belongs to, when it names exactly one (its layout, or a PG column with one PG): the match is
    scoped to it, so a file of one PG shows no false 아임포트에만 rows for the others. A file of several PGs is
    compared with every PG ([]): a PG with no row in it may be exactly what is missing."""
    if rows.attrs.get("file_pgs"):              # several PGs, told by the payments the rows are (no PG column)
        return sorted({c for p in rows.attrs["file_pgs"] for c in pg_family(p)})
    if "pg" not in rows or rows.empty:
        return []
    named = {p for p in rows["pg"].unique() if p}
    families = {frozenset(pg_family(p)) for p in named}
    if len(families) != 1:
        return []
    return sorted(next(iter(families)))


def file_range(rows: pd.DataFrame) -> tuple[date, date]:
    """The first and last day the file's rows fall on (the range to reconcile by default)."""
    return min(rows["date"]), max(rows["date"])


def normalize_statement(df: pd.DataFrame, cmap: dict) -> pd.DataFrame:
    """A Korean bank's statement export: its deposits, by KST day, with who sent each (the counterparty column)
    and the other texts of the row (적요 — often only the channel, "타행이체" — and memos). Deposits come from an
    입금 column, or from one signed amount column (카카오뱅크, 토스뱅크: positive = in; or 구분 = 입금)."""
    if not cmap.get("date") or cmap["date"] not in df.columns:
        raise ReconFileError(_("Choose the statement's column {f} under “Columns” first.").format(
            f=_labels(["date"], BANK_LABELS)))
    if not (cmap.get("deposit") in df.columns or cmap.get("amount") in df.columns):
        raise ReconFileError(_("Choose the statement's column of money in (입금액) or its signed amount (거래금액) "
                               "under “Columns”."))
    for f in BANK_FIELDS:
        if cmap.get(f) and cmap[f] not in df.columns:
            raise ReconFileError(_("The file has no column “{col}” (chosen as {f}).").format(
                col=cmap[f], f=_labels([f], BANK_LABELS)))
    cells = df.astype(str).apply(lambda c: c.str.strip())
    cells = cells[~(cells == "").all(axis=1)]
    cells = cells[~cells[cmap["date"]].str.lower().str.contains("|".join(TOTAL_WORDS), regex=True)]
    if cmap.get("deposit") in cells.columns:
        dep = parse_amounts(cells[cmap["deposit"]], cmap["deposit"], required=False).fillna(0).astype("int64")
    else:
        amt = parse_amounts(cells[cmap["amount"]], cmap["amount"], required=False).fillna(0).astype("int64")
        if cmap.get("direction") in cells.columns:
            out_word = cells[cmap["direction"]].str.contains("출금|지급|withdraw", regex=True)
            dep = amt.abs().where(~out_word, 0)
        else:
            dep = amt.clip(lower=0)
    sender = cells[cmap["sender"]] if cmap.get("sender") in cells.columns else pd.Series("", index=cells.index)
    texts = [cells[c] for c in [cmap.get("memo"), *cmap.get("memo_columns", [])] if c and c in cells.columns]
    memo = texts[0] if texts else pd.Series("", index=cells.index)
    for t in texts[1:]:
        memo = memo.str.cat(t, sep=" ").str.strip()
    rows = pd.DataFrame({"row": cells.index.astype("int64"), "date": parse_dates(cells[cmap["date"]], cmap["date"]),
                         "depositor": sender, "memo": memo, "deposit": dep})
    return rows[rows["deposit"] > 0].reset_index(drop=True)


