"""Ad-hoc reconciliation: what the PG should settle (from I'mport's payments and the fee schedule)
and the matching of a PG settlement or bank file against it.

Matching key per file row: imp_uid, else merchant_uid, else pg_tid (the first that is present). Statuses as
PortOne's 거래대사 names them: 일치; 불일치 with every reason (금액, 수수료, 수수료부가세, 부가세, 결제일자);
대사불능, kept apart as "in the file only" and "in I'mport only". Reading, normalising and matching are
vectorised (pyarrow, pandas merges).
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from .filetable import LIMITS, ReconFileError, Table, UploadLimits, read_table
from .i18n import N_, _
from .layouts import BANK_FIELDS, HEADER_WORDS, PG_FIELDS, Recognition, pg_code, pg_family, recognise
from .named import NamedStore
from .fees import VAT_RATE_PERCENT
from .clock import KST
from .settings import Rules
from .text import clean

FIELDS = PG_FIELDS
REQUIRED = ("date", "amount")
DEPOSIT_WORDS = ("입금", "결제", "승인", "deposit", "paid", "payment", "pay")
REFUND_WORDS = ("환불", "취소", "refund", "cancel")
TOTAL_WORDS = ("합계", "소계", "총계", "total", "sum")
VBANK_WORDS = ("가상계좌", "vbank", "virtual")
VBANK_CODES = ("va", "v", "가상")                  # PGs' own short codes for a virtual account (Hecto: VA)


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

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, d: dict) -> "ColumnMap":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def read_file(data: bytes, filename: str, limits: UploadLimits = LIMITS, *, header_row: int | None = None) -> Table:
    """The table in an uploaded file (lib/filetable.py), its header row found by the names of known layouts."""
    return read_table(data, filename, header_words=HEADER_WORDS, header_row=header_row, limits=limits)


def recognise_pg(columns: list[str]) -> tuple[Recognition, ColumnMap]:
    """The PG layout of a file's header and the mapping it implies."""
    rec = recognise(columns, "pg")
    m = {f: rec.mapping.get(f) for f in PG_FIELDS}
    return rec, ColumnMap(**m, fee_includes_vat=rec.fee_includes_vat, refund_values=",".join(rec.refund_values),
                          deposit_values=",".join(rec.deposit_values), file_pg=rec.pg)


def guess_map(columns: list[str]) -> ColumnMap:
    return recognise_pg(columns)[1]


# ------------------------------------------------------------------ normalising (vectorised)
_AMOUNT_RX = r"^\(?-?[0-9,]+(?:\.[0-9]+)?\)?$"


def _first_bad(mask: pd.Series) -> int | None:
    bad = mask[mask]
    return int(bad.index[0]) if len(bad) else None


def _arrow(col: pd.Series):
    import pyarrow as pa
    return pa.array(col.astype(str).to_numpy(dtype=object), type=pa.string())


def parse_amounts(col: pd.Series, column: str, *, required: bool) -> pd.Series:
    """Whole won as nullable Int64: "₩1,200", "1200원", "(1,200)" and "-1200" (negative) read; anything else
    raises ReconFileError naming the first bad row and the column. Vectorised with pyarrow compute."""
    import pyarrow as pa
    import pyarrow.compute as pc
    s = pc.replace_substring_regex(pc.utf8_trim_whitespace(_arrow(col)), r"[₩원\s]|KRW", "")
    s = pc.replace_substring_regex(pc.replace_substring(s, "\u2212", "-"), r"^\+", "")   # "−1,000", "+50,000"
    empty = pc.or_(pc.equal(s, ""), pc.equal(s, "-"))
    idx = col.index

    def first(mask) -> int:
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


def parse_dates(col: pd.Series, column: str) -> pd.Series:
    """The KST day of each cell: 2026-11-20, 2026.11.20, 2026/11/20, 20261120, with or without a time, or
    "2026년 11월 20일"; anything else raises ReconFileError naming the row. Vectorised with pyarrow compute."""
    import pyarrow as pa
    import pyarrow.compute as pc
    s = pc.utf8_rtrim(pc.utf8_trim_whitespace(_arrow(col)), ".")
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
    if pc.any(bad).as_py():
        row = int(col.index[pc.index(bad, True).as_py()])
        raise ReconFileError(_("Row {row}, column “{column}”: “{value}” is not a date (use e.g. 2026-11-20 or "
                               "2026.11.20).").format(row=row, column=column, value=str(col[row])[:40]))
    out = pc.cast(ts, pa.date32()).to_pandas(date_as_object=True)
    out.index = col.index
    return out


