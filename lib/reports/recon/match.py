"""A settlement file matched against the expected settlement, as PortOne's 거래대사 does: 일치, 불일치 with every
reason, 대사불능 (in the file only / in I'mport only); stable keys for exceptions the team closes.

Longer than 400 lines: the pairing's three ways (one hashed 1:1 join, a join of the columns, n-th with n-th) sit with
the match that chooses between them, so the result's order and its groups are read in one place."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import polars as pl  # its allocator's setting: lib/__init__.py
import pyarrow as pa
import pyarrow.compute as pc

from lib.domain.kinds import MatchStatus

# ------------------------------------------------------------------ matching (거래대사)
MATCHED, MISMATCHED, FILE_ONLY, IMPORT_ONLY = (MatchStatus.MATCHED, MatchStatus.MISMATCHED, MatchStatus.FILE_ONLY,
                                               MatchStatus.IMPORT_ONLY)   # codes; the page says them in 거래대사's words


REASONS = {"amount": "금액 불일치", "fee": "수수료 불일치", "fee_vat": "수수료부가세 불일치", "vat": "부가세 불일치",
           "date": "결제일자 불일치", "duplicate": "파일 중복", "no_key": "거래번호 없음", "not_found": "아임포트에 없음"}


class MatchedPairs:
    """The matched group — at a month end nearly every row — kept as what it is: pairs of a file row and an event
    (positions in the frames the match was given, which the page keeps anyway), with its count and its totals per PG
    worked out by the match. Its rows are made when they are read: the page reads the first few hundred, a test or
    an export all of them. A million matched rows are then ~32 MB of positions and key names instead of a 115 MB
    frame made on every match (bench/reconcile.py)."""

    def __init__(self, file_rows: pd.DataFrame, events: pd.DataFrame, pairs: pl.DataFrame,
                 by_pg: list[tuple[str, int, int]]):
        self.file_rows, self.events = file_rows, events
        self.pairs = pairs                              # fi, ei (positions), matched_by
        self.by_pg = by_pg
        self._first: dict[int, pd.DataFrame] = {}      # the first rows the page shows, made once, not on every rerun

    def __len__(self) -> int:
        return self.pairs.height

    def rows(self, n: int | None = None) -> pd.DataFrame:
        """The first ``n`` matched rows (all: None) as the page and the exports read them."""
        if n is None:
            return _pandas(_matched(self.file_rows, self.events, self.pairs))
        if n not in self._first:                     # two sessions at once: made twice, the same rows
            self._first[n] = _pandas(_matched(self.file_rows, self.events, self.pairs.head(n)))
        return self._first[n]


class MatchResult:
    """The four groups. ``matched`` may be given as ``MatchedPairs`` (what ``match`` makes): it becomes a frame only
    when it is read whole, not for its count, its totals or the first rows the page shows."""

    def __init__(self, matched: pd.DataFrame | MatchedPairs, mismatched: pd.DataFrame, file_only: pd.DataFrame,
                 import_only: pd.DataFrame, key_used: dict | None = None):
        self._pairs: MatchedPairs | None = matched if isinstance(matched, MatchedPairs) else None
        self._matched_pd: pd.DataFrame | None = matched if isinstance(matched, pd.DataFrame) else None
        self.mismatched, self.file_only, self.import_only = mismatched, file_only, import_only
        self.key_used = key_used or {}

    @property
    def matched(self) -> pd.DataFrame:
        if self._matched_pd is None:                 # two sessions reading it at once: made twice, same value
            assert self._pairs is not None
            self._matched_pd = self._pairs.rows()
        return self._matched_pd

    def matched_count(self) -> int:
        return len(self._pairs) if self._pairs is not None else len(self.matched)

    def matched_head(self, n: int) -> pd.DataFrame:
        """The first ``n`` matched rows (what the page shows), made alone."""
        if self._pairs is not None and self._matched_pd is None:
            return self._pairs.rows(n)
        return self.matched.head(n)

    def matched_by_pg(self) -> list[tuple[str, int, int]]:
        """(pg, rows, amount) of the matched group, per PG, in the order of the PG codes."""
        if self._pairs is not None:
            return self._pairs.by_pg
        m = self.matched
        if m.empty:
            return []
        return _by_pg(pl.from_pandas(m[["pg", "amount"]]))

    def summary(self) -> pd.DataFrame:
        def tot(df: pd.DataFrame, col: str) -> int:
            return int(df[col].fillna(0).sum()) if col in df and not df.empty else 0
        return pd.DataFrame([
            {"group": MATCHED, "rows": self.matched_count(), "amount": sum(a for _p, _n, a in self.matched_by_pg())},
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


def month_end_summary(result: "MatchResult", checked: pd.DataFrame | None, closed: frozenset[str] | set[str] = frozenset(),
                      file_id: str = "") -> pd.DataFrame:
    """One page for month end: per PG, matched / mismatched / unmatched rows, their amount and their difference (what
    the file says minus what I'mport says: a row in the file only adds, one at I'mport only takes away); then the
    payouts short, over, missing and unexpected with the money received and the difference. Each exception group says
    how many of its rows are still open and how many the team closed (``closed``: the keys resolved)."""
    rows = [{"section": "match", "group": MATCHED, "pg": pg, "rows": n, "amount": amount, "difference": 0,
             "open": 0, "closed": 0} for pg, n, amount in result.matched_by_pg()]
    for group, df, amount in ((MISMATCHED, result.mismatched, "file_amount"), (FILE_ONLY, result.file_only, "amount"),
                              (IMPORT_ONLY, result.import_only, "amount")):
        if df.empty:
            continue
        keys = exception_keys(df, file_id)
        is_closed = keys.isin(list(closed))
        g = df.assign(pg=df["pg"].fillna("") if "pg" in df else "", _closed=is_closed).groupby("pg", dropna=False)
        for pg, part in g:
            total = int(part[amount].fillna(0).sum()) if amount in part else 0
            diff = int(part["amount_diff"].fillna(0).sum()) if group == MISMATCHED else \
                (total if group == FILE_ONLY else -total)
            rows.append({"section": "match", "group": group, "pg": pg, "rows": len(part), "amount": total,
                         "difference": diff, "open": int((~part["_closed"]).sum()), "closed": int(part["_closed"].sum())})
    if checked is not None and not checked.empty:
        pkeys = payout_keys(checked)
        for status, part in checked.groupby("status"):
            shut = int(pkeys[part.index].isin(list(closed)).sum())
            rows.append({"section": "payout", "group": status, "pg": "", "rows": len(part),
                         "amount": int(part["received"].sum()), "difference": int(part["difference"].sum()),
                         "open": len(part) - shut, "closed": shut})
    return pd.DataFrame(rows, columns=["section", "group", "pg", "rows", "amount", "difference", "open", "closed"])


KEYS = ("imp_uid", "merchant_uid", "pg_tid")      # what a file row is matched by, in this order


PAIR_BUCKETS, PAIR_BUCKET_ROWS = 8, 200_000      # past this many rows a side, the pairing join is done in parts


def _pair(f: pl.DataFrame, e: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """1:1 pairs (fi, ei) of file rows and events with equal ``on``: the n-th of each group with the n-th, in the
    file's order. Large sides are paired in parts by a hash of the key (equal keys fall in the same part, so the
    pairs are the same): the join's hash tables are an eighth as big at once (measured at 1 M rows: the pairing's
    peak +250 → +80 MB, for 0–0.1 s)."""
    if min(f.height, e.height) < PAIR_BUCKET_ROWS:                 # an empty side included
        return _pair_one(f, e, on)
    fast = _pair_hashed(f, e, on)
    if fast is not None:
        return fast
    hf = f.select(pl.col(on[0]).hash() % PAIR_BUCKETS)[:, 0]
    he = e.select(pl.col(on[0]).hash() % PAIR_BUCKETS)[:, 0]
    parts = [_pair_one(f.filter(hf == b), e.filter(he == b), on) for b in range(PAIR_BUCKETS)]
    return pl.concat(parts).sort("fi")                      # the file's order, as one join gives it


def _pair_hashed(f: pl.DataFrame, e: pl.DataFrame, on: list[str]) -> pl.DataFrame | None:
    """A month end's pairs in one join of integers: each row's ``on`` hashed once (64 bits), joined 1:1 in the
    file's order, then every pair's ``on`` compared. None — the join of the columns decides — when a key repeats on
    a side, two keys share a hash, or a value is missing. Measured at 1 M rows: 0.75 → 0.3 CPU-s, and no copy of
    a million keys per bucket."""
    if any(f[c].null_count() or e[c].null_count() for c in on):
        return None
    at = pl.int_range(pl.len(), dtype=pl.Int64)
    try:
        p = (f.select(pl.struct(on).hash(7).alias("_h"), at.alias("_f"))
             .join(e.select(pl.struct(on).hash(7).alias("_h"), at.alias("_e")), on="_h", how="inner",
                   maintain_order="left", validate="1:1"))
    except pl.exceptions.ComputeError:
        return None
    for c in on:                                  # the same key, kind and amount, not only the same hash
        if not bool((f[c].gather(p["_f"]) == e[c].gather(p["_e"])).all()):
            return None
    return pl.DataFrame([f["fi"].gather(p["_f"]), e["ei"].gather(p["_e"])])


def _pair_one(f: pl.DataFrame, e: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    if f.is_empty() or e.is_empty():
        return pl.DataFrame({"fi": [], "ei": []}, schema={"fi": pl.Int64, "ei": pl.Int64})
    try:                     # a month end's keys are each once on each side: one join, checked to be 1:1 (measured
        return (f.select([*on, "fi"])     # at 1 M rows: 0.6 CPU-s against 0.9 counting the repeated keys first)
                .join(e.select([*on, "ei"]), on=on, how="inner", maintain_order="left", validate="1:1")
                .select("fi", "ei"))
    except pl.exceptions.ComputeError:   # a key repeats on a side: the n-th of each group with the n-th
        pass
    return (_nth(f.select([*on, "fi"]), on)
            .join(_nth(e.select([*on, "ei"]), on), on=[*on, "_n"], how="inner", maintain_order="left")
            .select("fi", "ei"))


def _nth(df: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """Each row's place among the rows with its ``on`` (0, 1, …, in order). Most keys appear once: only the repeated
    ones are counted (a window over a million groups costs more than the join)."""
    dup = df.select(pl.struct(on).is_duplicated())[:, 0]
    if not dup.any():
        return df.with_columns(pl.lit(0, pl.Int64).alias("_n"))
    idx = df.columns[-1]                                         # fi or ei: unique, ascending
    rep = df.filter(dup).select(idx, pl.int_range(pl.len(), dtype=pl.Int64).over(on).alias("_n"))
    return df.join(rep, on=idx, how="left", maintain_order="left").with_columns(pl.col("_n").fill_null(0))


def _unused(df: pl.DataFrame, idx: str, used: np.ndarray) -> pl.DataFrame:
    """The rows of ``df`` whose ``idx`` is not yet ``used``; ``df`` itself when none is (no copy of a million keys)."""
    taken = used[df[idx].to_numpy()]
    return df.filter(~pl.Series(taken)) if taken.any() else df


def _polars(df: pd.DataFrame, cols: list[str]) -> pl.DataFrame:
    """``cols`` of ``df`` as one contiguous polars frame. Contiguous matters: the events come in two pieces
    (deposits, refunds), and every gather from a column in pieces first copies it whole (measured: +100 MB at once
    per gather of a million events' imp_uid, against +19 MB from one piece)."""
    frame = pl.from_arrow(pa.Table.from_pandas(df[cols], preserve_index=False))
    assert isinstance(frame, pl.DataFrame)
    return frame.rechunk()


def _pandas(df: pl.DataFrame, nullable: tuple[str, ...] = ()) -> pd.DataFrame:
    """A result as pandas, typed as the page and the exports read it: text Arrow-backed, days as dates, whole won as
    int64 (nullable Int64 where the file may leave a cell empty)."""
    table = df.to_arrow()
    days = [c for c, t in zip(table.column_names, table.schema.types) if pa.types.is_date(t)]
    out = table.drop_columns(days).to_pandas()
    for c in days:                    # one date object per day, shared by its rows (not one per row)
        codes = pc.fill_null(pc.cast(table[c], pa.int32()), 0).to_numpy(zero_copy_only=False)
        low, high = (int(codes.min()), int(codes.max())) if len(codes) else (0, 0)
        if high - low < 4096:                     # a month: a few dozen days, looked up by offset
            objects = np.array([date(1970, 1, 1) + timedelta(days=d) for d in range(low, high + 1)], dtype=object)
            values = objects[codes - low]
        else:                                     # days far apart (a stray year in a file): only those that occur
            uniq, inverse = np.unique(codes, return_inverse=True)
            values = np.array([date(1970, 1, 1) + timedelta(days=int(d)) for d in uniq], dtype=object)[inverse]
        if table[c].null_count:
            values[pc.is_null(table[c]).to_numpy(zero_copy_only=False)] = None
        out.insert(table.column_names.index(c), c, values)
    for c in nullable:
        if c in out:
            out[c] = out[c].astype("Int64")
    return out


def _by_pg(m: pl.DataFrame) -> list[tuple[str, int, int]]:
    g = (m.with_columns(pl.col("pg").fill_null("")).group_by("pg")
         .agg(pl.len().alias("rows"), pl.col("amount").fill_null(0).sum().alias("amount")).sort("pg"))
    return [(str(pg), int(n), int(a)) for pg, n, a in g.iter_rows()]


def _matched(fdf: pd.DataFrame, edf: pd.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """The matched group's rows for ``pairs``: the file's amount, the fee and fee VAT I'mport's schedule expects."""
    m = _group(fdf, edf, pairs, ("amount",), ("fee", "fee_vat")).rename(
        {"file_amount": "amount", "import_fee": "fee", "import_fee_vat": "fee_vat"})
    return m.select(*m.columns[:8], pl.lit(str(MATCHED)).alias("status"), "amount", "fee", "fee_vat")


def _group(fdf: pd.DataFrame, edf: pd.DataFrame, pairs: pl.DataFrame, file_cols: tuple[str, ...],
           import_cols: tuple[str, ...]) -> pl.DataFrame:
    """For ``pairs`` (fi, ei: positions in the file rows ``fdf`` and the events ``edf``; matched_by): the columns
    both groups show, then the file's ``file_cols`` and I'mport's ``import_cols`` — only these rows and columns."""
    lt = _polars(fdf.iloc[pairs["fi"].to_numpy()], ["row", "kind", "date", *file_cols])
    rt = _polars(edf.iloc[pairs["ei"].to_numpy()], ["date", "imp_uid", "merchant_uid", "pg", *import_cols])
    return pl.DataFrame([lt["row"], lt["kind"], lt["date"], rt["date"].alias("import_date"), pairs["matched_by"],
                         rt["imp_uid"], rt["merchant_uid"], rt["pg"],
                         *(lt[c].alias("file_" + c) for c in file_cols), *(rt[c].alias("import_" + c) for c in import_cols)])


def match(file_rows: pd.DataFrame, ev: pd.DataFrame) -> MatchResult:
    """Pair each file row with one I'mport event by imp_uid, else merchant_uid, else pg_tid (and kind), exact
    amounts first; then list every reason a pair differs (amount, fee, fee VAT, VAT, KST day).

    The joins and the comparisons run in polars over Arrow columns (multi-threaded, no Python object per row);
    the exceptions come back as pandas frames for the page and the exports, the matched group as pairs whose rows
    are made when read (MatchedPairs). The pandas engine this replaced is kept as bench/pandas_match.py:
    tests/reports/test_match_engines.py holds the two to the same result."""
    f = file_rows.reset_index(drop=True)                 # copy-on-write: the caller's frame is not touched
    for col in ("fee", "fee_vat", "tax_free", "vat"):
        f[col] = (f[col] if col in f else pd.Series(pd.NA, index=f.index)).astype("Int64")
    for col in ("imp_uid", "merchant_uid", "pg_tid"):
        f[col] = f[col].fillna("").astype(str) if col in f else ""
    key_type = np.zeros(len(f), dtype=np.int8)                # KEYS[code - 1]; 0: the row has no key
    for code, k in sorted(enumerate(KEYS, start=1), reverse=True):   # the first present wins: imp_uid over …
        key_type[(f[k] != "").to_numpy()] = code
    f["fi"] = np.arange(len(f), dtype=np.int64)
    e = ev.reset_index(drop=True)
    keyed = [k for code, k in enumerate(KEYS, start=1) if (key_type == code).any()]   # only the keys in use are copied
    # What the pairing reads, and only that, is held in polars (kind as an Enum: one byte a row, not a string); the
    # columns compared afterwards are copied one at a time while they are compared.
    F = _polars(f, ["fi", "kind", "amount", *keyed])
    E = _polars(e, ["kind", "amount", *keyed]).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("ei"))
    kinds = pl.Enum(sorted(set(F["kind"].unique().drop_nulls()) | set(E["kind"].unique().drop_nulls())))
    F, E = F.with_columns(pl.col("kind").cast(kinds)), E.with_columns(pl.col("kind").cast(kinds))
    used_f, used_e = np.zeros(len(f), dtype=bool), np.zeros(len(e), dtype=bool)
    pairs = []
    for code, k in enumerate(KEYS, start=1):
        mine = key_type == code
        if not mine.any():                           # no file row keyed so: do not copy the events for nothing
            continue
        fk = F.select(k, "kind", "amount", "fi").filter(pl.Series(mine & ~used_f)).rename({k: "key"})
        ek = E.select(k, "kind", "amount", "ei").filter(pl.Series(~used_e) & (E[k] != "").fill_null(False)) \
            .rename({k: "key"})
        for on in (["key", "kind", "amount"], ["key", "kind"]):
            p = _pair(_unused(fk, "fi", used_f), _unused(ek, "ei", used_e), on)
            if p.height:
                pairs.append(p.with_columns(pl.lit(k).alias("matched_by")))
                used_f[p["fi"].to_numpy()] = True
                used_e[p["ei"].to_numpy()] = True
    P = pl.concat(pairs) if pairs else pl.DataFrame(schema={"fi": pl.Int64, "ei": pl.Int64, "matched_by": pl.String})
    # The reasons are computed a pair of columns at a time (the file's and I'mport's, gathered by the pairs, then
    # let go); the matched group stays pairs (MatchedPairs) and the differing pairs' frame is gathered once: a
    # million pairs are never held as a joined frame (the match's peak memory).
    fi, ei = P["fi"], P["ei"]

    def file_col(c: str) -> pl.Series:                   # the file's column c, in the pairs' order
        return _polars(f, [c])[c][fi]

    def import_col(c: str, at: pl.Series = ei) -> pl.Series:     # I'mport's
        return _polars(e, [c])[c][at]

    check: dict[str, pl.Series] = {}
    file_amount = F["amount"][fi]
    check["amount"] = file_amount != E["amount"][ei]
    for c in ("fee", "fee_vat"):
        got = file_col(c)
        check[c] = got.is_not_null() & (got.fill_null(0) != import_col(c))
    vat = file_col("vat")
    check["vat"] = vat.is_not_null() & (F["kind"][fi] == "deposit") \
        & (vat.fill_null(0) != (file_amount - file_col("tax_free").fill_null(0) + 5) // 11)
    del vat, file_amount
    check["date"] = file_col("date") != import_col("date")
    flags = pl.DataFrame(check)                         # the reasons' order: amount, fee, fee VAT, VAT, day
    del check
    bad = flags.select(pl.any_horizontal(pl.all()).alias("bad"))["bad"]

    good = P.filter(~bad)
    matched = MatchedPairs(file_rows.reset_index(drop=True), e, good,
                           _by_pg(pl.DataFrame({"pg": import_col("pg", good["ei"]), "amount": F["amount"][good["fi"]]})))
    g = _group(f, e, P.filter(bad), ("amount", "fee", "fee_vat"), ("amount", "fee", "fee_vat"))
    reasons = flags.filter(bad).select(pl.concat_str([pl.when(pl.col(c)).then(pl.lit(REASONS[c])) for c in flags.columns],
                                                     separator="; ", ignore_nulls=True).alias("reasons"))["reasons"]
    mism = g.select(*g.columns[:8]).with_columns(      # the pairs that differ: the reasons' text only for them
        status=pl.lit(str(MISMATCHED)), reasons=reasons, file_amount=g["file_amount"],
        import_amount=g["import_amount"], amount_diff=g["file_amount"] - g["import_amount"], file_fee=g["file_fee"],
        expected_fee=g["import_fee"], fee_diff=g["file_fee"].fill_null(g["import_fee"]) - g["import_fee"],
        file_fee_vat=g["file_fee_vat"], expected_fee_vat=g["import_fee_vat"])
    del F, E, flags, g                                # a million rows each: gone before the results are made
    mism = mism.sort([mism["amount_diff"].abs(), mism["fee_diff"].abs()], descending=True, maintain_order=True)
    mismatched = _pandas(mism, ("file_fee", "file_fee_vat"))
    mismatched["reasons"] = mismatched["reasons"].astype(object)
    rest = f[~used_f].copy()
    why = pd.Series(REASONS["not_found"], index=rest.index)
    rest_type, done, done_type = key_type[~used_f], f[used_f], key_type[used_f]
    for code, k in enumerate(KEYS, start=1):
        mine_rest = rest_type == code
        if mine_rest.any():                         # the same key (and kind) already matched: the file repeats it
            d = done[done_type == code]
            seen = pd.MultiIndex.from_arrays([rest[k][mine_rest], rest["kind"][mine_rest]]).isin(
                pd.MultiIndex.from_arrays([d[k], d["kind"]]))
            why[rest.index[mine_rest][seen]] = REASONS["duplicate"]
    why[rest_type == 0] = REASONS["no_key"]
    file_only = rest.drop(columns=["fi"]).assign(status=FILE_ONLY, reasons=why).reset_index(drop=True)
    import_only = e[~used_e].assign(status=IMPORT_ONLY).reset_index(drop=True)
    return MatchResult(matched, mismatched, file_only, import_only)


# ------------------------------------------------------------------ closing exceptions
def exception_key(kind: str, key: str, event: str, day: object) -> str:
    """A stable name for one exception, the same in every run whose range covers it (carried over)."""
    import hashlib
    raw = "|".join(str(x) for x in (kind, key, event, day))
    return "exc-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def exception_keys(exc: pd.DataFrame, file_id: str = "") -> pd.Series:
    """The key of every row of ``MatchResult.exceptions()``: by imp_uid, else merchant_uid, else pg_tid (the same in
    every run and every file that names the payment: a carried-over exception finds its resolution). A row with none
    of them is keyed by the file (``file_id``: its content's hash), its row and what it holds, so line 5 of another
    file on the same day is another exception."""
    if exc.empty:
        return pd.Series([], dtype=object)

    def col(c: str) -> pd.Series:
        if c not in exc:
            return pd.Series("", index=exc.index)
        v = exc[c].astype(object)
        return v.where(v.notna(), "").astype(str)
    ident = col("imp_uid").where(col("imp_uid") != "", col("merchant_uid"))
    ident = ident.where(ident != "", col("pg_tid"))
    keyless = "row " + file_id + ":" + col("row") + ":" + col("amount") + ":" + col("status")
    ident = ident.where(ident != "", keyless)
    return pd.Series([exception_key("pg", i, k, d) for i, k, d in zip(ident, col("kind"), col("date"))],
                     index=exc.index)


def payout_keys(checked: pd.DataFrame) -> pd.Series:
    """A payout's key: its settlement day and sender (one expected payout each); a deposit no payout explains also by
    its amount and its order among equal ones, so two deposits from one sender on one day are two exceptions."""
    if checked.empty:
        return pd.Series([], dtype=object, index=checked.index)
    unexpected = checked["pg"].fillna("").eq("") if "pg" in checked else pd.Series(True, index=checked.index)
    nth = checked.groupby(["date", "sender", "depositor", "received"], dropna=False).cumcount()
    out = []
    for s, w, d, got, n, odd in zip(checked["sender"], checked["depositor"], checked["date"], checked["received"], nth,
                                    unexpected):
        who = f"{s}|{w}|{got}|{n}" if odd else f"{s}|{w}"
        out.append(exception_key("payout", who, "", d))
    return pd.Series(out, index=checked.index)
