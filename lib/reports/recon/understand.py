"""A file read by what its cells hold and checked against I'mport's own data: which column is the day, the amount,
the order number; whether 수수료 includes its VAT; which 부가세 is the payment's and which the fee's; which codes
mean a cancel; in a bank statement, which columns are money in and out (proved by the balance column when there is
one) and which column names who sent each deposit.

Where more than one reading is plausible, each is scored by how many rows it explains against the expected events
(a PG file) or the expected payouts (a bank statement); the best is taken and shown as a ``Choice`` with its evidence
in the team's words, the runner-up one click away. A reading that explains too little is a ``stop``: one sentence
naming the likely cause and the fix, and no numbers are shown from it.

Header names stay a strong signal (``layouts.field_hint``), but a column whose header no table knows is still found
by its content (``cells.profile``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from lib.domain.i18n import _
from lib.domain.names import pg_short
from lib.domain.settings import Rules
from lib.reports.recon import cancels, cells
from lib.reports.recon.cells import Profile
from lib.reports.recon.layouts import field_hint
from lib.reports.recon.normalize import REFUND_WORDS, VBANK_CODES, VBANK_WORDS, ColumnMap
from lib.reports.recon.reading import EXPLAINED_MIN, KEY_FIELDS, Choice, Known, Option, Reading, _col, _pick, _ranked
from lib.reports.recon.words import pg_family

# ------------------------------------------------------------------ a PG settlement file


def _id_overlap(p: Profile, hits: set[str]) -> float:
    """Share of a column's distinct sampled values that are I'mport's ids."""
    if not p.values:
        return 0.0
    mine = {cells.nfkc(x).strip() for x in p.values}
    return sum(1 for v in mine if v in hits) / max(len(mine), 1)


def _keys(profiles: list[Profile], known: Known) -> dict[str, Profile | None]:
    """Each key field's column: the one whose values are I'mport's own ids, else the one its header names."""
    out: dict[str, Profile | None] = {}
    taken: set[str] = set()
    cands = [p for p in profiles if p.filled > 0]    # numeric order numbers read as amounts or days: ids decide
    seen = {cells.nfkc(v).strip() for p in cands for v in p.values}
    for k in KEY_FIELDS:
        hits = known.among(k, seen)                 # one scan of I'mport's ids of this kind for every column
        scored = [(_id_overlap(p, hits), field_hint(k, p.name), p) for p in cands if p.name not in taken
                  and (p.is_text or _id_overlap(p, hits) >= 0.5)]
        by_data = max(scored, key=lambda t: (t[0], t[1]), default=None)
        if by_data is not None and by_data[0] >= 0.2:
            out[k] = by_data[2]
        else:
            by_name = max((t for t in scored if t[1] > 0), key=lambda t: t[1], default=None)
            hit = by_name[2] if by_name is not None else None
            if k == "imp_uid" and hit is not None and not any(str(v).startswith("imp_") for v in hit.values):
                hit = None                              # imp_uids have their own shape
            out[k] = hit
        got = out[k]
        if got is not None:
            taken.add(got.name)
    return out


def _key_of_rows(s: pd.DataFrame, keys: dict[str, Profile | None]) -> tuple[pd.Series, pd.Series]:
    """(key field, key value) per sampled row: imp_uid, else merchant_uid, else pg_tid — as the match pairs them."""
    field_ = pd.Series("", index=s.index, dtype=object)
    value = pd.Series("", index=s.index, dtype=object)
    for k in reversed(KEY_FIELDS):
        p = keys.get(k)
        if p is None:
            continue
        v = s[p.name].astype(str).map(lambda x: cells._unguard(cells.nfkc(x).strip()))
        has = v != ""
        field_[has], value[has] = k, v[has]
    return field_, value


def _events_by_row(s: pd.DataFrame, keys: dict[str, Profile | None], ev: pd.DataFrame, known: Known) -> pd.DataFrame:
    """The sampled rows joined to the events with their key (a row may meet a deposit and a refund): row, kind,
    date, amount, fee, fee_vat of each pair."""
    kf, kv = _key_of_rows(s, keys)
    parts = []
    for k in KEY_FIELDS:
        mine = kv[kf == k]
        if mine.empty or k not in ev:
            continue
        e = known.rows_of(ev, k, mine.unique())
        if e.empty:
            continue
        left = pd.DataFrame({"row": mine.index, "key": mine.to_numpy()})
        parts.append(left.merge(e.rename(columns={k: "key"})[["key", "kind", "date", "amount", "fee", "fee_vat", "pg"]],
                                on="key"))
    if not parts:
        return pd.DataFrame(columns=["row", "key", "kind", "date", "amount", "fee", "fee_vat", "pg"])
    return pd.concat(parts, ignore_index=True)