def normalize(df: pd.DataFrame, cmap: ColumnMap) -> pd.DataFrame:
    """Mapped, typed rows (vectorised); blank and total lines dropped. Raises ReconFileError naming row and column."""
    missing = [f for f in REQUIRED if not getattr(cmap, f)]
    if missing:
        raise ReconFileError(_("Map the column(s) {columns} first.").format(columns=", ".join(missing)))
    if not any(getattr(cmap, f) for f in ("imp_uid", "merchant_uid", "pg_tid")):
        raise ReconFileError(_("Map at least one of imp_uid, merchant_uid or pg_tid to match rows by."))
    for f in FIELDS:
        col = getattr(cmap, f)
        if col and col not in df.columns:
            raise ReconFileError(_("The file has no column “{col}” (mapped to {f}).").format(col=col, f=f))
    cells = df
    date_cell = cells[cmap.date].astype(str).str.strip()
    total_rx = "|".join(TOTAL_WORDS)
    odd = date_cell == ""                                   # only rows without a date can be blank or totals
    blank = pd.Series(False, index=cells.index)
    any_total = pd.Series(False, index=cells.index)
    if odd.any():
        sub = cells[odd].astype(str).apply(lambda c: c.str.strip())
        blank[odd] = (sub == "").all(axis=1)
        any_total[odd] = sub.apply(lambda c: c.str.lower().str.contains(total_rx, regex=True)).any(axis=1)
    is_total = date_cell.str.lower().str.contains(total_rx, regex=True) | (odd & any_total)
    keep = cells[~blank & ~is_total]
    if keep.empty:
        raise ReconFileError(_("The file has no data rows after blank and total lines."))
    amount = parse_amounts(keep[cmap.amount], cmap.amount, required=True)
    out = pd.DataFrame({"row": keep.index.astype("int64"), "date": parse_dates(keep[cmap.date], cmap.date)},
                       index=keep.index)
    kind_text = keep[cmap.type].astype(str).str.strip().str.lower() if cmap.type else pd.Series("", index=keep.index)
    refund_word = kind_text.str.contains("|".join(REFUND_WORDS), regex=True)
    deposit_word = kind_text.str.contains("|".join(DEPOSIT_WORDS), regex=True)
    codes = [v.strip().lower() for v in (cmap.refund_values or "").split(",") if v.strip()]
    if codes:                                   # a layout's own cancel codes (Hecto: 승인구분 0 = approval, 1 = cancel)
        refund_word |= kind_text.isin(codes)
        deposit_word |= kind_text.isin([v.strip().lower() for v in (cmap.deposit_values or "").split(",") if v.strip()])
    out["kind"] = "deposit"
    out.loc[refund_word | (~deposit_word & (amount < 0)), "kind"] = "refund"
    out["amount"] = amount.abs().astype("int64")
    for f in ("fee", "fee_vat", "tax_free", "vat"):
        col = getattr(cmap, f)
        out[f] = parse_amounts(keep[col], col, required=False).abs() if col else pd.Series(pd.NA, index=keep.index,
                                                                                            dtype="Int64")
    if cmap.fee_includes_vat and cmap.fee:      # Toss Payments: fee = supply + VAT, vat = the fee's VAT
        total = out["fee"]
        vat = out["fee_vat"] if cmap.fee_vat else total - (total * 10 + 5) // 11
        out["fee"], out["fee_vat"] = (total - vat.fillna(0)).astype("Int64"), vat.astype("Int64")
    for f in ("imp_uid", "merchant_uid", "pg_tid"):
        col = getattr(cmap, f)
        out[f] = keep[col].astype(str).str.strip() if col else ""
    if cmap.file_pg:
        out["pg"] = cmap.file_pg
    elif cmap.pg:
        names = keep[cmap.pg].astype(str).str.strip()
        out["pg"] = names.map({v: pg_code(v) for v in names.unique()})
    else:
        out["pg"] = ""
    other = 0
    if cmap.method:                             # a file of every payment method: only virtual accounts are ours
        method = keep[cmap.method].astype(str).str.strip().str.lower()
        vbank = method.str.contains("|".join(VBANK_WORDS), regex=True) | method.isin(VBANK_CODES) | (method == "")
        other = int((~vbank).sum())
        out = out[vbank.to_numpy()]
    out = out.reset_index(drop=True)
    out.attrs["other_methods"] = other
    return out


