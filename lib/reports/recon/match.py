"""A settlement file matched against the expected settlement, as PortOne's 거래대사 does: 일치, 불일치 with every
reason, 대사불능 (in the file only / in I'mport only); stable keys for exceptions the team closes."""

from __future__ import annotations

from lib.domain.kinds import MatchStatus

from dataclasses import dataclass, field
import numpy as np
import pandas as pd


# ------------------------------------------------------------------ matching (거래대사)
MATCHED, MISMATCHED, FILE_ONLY, IMPORT_ONLY = (MatchStatus.MATCHED, MatchStatus.MISMATCHED, MatchStatus.FILE_ONLY,
                                               MatchStatus.IMPORT_ONLY)   # codes; the page says them in 거래대사's words


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
            seen[mine] = pd.Series([(x, kd) in keys for x, kd in zip(rest.loc[mine, k], rest.loc[mine, "kind"])],
                                   index=rest.index[mine])
        rest_key[mine] = rest.loc[mine, k]
    why = pd.Series(REASONS["not_found"], index=rest.index)
    why[seen] = REASONS["duplicate"]
    why[rest["key_type"] == "none"] = REASONS["no_key"]
    file_only = rest.drop(columns=["fi", "key_type"]).assign(status=FILE_ONLY, reasons=why).reset_index(drop=True)
    import_only = e[~used_e].drop(columns=["ei"]).assign(status=IMPORT_ONLY).reset_index(drop=True)
    return MatchResult(matched, mism, file_only, import_only)


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