def _agree(pairs: pd.DataFrame, values: pd.Series, col: str) -> int:
    """Sampled rows with at least one event whose ``col`` equals the row's value."""
    if pairs.empty:
        return 0
    v = pairs["row"].map(values)
    ok = (v == pairs[col]) & v.notna()
    return int(pairs.loc[ok, "row"].nunique())


def _fee_readings(s: pd.DataFrame, fee: Profile, fee_vat: Profile | None) -> dict[str, tuple[pd.Series, pd.Series]]:
    """(fee without VAT, its VAT) per sampled row under each reading of the fee column."""
    f = cells.amounts(s[fee.name]).abs()
    fv = cells.amounts(s[fee_vat.name]).abs() if fee_vat is not None else None
    out = {"excl": (f, fv if fv is not None else (f * 10 + 5) // 100)}
    vat_in = fv if fv is not None else f - (f * 10 + 5) // 11
    out["incl"] = (f - vat_in, vat_in)
    return out


def understand_pg(df: pd.DataFrame, ev: pd.DataFrame, rules: Rules | None = None,
                  overrides: dict[str, str] | None = None) -> Reading:
    """The reading of a PG settlement file ``df`` (text cells) that explains most of it against the events ``ev``
    (lib/reports/recon/expected.py ``events`` over the file's days, every PG)."""
    overrides = overrides or {}
    profiles = cells.profile(df)
    s = cells.sample(df)
    known = Known(ev)
    keys = _keys(profiles, known)
    pairs = _events_by_row(s, keys, ev, known)
    keyed_rows = int(pairs["row"].nunique()) if not pairs.empty else 0
    used = {p.name for p in keys.values() if p is not None}
    choices: list[Choice] = []

    # the day: the column whose days are I'mport's for the same payments (거래일 over 정산일)
    day_cols = [p for p in profiles if p.is_day and p.name not in used]
    date_opts = []
    for p in day_cols:
        d = cells.days(s[p.name], serial=p.serial)
        date_opts.append(Option(p.name, p.name, _agree(pairs, d, "date") + field_hint("date", p.name) / 10))
    date_c = _pick(Choice("date", _("Day of each row"), _ranked(date_opts)), overrides) if date_opts else None
    if date_c:
        choices.append(date_c)
        used.add(date_c.key)

    # the amount: the column whose sums are I'mport's for the same payments (거래금액, not 정산금액)
    money = [p for p in profiles if p.is_amount and p.name not in used]
    amt_opts = []
    for p in money:
        a = cells.amounts(s[p.name]).abs()
        amt_opts.append(Option(p.name, p.name, _agree(pairs, a, "amount") + field_hint("amount", p.name) / 10))
    amount_c = _pick(Choice("amount", _("Amount of each row"), _ranked(amt_opts)), overrides) if amt_opts else None
    if amount_c:
        choices.append(amount_c)
        used.add(amount_c.key)
    amount_p = next((p for p in profiles if amount_c and p.name == amount_c.key), None)

    # deposit or cancel: a column of words or codes, learned from the rows whose payment I'mport knows
    type_c, refund_values, deposit_values = _kind_column(profiles, s, pairs, used, overrides)
    if type_c:
        choices.append(type_c)
        used.add(type_c.key)

    # how cancels are written when no column says so: their own day, their own amount, a minus beside
    cx = cancels.learn(profiles, s, pairs, used, amount=amount_p, has_kind=type_c is not None)
    used |= {c for c in (cx.cancel_date, cx.cancel_amount, cx.sign_from) if c}

    # VAT columns: the payment's (about 1/11 of the amount) or the fee's (about 1/10 or 1/11 of the fee)
    rest = [p for p in profiles if p.is_amount and p.name not in used]
    fee_p, fee_vat_p, vat_p, tax_free_p = _fee_and_vat(rest, s, amount_p)
    fee_c = None
    if fee_p is not None:
        readings = _fee_readings(s, fee_p, fee_vat_p)
        opts = []
        for key, (sup, vat) in readings.items():
            n = _agree(pairs, sup, "fee") if fee_vat_p is None else int(
                pairs.assign(_s=pairs["row"].map(sup), _v=pairs["row"].map(vat))
                .query("_s == fee and _v == fee_vat")["row"].nunique()) if not pairs.empty else 0
            ratio = _ratio_hint(s, fee_p, fee_vat_p, key)
            label = _("the fee includes its VAT") if key == "incl" else _("the fee is without its VAT")
            opts.append(Option(key, label, n + ratio / 10))
        fee_c = _pick(Choice("fee_vat", _("수수료 and its VAT"), _ranked(opts)), overrides)
        best, other = fee_c.options[fee_c.picked], [o for o in fee_c.options if o is not fee_c.options[fee_c.picked]]
        if keyed_rows:
            fee_c.evidence = _("Read {col} as: {how}. {n} of {rows} rows agree with the fee schedule; read as {other} "
                               "{m} rows would.").format(col=f"“{fee_p.name}”", how=best.label, n=int(best.score),
                                                         rows=keyed_rows, other=other[0].label if other else "—",
                                                         m=int(other[0].score) if other else 0)
        choices.append(fee_c)
    pg_p = max((p for p in profiles if p.pg >= 0.8 and p.name not in used and p.is_text),
               key=lambda p: (p.pg, field_hint("pg", p.name)), default=None)
    method_p = max((p for p in profiles if p.method >= 0.8 and p.name not in used and p.is_text
                    and (pg_p is None or p.name != pg_p.name)),
                   key=lambda p: (p.method, field_hint("method", p.name)), default=None)
    file_pg, several, reading_notes = None, None, []
    if pg_p is None and not pairs.empty:         # no PG column: the PGs of the payments its rows are
        first = pairs.drop_duplicates("row")
        families = first["pg"].map(lambda p: min(pg_family(p)) if p else "")
        top = families.value_counts()
        if len(top) and top.iloc[0] >= 0.95 * len(families) and top.index[0]:
            file_pg = first["pg"][families == top.index[0]].mode().iloc[0]
            reading_notes = [_("Every row the file and I'mport share is a {pg} payment: the file is read as {pg}'s "
                               "alone.").format(pg=pg_short(file_pg))]
        elif len(top) <= 3 and all(top.index):    # a few PGs in one file: compared with those, not with every PG
            several = ",".join(sorted(top.index))
            reading_notes = [_("The file's rows are payments of {pgs}: it is compared with those PGs only.").format(
                pgs=", ".join(pg_short(p) for p in sorted(top.index)))]
    cmap = ColumnMap(date=date_c.key if date_c else None, type=type_c.key if type_c else None,
                     amount=amount_c.key if amount_c else None, fee=_col(fee_p),
                     fee_vat=_col(fee_vat_p), tax_free=_col(tax_free_p), vat=_col(vat_p),
                     imp_uid=_col(keys["imp_uid"]), merchant_uid=_col(keys["merchant_uid"]),
                     pg_tid=_col(keys["pg_tid"]), pg=_col(pg_p), method=_col(method_p),
                     fee_includes_vat=bool(fee_c and fee_c.key == "incl"), refund_values=",".join(refund_values),
                     deposit_values=",".join(deposit_values), file_pg=file_pg, cancel_date=cx.cancel_date,
                     cancel_amount=cx.cancel_amount, sign_from=cx.sign_from, file_pgs=several)
    for c in choices:
        if not c.evidence and len(c.options) > 1 and keyed_rows:
            first_opt = c.options[c.picked]
            second = next(o for o in c.options if o is not first_opt)
            c.evidence = _("{title}: {col} agrees with I'mport in {n} of {rows} rows; {other} in {m}.").format(
                title=c.title, col=f"“{first_opt.label}”", n=int(first_opt.score), rows=keyed_rows, other=f"“{second.label}”",
                m=int(second.score))
    reading = Reading("pg", cmap, choices, notes=reading_notes)
    check_pg(reading, df, ev, known)
    if reading.stop is None and amount_c is not None and keyed_rows >= 5 \
            and amount_c.options[amount_c.picked].score < EXPLAINED_MIN * keyed_rows:
        reading.stop = _("The file's rows are payments I'mport knows, but their amounts are not: only {n} of {rows} "
                         "rows agree in {col}. It may be an amount net of fees, or the amount is in another column: "
                         "choose it under “Columns” below.").format(
            n=int(amount_c.options[amount_c.picked].score), rows=keyed_rows, col=f"“{amount_c.key}”")
    if reading.stop is None and date_c is not None and keyed_rows >= 5 \
            and date_c.options[date_c.picked].score < EXPLAINED_MIN * keyed_rows:
        reading.stop = _("The file's rows are payments I'mport knows, but on other days: only {n} of {rows} agree "
                         "with I'mport's day for the same payment. It may be another period's file (last month's or "
                         "last year's), or the day column is another one: choose it under “Columns” below.").format(
            n=int(date_c.options[date_c.picked].score), rows=keyed_rows)
    return reading


def _ratio_hint(s: pd.DataFrame, fee: Profile, fee_vat: Profile | None, key: str) -> float:
    """Without I'mport's fees to compare, the cells themselves: a fee VAT of 1/11 of the fee means the fee
    includes it (Toss Payments), 1/10 that it does not."""
    if fee_vat is None:
        return 0.0
    f = cells.amounts(s[fee.name]).abs()
    v = cells.amounts(s[fee_vat.name]).abs()
    ok = (f > 0) & v.notna()
    if not ok.any():
        return 0.0
    tenth = float(((v[ok] - (f[ok] * 10 + 50) // 100).abs() <= 1).mean())
    eleventh = float(((v[ok] - (f[ok] + 5) // 11).abs() <= 1).mean())
    return eleventh if key == "incl" else tenth


def _fee_and_vat(rest: list[Profile], s: pd.DataFrame, amount: Profile | None
                 ) -> tuple[Profile | None, Profile | None, Profile | None, Profile | None]:
    """The fee, the fee's VAT, the payment's VAT and the tax-free amount among the remaining money columns: by the
    size of the values (a fee is small beside the amount; a VAT is a tenth of what it is the VAT of) and by the
    header."""
    if amount is None or not rest:
        return None, None, None, None
    a = cells.amounts(s[amount.name]).abs()
    vals = {p.name: cells.amounts(s[p.name]).abs() for p in rest}

    def share(x: pd.Series, y: pd.Series, fn: Callable[[pd.Series, pd.Series], pd.Series]) -> float:
        ok = x.notna() & y.notna() & (y > 0)
        return float(fn(x[ok], y[ok]).mean()) if ok.any() else 0.0

    vat_of_amount = {n: share(v, a, lambda x, y: (x - (y + 5) // 11).abs() <= 1) for n, v in vals.items()}
    vat_p = max((p for p in rest if vat_of_amount[p.name] >= 0.8), key=lambda p: vat_of_amount[p.name], default=None)
    tax_free_p = next((p for p in rest if field_hint("tax_free", p.name) > 0 and p is not vat_p), None)
    small = [p for p in rest if p is not vat_p and p is not tax_free_p and p.median <= max(a.median() * 0.2, 1)
             and field_hint("net", p.name) == 0]
    if not small:
        return None, None, vat_p, tax_free_p
    fee_vat_p = None
    fee_p = None
    # the fee's VAT is about a tenth (or an eleventh) of another small column
    for f in sorted(small, key=lambda p: (-field_hint("fee", p.name), -p.median)):
        for v in small:
            if v is f:
                continue
            r = share(vals[v.name], vals[f.name], lambda x, y: ((x - (y * 10 + 50) // 100).abs() <= 1)
                      | ((x - (y + 5) // 11).abs() <= 1))
            if r >= 0.8 and (fee_vat_p is None or field_hint("fee_vat", v.name) > field_hint("fee_vat", fee_vat_p.name)):
                fee_p, fee_vat_p = f, v
        if fee_p is not None:
            break
    if fee_p is None:
        fee_p = max(small, key=lambda p: (field_hint("fee", p.name), p.median))
    return fee_p, fee_vat_p, vat_p, tax_free_p


def _kind_column(profiles: list[Profile], s: pd.DataFrame, pairs: pd.DataFrame, used: set[str],
                 overrides: dict[str, str]) -> tuple[Choice | None, list[str], list[str]]:
    """The column that says deposit or cancel, and which of its values mean a cancel, learned from the rows whose
    payment I'mport knows (Hecto's 승인구분 1 = 취소)."""
    cands = [p for p in profiles if p.name not in used and p.filled > 0 and not p.is_day
             and (p.kind >= 0.5 or (0 < p.distinct <= 6 and (p.is_text or p.amount > 0)))]
    if not cands:
        return None, [], []
    opts, learned = [], {}
    if pairs.empty:
        single = pd.Series(dtype=object)
    else:                                        # each row's kind at I'mport, "" when its key has both
        by_row = pairs.groupby("row")["kind"]
        single = by_row.first().where(by_row.nunique() == 1, "")
    known = single[single != ""]
    baseline = int(known.value_counts().max()) if len(known) else 0     # what "every row is a deposit" explains
    for p in cands:
        if p.distinct < 2:
            continue                             # one value for every row says nothing about the kind
        v = s[p.name].astype(str).map(lambda x: cells.nfkc(x).strip().lower())
        refund, deposit = [], []
        agree = 0
        for val in v.unique():
            rows = v.index[v == val]
            kinds = single.reindex(rows).dropna()
            kinds = kinds[kinds != ""]
            by_word = any(w in val for w in REFUND_WORDS)
            if len(kinds):
                is_refund = (kinds == "refund").mean() > 0.5
                agree += int((kinds == ("refund" if is_refund else "deposit")).sum())
            else:
                is_refund = by_word
            if is_refund and not by_word:
                refund.append(val)
            elif not is_refund and by_word:
                deposit.append(val)
        if agree <= baseline and p.kind < 0.5:
            continue                             # says no more about the kind than "all deposits" does
        learned[p.name] = (refund, deposit)
        opts.append(Option(p.name, p.name, agree + field_hint("type", p.name) / 10 + p.kind / 100))
    if not opts:
        return None, [], []
    c = _pick(Choice("type", _("Deposit or cancel"), _ranked(opts)), overrides)
    refund, deposit = learned[c.key]
    return c, refund, deposit


def _why_not(df: pd.DataFrame, field_: str) -> str | None:
    """When a column's header names the field but its cells do not fit, the first cell that does not (the most
    useful sentence: the person fixes that cell or that column)."""
    named = [c for c in df.columns if field_hint(field_, str(c)) >= 0.5]
    for col in named:
        v = df[col].astype(str).str.strip()
        bad = v[(v != "") & (cells.amounts(v).isna() if field_ == "amount" else cells.days(v).isna())]
        if len(bad):
            row, cell = bad.index[0], bad.iloc[0]
            if field_ == "amount":
                return _("Row {row}, column “{column}”: “{value}” is not an amount.").format(
                    row=row, column=col, value=str(cell)[:40])
            return _("Row {row}, column “{column}”: “{value}” is not a date (use e.g. 2026-11-20 or "
                     "2026.11.20).").format(row=row, column=col, value=str(cell)[:40])
    return None


def check_pg(reading: Reading, df: pd.DataFrame, ev: pd.DataFrame, known: Known | None = None) -> Reading:
    """How many of the file's rows the reading finds at I'mport (by its key columns); a stop when under half."""
    cmap = reading.mapping
    assert isinstance(cmap, ColumnMap)
    s = cells.sample(df)
    if cmap.method and cmap.method in s:
        m = s[cmap.method].astype(str).str.strip().str.lower()
        s = s[m.str.contains("|".join(VBANK_WORDS), regex=True) | m.isin(VBANK_CODES + ("",))]
    keys = {k: next((p for p in [cells.Profile(getattr(cmap, k), 0)] if getattr(cmap, k)), None) for k in KEY_FIELDS}
    kf, kv = _key_of_rows(s, keys)
    found = pd.Series(False, index=s.index)
    for k in KEY_FIELDS:
        mine = kf == k
        if mine.any() and k in ev:
            hits = (known or Known(ev)).among(k, kv[mine].unique())
            found[mine] = kv[mine].isin(list(hits))
    reading.checked, reading.explained = len(s), int(found.sum())
    if cmap.method and not len(s):
        reading.stop = _("The file holds no virtual-account payment: every row is another payment method (card, "
                         "transfer …) in {col}. Upload the virtual accounts' settlement file, or choose another "
                         "payment-method column under “Columns” below.").format(col=f"“{cmap.method}”")
    elif not cmap.date or not cmap.amount:
        reading.stop = _why_not(df, "amount" if cmap.date else "date") or _(
            "No column of days or of amounts was found in the file. Check that it is the PG's settlement list (one "
            "row per payment), or choose the columns under “Columns” below.")
    elif not any(getattr(cmap, k) for k in KEY_FIELDS):
        reading.stop = _("No column of order numbers or transaction numbers was found in the file, so its rows "
                         "cannot be matched with I'mport. Choose the order-number column under “Columns” below.")
    elif ev.empty:
        reading.stop = _("I'mport has no virtual-account deposit or refund on the file's days, so the file cannot "
                         "be checked. Check the file's period, or that it is this merchant's file.")
    elif reading.checked and reading.explained < EXPLAINED_MIN * reading.checked:
        reading.stop = _("Only {n} of the file's {rows} rows are payments I'mport knows (by {col}). The file may be "
                         "another merchant's or another period's, or the order numbers may be in another column: "
                         "choose it under “Columns” below.").format(
            n=reading.explained, rows=reading.checked,
            col=", ".join(f"“{getattr(cmap, k)}”" for k in KEY_FIELDS if getattr(cmap, k)))
    return reading