def file_pgs(rows: pd.DataFrame) -> list[str]:
    """The PG a file belongs to, when it names exactly one (its layout, or a PG column with one PG): the match is
    scoped to it, so a file of one PG shows no false 아임포트에만 rows for the others. A file of several PGs is
    compared with every PG ([]): a PG with no row in it may be exactly what is missing."""
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


# ------------------------------------------------------------------ expected
def kst_range(d_from: date, d_to: date) -> tuple[int, int]:
    start = datetime.combine(d_from, datetime.min.time(), KST)
    end = datetime.combine(d_to, datetime.max.time(), KST)
    return int(start.timestamp()), int(end.timestamp())


def _kst_dates(ts: pd.Series) -> pd.Series:
    """KST days as datetime.date, made once per distinct day (a million events share a few dozen days)."""
    days = (ts.astype("int64") + 9 * 3600) // 86400
    uniq = {d: (datetime(1970, 1, 1) + timedelta(days=int(d))).date() for d in pd.unique(days)}
    return days.map(uniq)


def fee_columns(pg: pd.Series, kind: pd.Series, rules: Rules) -> tuple[pd.Series, pd.Series]:
    """The fee the schedule expects for each event (issuance for deposits, remittance for refunds, VAT excluded)
    and its VAT: 10% rounded half up when the PG quotes its fees "VAT 별도" (as 거래대사 does when the PG gives
    none), else 0."""
    codes, uniques = pd.factorize(pg)                   # a handful of PGs: look each up once
    iss = np.array([rules.fee_rule(p).issuance_fee for p in uniques], dtype="int64")
    rem = np.array([rules.fee_rule(p).remittance_fee for p in uniques], dtype="int64")
    vat_on = np.array([rules.fee_rule(p).vat_on_fees for p in uniques], dtype=bool)
    fee = np.where(kind.to_numpy() == "deposit", iss[codes], rem[codes])
    vat = np.where(vat_on[codes], (fee * VAT_RATE_PERCENT + 50) // 100, 0)
    return pd.Series(fee, index=pg.index, dtype="int64"), pd.Series(vat, index=pg.index, dtype="int64")


def events(payments: list[dict], d_from: date, d_to: date, rules: Rules, pgs: list[str] | None = None) -> pd.DataFrame:
    """I'mport's side (vectorised): deposits of virtual accounts paid in the range and refunds registered in it
    (also of payments started long before), each with the fee the schedule expects and its VAT."""
    a, b = kst_range(d_from, d_to)
    cols = ["kind", "date", "imp_uid", "merchant_uid", "pg_tid", "pg", "amount", "fee", "fee_vat", "vat"]
    # Column by column from the API's dicts, keeping only what an event needs (a million payments: no row tuples,
    # no second copy of the frame).
    pg_set = set(pgs) if pgs else None

    def wanted(p: dict) -> bool:
        return p.get("pay_method") == "vbank" and (pg_set is None or p.get("pg_provider") in pg_set)

    paid = [p for p in payments if wanted(p) and a <= (p.get("paid_at") or 0) <= b and (p.get("paid_at") or 0) > 0]
    refunds = [(p, h) for p in payments if p.get("cancel_history") and wanted(p)
               for h in p["cancel_history"] if a <= (h.get("cancelled_at") or 0) <= b]

    def frame(kind: str, stamps: list[int], amounts: list[int], **keys: list[str]) -> pd.DataFrame:
        return pd.DataFrame({"kind": kind, "date": _kst_dates(pd.Series(stamps, dtype="int64")), **keys,
                             "amount": pd.Series(amounts, dtype="int64")})
    parts = []
    if paid:
        parts.append(frame("deposit", [p["paid_at"] for p in paid], [int(p.get("amount") or 0) for p in paid],
                           imp_uid=[p["imp_uid"] for p in paid], merchant_uid=[p["merchant_uid"] for p in paid],
                           pg_tid=[p.get("pg_tid") or "" for p in paid], pg=[p.get("pg_provider") or "" for p in paid]))
    if refunds:
        parts.append(frame("refund", [h.get("cancelled_at") or 0 for _p, h in refunds],
                           [int(h.get("amount") or 0) for _p, h in refunds],
                           imp_uid=[p["imp_uid"] for p, _h in refunds], merchant_uid=[p["merchant_uid"] for p, _h in refunds],
                           pg_tid=[h.get("pg_tid") or "" for _p, h in refunds],
                           pg=[p.get("pg_provider") or "" for p, _h in refunds]))
    if not parts:
        return pd.DataFrame(columns=cols)
    ev = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    ev["fee"], ev["fee_vat"] = fee_columns(ev["pg"], ev["kind"], rules)
    ev["vat"] = ((ev["amount"] + 5) // 11).astype("int64")      # VAT of a taxable amount: 1/11, as the API defaults
    return ev


def expected_settlement(ev: pd.DataFrame) -> pd.DataFrame:
    """Per day and PG: deposits (count, gross), issuance fees, refunds (count, amount), remittance fees,
    VAT on fees and the expected net."""
    cols = ["date", "pg", "deposits", "gross", "issuance_fees", "refunds", "refunded", "remittance_fees",
            "vat_on_fees", "net"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    d = ev[ev["kind"] == "deposit"].groupby(["date", "pg"]).agg(deposits=("amount", "size"), gross=("amount", "sum"),
                                                               issuance_fees=("fee", "sum"), vat_d=("fee_vat", "sum"))
    r = ev[ev["kind"] == "refund"].groupby(["date", "pg"]).agg(refunds=("amount", "size"), refunded=("amount", "sum"),
                                                              remittance_fees=("fee", "sum"), vat_r=("fee_vat", "sum"))
    g = d.join(r, how="outer").fillna(0).astype("int64").reset_index()
    g["vat_on_fees"] = g["vat_d"] + g["vat_r"]
    g["net"] = g["gross"] - g["issuance_fees"] - g["refunded"] - g["remittance_fees"] - g["vat_on_fees"]
    return g[cols].sort_values(["date", "pg"]).reset_index(drop=True)


# ------------------------------------------------------------------ matching (거래대사)
MATCHED, MISMATCHED, FILE_ONLY, IMPORT_ONLY = "일치", "불일치", "대사불능 (파일에만)", "대사불능 (아임포트에만)"
REASONS = {"amount": "금액 불일치", "fee": "수수료 불일치", "fee_vat": "수수료부가세 불일치", "vat": "부가세 불일치",
           "date": "결제일자 불일치", "duplicate": "파일 중복", "no_key": "거래번호 없음", "not_found": "아임포트에 없음"}


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
            {"group": MATCHED, "rows": len(self.matched), "amount": tot(self.matched, "amount")},
            {"group": MISMATCHED, "rows": len(self.mismatched), "amount": tot(self.mismatched, "file_amount")},
            {"group": FILE_ONLY, "rows": len(self.file_only), "amount": tot(self.file_only, "amount")},
            {"group": IMPORT_ONLY, "rows": len(self.import_only), "amount": tot(self.import_only, "amount")},
        ])

    def exceptions(self) -> pd.DataFrame:
        parts = [self.mismatched.assign(status=MISMATCHED), self.file_only.assign(status=FILE_ONLY),
                 self.import_only.assign(status=IMPORT_ONLY)]
        parts = [p for p in parts if not p.empty]
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["status"])
        return whole_won(out)

    def mismatch_dashboard(self) -> pd.DataFrame:
        """불일치 amounts per day and PG (differences in amount and fee), like 거래대사's dashboard."""
        m = self.mismatched
        if m.empty:
            return pd.DataFrame(columns=["date", "pg", "rows", "amount_diff", "fee_diff"])
        return (m.groupby(["date", "pg"], as_index=False)
                .agg(rows=("row", "size"), amount_diff=("amount_diff", "sum"), fee_diff=("fee_diff", "sum")))


def whole_won(df: pd.DataFrame) -> pd.DataFrame:
    """Amount columns that a concat turned into floats (18800.0) back to whole won (nullable integers)."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_float_dtype(s) and (s.dropna() % 1 == 0).all():
            out[c] = s.astype("Int64")
        elif s.dtype == object and len(s) and s.dropna().map(lambda v: isinstance(v, (int, np.integer))).all() \
                and s.notna().any():
            out[c] = s.astype("Int64")
    return out


def month_end_summary(result: "MatchResult", checked: pd.DataFrame | None) -> pd.DataFrame:
    """One page for month end: per PG, matched / mismatched / unmatched rows and amounts; then the payouts short,
    over and missing (codes in ``group`` and ``status``; the page names them)."""
    rows = []
    for group, df, amount in ((MATCHED, result.matched, "amount"), (MISMATCHED, result.mismatched, "file_amount"),
                              (FILE_ONLY, result.file_only, "amount"), (IMPORT_ONLY, result.import_only, "amount")):
        if df.empty:
            continue
        g = df.assign(pg=df["pg"].fillna("") if "pg" in df else "").groupby("pg", dropna=False)
        for pg, part in g:
            rows.append({"section": "match", "group": group, "pg": pg, "rows": len(part),
                         "amount": int(part[amount].fillna(0).sum()) if amount in part else 0})
    if checked is not None and not checked.empty:
        for status, part in checked.groupby("status"):
            rows.append({"section": "payout", "group": status, "pg": "", "rows": len(part),
                         "amount": int(part["difference"].sum())})
    return pd.DataFrame(rows, columns=["section", "group", "pg", "rows", "amount"])


def _pair(f: pd.DataFrame, e: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """1:1 pairs of file rows and events with equal ``on`` (the n-th of each group with the n-th)."""
    if f.empty or e.empty:
        return pd.DataFrame(columns=["fi", "ei"])
    f = f.assign(_n=f.groupby(on, sort=False).cumcount())
    e = e.assign(_n=e.groupby(on, sort=False).cumcount())
    return f[on + ["_n", "fi"]].merge(e[on + ["_n", "ei"]], on=on + ["_n"])[["fi", "ei"]]


def match(file_rows: pd.DataFrame, ev: pd.DataFrame) -> MatchResult:
    """Pair each file row with one I'mport event by imp_uid, else merchant_uid, else pg_tid (and kind), exact
    amounts first; then list every reason a pair differs (amount, fee, fee VAT, VAT, KST day)."""
    f = file_rows.copy().reset_index(drop=True)
    for col in ("fee", "fee_vat", "tax_free", "vat"):
        f[col] = (f[col] if col in f else pd.Series(pd.NA, index=f.index)).astype("Int64")
    for col in ("imp_uid", "merchant_uid", "pg_tid"):
        f[col] = f[col].fillna("").astype(str) if col in f else ""
    f["fi"] = range(len(f))
    f["key_type"] = "none"
    for k in ("pg_tid", "merchant_uid", "imp_uid"):          # the first present wins: imp_uid over merchant_uid…
        f.loc[f[k] != "", "key_type"] = k
    e = ev.copy()
    e["ei"] = range(len(e))
    pairs, used_f, used_e = [], pd.Series(False, index=f.index), pd.Series(False, index=e.index)
    for k in ("imp_uid", "merchant_uid", "pg_tid"):
        fk = f[(f["key_type"] == k) & ~used_f].rename(columns={k: "key"})
        if fk.empty:                                 # no file row keyed so: do not copy the events for nothing
            continue
        ek = e[~used_e & (e[k] != "")].rename(columns={k: "key"})
        for on in (["key", "kind", "amount"], ["key", "kind"]):
            p = _pair(fk[~fk["fi"].isin(used_f[used_f].index)], ek[~ek["ei"].isin(used_e[used_e].index)], on)
            if len(p):
                p["matched_by"] = k
                pairs.append(p)
                used_f[p["fi"].to_numpy()] = True
                used_e[p["ei"].to_numpy()] = True
    P = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=["fi", "ei", "matched_by"])
    # Only the columns the comparison and the result need (a million pairs: every copied column counts).
    L = f.loc[P["fi"].to_numpy(), ["row", "kind", "date", "amount", "fee", "fee_vat", "vat", "tax_free"]] \
        .reset_index(drop=True)
    R = e.loc[P["ei"].to_numpy(), ["date", "imp_uid", "merchant_uid", "pg", "amount", "fee", "fee_vat"]] \
        .reset_index(drop=True)
    reasons = pd.DataFrame(index=L.index)
    reasons["amount"] = L["amount"].to_numpy() != R["amount"].to_numpy()
    reasons["fee"] = L["fee"].notna() & (L["fee"].fillna(0).astype("int64") != R["fee"])
    reasons["fee_vat"] = L["fee_vat"].notna() & (L["fee_vat"].fillna(0).astype("int64") != R["fee_vat"])
    reasons["vat"] = L["vat"].notna() & L["kind"].eq("deposit") & (
        L["vat"].fillna(0).astype("int64") != ((L["amount"] - L["tax_free"].fillna(0).astype("int64") + 5) // 11))
    reasons["date"] = L["date"].to_numpy() != R["date"].to_numpy()
    bad = reasons.any(axis=1)
    flagged = reasons[bad]                                   # the reasons' text only for the pairs that differ
    text = pd.Series(["; ".join(REASONS[k] for k, on in zip(flagged.columns, row) if on)
                      for row in flagged.itertuples(index=False)], index=flagged.index, dtype=object)
    common = pd.DataFrame({"row": L["row"], "kind": L["kind"], "date": L["date"], "import_date": R["date"],
                           "matched_by": P["matched_by"].to_numpy(), "imp_uid": R["imp_uid"],
                           "merchant_uid": R["merchant_uid"], "pg": R["pg"]})
    matched = common[~bad].assign(status=MATCHED, amount=L["amount"][~bad], fee=R["fee"][~bad],
                                  fee_vat=R["fee_vat"][~bad]).reset_index(drop=True)
    fee_file = L["fee"].astype("Int64")
    mism = common[bad].assign(
        status=MISMATCHED, reasons=text, file_amount=L["amount"][bad], import_amount=R["amount"][bad],
        amount_diff=(L["amount"] - R["amount"])[bad], file_fee=fee_file[bad], expected_fee=R["fee"][bad],
        fee_diff=(fee_file.fillna(R["fee"]) - R["fee"])[bad].astype("int64"),
        file_fee_vat=L["fee_vat"][bad], expected_fee_vat=R["fee_vat"][bad])
    mism = mism.sort_values(["amount_diff", "fee_diff"], key=lambda s: -s.abs()).reset_index(drop=True)
    rest = f[~used_f].copy()
    rest_key = pd.Series("", index=rest.index)
    done = f[used_f]
    seen = pd.Series(False, index=rest.index)
    for k in ("imp_uid", "merchant_uid", "pg_tid"):
        mine = rest["key_type"] == k
        if mine.any():
            keys = set(zip(done.loc[done["key_type"] == k, k], done.loc[done["key_type"] == k, "kind"]))
            seen[mine] = [(x, kd) in keys for x, kd in zip(rest.loc[mine, k], rest.loc[mine, "kind"])]
        rest_key[mine] = rest.loc[mine, k]
    why = pd.Series(REASONS["not_found"], index=rest.index)
    why[seen] = REASONS["duplicate"]
    why[rest["key_type"] == "none"] = REASONS["no_key"]
    file_only = rest.drop(columns=["fi", "key_type"]).assign(status=FILE_ONLY, reasons=why).reset_index(drop=True)
    import_only = e[~used_e].drop(columns=["ei"]).assign(status=IMPORT_ONLY).reset_index(drop=True)
    return MatchResult(matched, mism, file_only, import_only)



# ------------------------------------------------------------------ payouts by settlement day (정산/입금대사)
def business_days_after(day: date, n: int, *, years: tuple[int, ...] | None = None) -> date:
    """``day`` + n business days: weekends and Korean public holidays (the ``holidays`` package) skipped."""
    import holidays
    kr = holidays.KR(years=years or (day.year, day.year + 1))
    d, left = day, n
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in kr:
            left -= 1
    return d


def expected_payouts(exp: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The expected settlement per transaction day and PG, turned into expected payouts per settlement day:
    each day's net is paid out ``settlement_days`` (per PG, default ``settlement_days_default``) business days
    later."""
    cols = ["payout_date", "pg", "expected", "transaction_days"]
    if exp.empty:
        return pd.DataFrame(columns=cols)
    days = exp["pg"].map(lambda pg: rules.settlement_days.get(pg, rules.settlement_days_default))
    years = tuple(sorted({d.year for d in exp["date"]} | {d.year + 1 for d in exp["date"]}))
    pay = [business_days_after(d, int(n), years=years) for d, n in zip(exp["date"], days)]
    g = exp.assign(payout_date=pay).groupby(["payout_date", "pg"], as_index=False).agg(
        expected=("net", "sum"), transaction_days=("date", lambda d: ", ".join(sorted({x.isoformat() for x in d}))))
    return g[cols]


def recognise_bank(columns: list[str]) -> tuple[Recognition, dict]:
    """The bank layout of a statement's header and the mapping it implies (with the layout's meaning)."""
    rec = recognise(columns, "bank")
    m = {f: rec.mapping.get(f) for f in BANK_FIELDS}
    return rec, {**m, "signed": rec.signed, "memo_columns": list(rec.memo_columns)}


def guess_bank_map(columns: list[str]) -> dict:
    return recognise_bank(columns)[1]


def normalize_statement(df: pd.DataFrame, cmap: dict) -> pd.DataFrame:
    """A Korean bank's statement export: its deposits, by KST day, with who sent each (the counterparty column)
    and the other texts of the row (적요 — often only the channel, "타행이체" — and memos). Deposits come from an
    입금 column, or from one signed amount column (카카오뱅크, 토스뱅크: positive = in; or 구분 = 입금)."""
    for f in ("date",):
        if not cmap.get(f) or cmap[f] not in df.columns:
            raise ReconFileError(_("Map the statement's {f} column first (e.g. 거래일시, 적요, 입금액).").format(f=f))
    if not (cmap.get("deposit") in df.columns or cmap.get("amount") in df.columns):
        raise ReconFileError(_("Map the statement's deposit column (입금액) or its signed amount column (거래금액)."))
    for f in BANK_FIELDS:
        if cmap.get(f) and cmap[f] not in df.columns:
            raise ReconFileError(_("The file has no column “{col}” (mapped to {f}).").format(col=cmap[f], f=f))
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


PAYOUT_MATCHED, PAYOUT_SHORT, PAYOUT_OVER, PAYOUT_MISSING, PAYOUT_UNEXPECTED, PAYOUT_OFFSET = \
    "일치", "부족 입금", "초과 입금", "미입금", "예상 외 입금", "입금 없음 (상계)"


def sender_groups(rules: Rules) -> dict[str, str]:
    """PG → the name it transfers under (its first sender word): PGs that share it (nice and nice_v2) are paid
    together and compared together."""
    return {pg: words[0] for pg, words in rules.pg_senders.items() if words}


def sender_of(memo: pd.Series, rules: Rules) -> pd.Series:
    """Which sender a deposit came from, by the words its 적요 carries (``rules.pg_senders``); "" when none."""
    out = pd.Series("", index=memo.index)
    up = memo.str.upper()
    for pg, words in rules.pg_senders.items():
        hit = (out == "") & up.str.contains("|".join(re.escape(w.upper()) for w in words), regex=True)
        out[hit] = words[0]
    return out


def match_payouts(expected: pd.DataFrame, statement: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Each expected payout (settlement day, sender) against that sender's deposits that day in the bank
    statement: 일치, 부족 / 초과 입금 (by how much), 미입금; a day whose net is not positive expects no
    transfer (입금 없음 (상계)); deposits no payout explains are 예상 외 입금."""
    groups = sender_groups(rules)
    exp = expected.rename(columns={"payout_date": "date"}).assign(
        sender=lambda d: d["pg"].map(lambda pg: groups.get(pg, pg)))
    exp = exp.groupby(["date", "sender"], as_index=False).agg(
        expected=("expected", "sum"), pg=("pg", lambda x: " / ".join(sorted(set(x)))),
        transaction_days=("transaction_days", lambda x: ", ".join(sorted(set(", ".join(x).split(", "))))))
    depositor = statement["depositor"] if "depositor" in statement else pd.Series("", index=statement.index)
    st = statement.assign(depositor=depositor,
                          sender=sender_of(depositor.str.cat(statement["memo"], sep=" "), rules))
    dep = st[st["sender"] != ""].groupby(["date", "sender"], as_index=False).agg(
        received=("deposit", "sum"), rows=("row", lambda r: ", ".join(str(x) for x in r)),
        memo=("memo", "first"), depositor=("depositor", "first"))
    m = exp.merge(dep, on=["date", "sender"], how="outer")
    m["expected"] = m["expected"].fillna(0).astype("int64")
    m["received"] = m["received"].fillna(0).astype("int64")
    payable = m["expected"].clip(lower=0)
    m["difference"] = m["received"] - payable
    status = pd.Series(PAYOUT_MATCHED, index=m.index)
    status[m["difference"] < 0] = PAYOUT_SHORT
    status[m["difference"] > 0] = PAYOUT_OVER
    status[(m["received"] == 0) & (payable > 0)] = PAYOUT_MISSING
    status[(m["received"] == 0) & (m["expected"] <= 0) & m["pg"].notna()] = PAYOUT_OFFSET
    status[m["pg"].isna() & (m["received"] > 0)] = PAYOUT_UNEXPECTED
    m["status"] = status
    unknown = st[st["sender"] == ""]
    unknown = pd.DataFrame({"date": unknown["date"], "sender": "", "pg": "", "expected": 0,
                            "received": unknown["deposit"], "difference": unknown["deposit"],
                            "rows": unknown["row"].astype(str), "memo": unknown["memo"],
                            "depositor": unknown["depositor"],
                            "status": PAYOUT_UNEXPECTED, "transaction_days": ""})
    out = pd.concat([m, unknown], ignore_index=True)
    for c in ("pg", "rows", "memo", "transaction_days", "sender", "depositor"):
        out[c] = out[c].fillna("")
    order = {PAYOUT_MISSING: 0, PAYOUT_SHORT: 1, PAYOUT_OVER: 2, PAYOUT_UNEXPECTED: 3, PAYOUT_MATCHED: 4,
             PAYOUT_OFFSET: 5}
    out = out.assign(_o=out["status"].map(order)).sort_values(["_o", "date", "sender"]).drop(columns="_o")
    return out[["status", "date", "sender", "depositor", "pg", "expected", "received", "difference",
                "transaction_days", "rows", "memo"]].reset_index(drop=True)


# ------------------------------------------------------------------ presets
class PresetStore:
    """Named column mappings shared by the team (lib/named.py: role, name rules, audit)."""

    def __init__(self, engine):
        self.store = NamedStore(engine, table="recon_presets", payload_column="mapping", noun=N_("preset"),
                                audit_action="recon_preset")

    def save(self, name: str, cmap: ColumnMap, actor, audit=None) -> str:
        """Save (or overwrite) a named mapping. Needs the ``save_settings`` permission; audited."""
        for f, col in cmap.as_dict().items():
            if isinstance(col, str) and len(col) > LIMITS.max_header_chars:
                raise ValueError(_("The column mapped to {f} has too long a name.").format(f=f))
        return self.store.save(name, cmap.as_dict(), actor, audit)

    def all(self) -> dict[str, ColumnMap]:
        return {name: ColumnMap.of(m) for name, m in self.store.all().items()}


# ------------------------------------------------------------------ closing exceptions
def exception_key(kind: str, key: str, event: str, day) -> str:
    """A stable name for one exception, the same in every run whose range covers it (carried over)."""
    import hashlib
    raw = "|".join(str(x) for x in (kind, key, event, day))
    return "exc-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def exception_keys(exc: pd.DataFrame) -> pd.Series:
    """The key of every row of ``MatchResult.exceptions()`` (by imp_uid, else merchant_uid, else pg_tid, else the
    file row)."""
    if exc.empty:
        return pd.Series([], dtype=object)
    def col(c):
        if c not in exc:
            return pd.Series("", index=exc.index)
        v = exc[c].astype(object)
        return v.where(v.notna(), "").astype(str)
    ident = col("imp_uid").where(col("imp_uid") != "", col("merchant_uid"))
    ident = ident.where(ident != "", col("pg_tid")).where(lambda x: x != "", "row " + col("row"))
    return pd.Series([exception_key("pg", i, k, d) for i, k, d in zip(ident, col("kind"), col("date"))],
                     index=exc.index)


def payout_keys(checked: pd.DataFrame) -> pd.Series:
    return pd.Series([exception_key("payout", f"{s}|{w}", "", d) for s, w, d in
                      zip(checked["sender"], checked["depositor"], checked["date"])], index=checked.index)


class ResolutionStore:
    """Exceptions closed by the team, with a memo and an owner (app database, audited, role operator): a later run
    over an overlapping range shows what was resolved, by whom and why. Reopening keeps the history in the audit."""

    def __init__(self, engine):
        self.store = NamedStore(engine, table="recon_resolutions", payload_column="resolution",
                                noun=N_("resolution"), audit_action="recon_resolution")

    def resolve(self, key: str, *, memo: str, owner: str, summary: dict, actor, audit=None) -> None:
        memo, owner = clean(memo), clean(owner)
        if len(memo) < 2:
            raise ValueError(_("Write a memo that says how the exception was closed."))
        if len(memo) > 500 or len(owner) > 100:
            raise ValueError(_("A memo has at most 500 characters and an owner at most 100."))
        self.store.save(key, {"state": "resolved", "memo": memo, "owner": owner or actor.email,
                              "by": actor.email, "at": time.time(), **summary}, actor, audit)

    def reopen(self, key: str, *, actor, audit=None) -> None:
        old = self.store.all().get(key) or {}
        self.store.save(key, {**old, "state": "open", "by": actor.email, "at": time.time()}, actor, audit)

    def resolved(self, keys) -> dict[str, dict]:
        """Of ``keys``, the ones resolved now, with memo, owner, who and when."""
        want = set(keys)
        return {k: v for k, v in self.store.all().items() if k in want and v.get("state") == "resolved"}


def lookback_start(d_from: date, days: int = 90) -> date:
    """Refunds in the range may be of payments started long before: fetch that far back."""
    return d_from - timedelta(days=days)


__all__ = ["ColumnMap", "ReconFileError", "read_file", "guess_map", "normalize", "events", "expected_settlement",
           "match", "MatchResult", "PresetStore", "kst_range", "lookback_start", "VAT_RATE_PERCENT"]
