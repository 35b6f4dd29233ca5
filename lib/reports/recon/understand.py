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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lib.domain.i18n import _
from lib.domain.settings import Rules
from lib.reports.recon import cells
from lib.reports.recon.cells import Profile
from lib.domain.names import pg_short
from lib.reports.recon.layouts import field_hint, pg_family
from lib.reports.recon.normalize import REFUND_WORDS, ColumnMap

EXPLAINED_MIN = 0.5        # a reading must explain at least half of what can be checked, or it stops


@dataclass
class Option:
    key: str                 # what the page keeps when a person picks it
    label: str               # the option in the team's words, with its score
    score: float = 0.0       # rows it explains (higher is better)


@dataclass
class Choice:
    """One decision about the file, the option taken first, the evidence in a sentence."""

    topic: str
    title: str
    options: list[Option]
    picked: int = 0
    evidence: str = ""

    @property
    def key(self) -> str:
        return self.options[self.picked].key


@dataclass
class Reading:
    """How a file is read: the mapping with its meaning, the decisions with their evidence, and whether it explains
    enough of the file to show a result (``stop`` is the sentence when it does not)."""

    kind: str                                  # "pg" | "bank"
    mapping: ColumnMap | dict
    choices: list[Choice] = field(default_factory=list)
    checked: int = 0                           # rows (PG) or payouts (bank) that could be checked
    explained: int = 0                         # …of which the reading explains
    stop: str | None = None
    notes: list[str] = field(default_factory=list)

    def choice(self, topic: str) -> Choice | None:
        return next((c for c in self.choices if c.topic == topic), None)


def _col(p: Profile | None) -> str | None:
    return p.name if p is not None else None


def _pick(choice: Choice, overrides: dict[str, str]) -> Choice:
    want = overrides.get(choice.topic)
    if want is not None:
        for i, o in enumerate(choice.options):
            if o.key == want:
                choice.picked = i
    return choice


def _ranked(options: list[Option]) -> list[Option]:
    return sorted(options, key=lambda o: -o.score)          # stable: equal scores keep the hint's order


# ------------------------------------------------------------------ a PG settlement file
KEY_FIELDS = ("imp_uid", "merchant_uid", "pg_tid")


def _id_overlap(p: Profile, ids: pd.Index) -> float:
    if not p.values or ids.empty:
        return 0.0
    v = pd.Index([cells.nfkc(x).strip() for x in p.values])
    return float(v.isin(ids).mean())


def _keys(profiles: list[Profile], ev: pd.DataFrame) -> dict[str, Profile | None]:
    """Each key field's column: the one whose values are I'mport's own ids, else the one its header names."""
    out: dict[str, Profile | None] = {}
    taken: set[str] = set()
    for k in KEY_FIELDS:
        ids = pd.Index(ev[k].dropna().astype(str).unique()) if k in ev else pd.Index([])
        ids = ids[ids != ""]
        scored = [(_id_overlap(p, ids), field_hint(k, p.name), p) for p in profiles
                  if p.name not in taken and p.filled > 0 and not p.is_amount and not p.is_day]
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
        v = s[p.name].astype(str).map(lambda x: cells.nfkc(x).strip())
        has = v != ""
        field_[has], value[has] = k, v[has]
    return field_, value


def _events_by_row(s: pd.DataFrame, keys: dict[str, Profile | None], ev: pd.DataFrame) -> pd.DataFrame:
    """The sampled rows joined to the events with their key (a row may meet a deposit and a refund): row, kind,
    date, amount, fee, fee_vat of each pair."""
    kf, kv = _key_of_rows(s, keys)
    parts = []
    for k in KEY_FIELDS:
        mine = kv[kf == k]
        if mine.empty or k not in ev:
            continue
        e = ev[ev[k].isin(mine.unique())]
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
    keys = _keys(profiles, ev)
    pairs = _events_by_row(s, keys, ev)
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
        amt_opts.append(Option(p.name, p.name, _agree(pairs, a, "amount") + field_hint("amount", p.name) / 10
                               + (p.median / 1e12)))
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
    file_pg = None
    if pg_p is None and not pairs.empty:         # a file of one PG: the PG of the payments its rows are
        families = pairs.drop_duplicates("row")["pg"].map(lambda p: min(pg_family(p)) if p else "")
        top = families.value_counts()
        if len(top) and top.iloc[0] >= 0.95 * len(families) and top.index[0]:
            file_pg = pairs.drop_duplicates("row")["pg"][families == top.index[0]].mode().iloc[0]
            reading_notes = [_("Every row the file and I'mport share is a {pg} payment: the file is read as {pg}'s "
                               "alone.").format(pg=pg_short(file_pg))]
    cmap = ColumnMap(date=date_c.key if date_c else None, type=type_c.key if type_c else None,
                     amount=amount_c.key if amount_c else None, fee=_col(fee_p),
                     fee_vat=_col(fee_vat_p), tax_free=_col(tax_free_p), vat=_col(vat_p),
                     imp_uid=_col(keys["imp_uid"]), merchant_uid=_col(keys["merchant_uid"]),
                     pg_tid=_col(keys["pg_tid"]), pg=_col(pg_p), method=_col(method_p),
                     fee_includes_vat=bool(fee_c and fee_c.key == "incl"), refund_values=",".join(refund_values),
                     deposit_values=",".join(deposit_values), file_pg=file_pg)
    for c in choices:
        if not c.evidence and len(c.options) > 1 and keyed_rows:
            first_opt = c.options[c.picked]
            second = next(o for o in c.options if o is not first_opt)
            c.evidence = _("{title}: {col} agrees with I'mport in {n} of {rows} rows; {other} in {m}.").format(
                title=c.title, col=f"“{first_opt.label}”", n=int(first_opt.score), rows=keyed_rows, other=f"“{second.label}”",
                m=int(second.score))
    reading = Reading("pg", cmap, choices, notes=reading_notes if file_pg else [])
    check_pg(reading, df, ev)
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


def _fee_and_vat(rest: list[Profile], s: pd.DataFrame, amount: Profile | None):
    """The fee, the fee's VAT, the payment's VAT and the tax-free amount among the remaining money columns: by the
    size of the values (a fee is small beside the amount; a VAT is a tenth of what it is the VAT of) and by the
    header."""
    if amount is None or not rest:
        return None, None, None, None
    a = cells.amounts(s[amount.name]).abs()
    vals = {p.name: cells.amounts(s[p.name]).abs() for p in rest}

    def share(x: pd.Series, y: pd.Series, fn) -> float:
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
    single = pairs.groupby("row")["kind"].agg(lambda k: k.iloc[0] if k.nunique() == 1 else "") if not pairs.empty \
        else pd.Series(dtype=object)
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


def check_pg(reading: Reading, df: pd.DataFrame, ev: pd.DataFrame) -> Reading:
    """How many of the file's rows the reading finds at I'mport (by its key columns); a stop when under half."""
    cmap = reading.mapping
    assert isinstance(cmap, ColumnMap)
    s = cells.sample(df)
    if cmap.method and cmap.method in s:
        m = s[cmap.method].astype(str).str.strip().str.lower()
        s = s[m.str.contains("가상|vbank|virtual", regex=True) | m.isin(("va", "v", "가상", ""))]
    keys = {k: next((p for p in [cells.Profile(getattr(cmap, k), 0)] if getattr(cmap, k)), None) for k in KEY_FIELDS}
    kf, kv = _key_of_rows(s, keys)
    found = pd.Series(False, index=s.index)
    for k in KEY_FIELDS:
        mine = kf == k
        if mine.any() and k in ev:
            found[mine] = kv[mine].isin(pd.Index(ev[k].astype(str)))
    reading.checked, reading.explained = len(s), int(found.sum())
    if not cmap.date or not cmap.amount:
        reading.stop = _("No column of days or of amounts was found in the file. Check that it is the PG's "
                         "settlement list (one row per payment), or choose the columns under “Columns” below.")
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


# ------------------------------------------------------------------ a bank statement
def _balance_fit(amounts: dict[str, pd.Series], bal: pd.Series, move: pd.Series) -> float:
    """Share of consecutive rows where the balance moves by ``move``: in the file's order, or newest first."""
    ok = bal.notna() & move.notna()
    if ok.sum() < 3 or float((move[ok] != 0).mean()) < 0.3:
        return 0.0
    b, m = bal[ok].to_numpy(), move[ok].to_numpy()
    up = float(np.mean(b[1:] - b[:-1] == m[1:]))
    down = float(np.mean(b[:-1] - b[1:] == m[:-1]))
    return max(up, down)


def _direction_sign(s: pd.DataFrame, p: Profile) -> pd.Series:
    v = s[p.name].astype(str).map(lambda x: cells.nfkc(x).strip().lower())
    return pd.Series(np.where(v.isin(cells.DIRECTION_OUT) | v.str.contains("출금|지급"), -1,
                              np.where(v.isin(cells.DIRECTION_IN) | v.str.contains("입금"), 1, 0)), index=s.index)


def _money_structure(profiles: list[Profile], s: pd.DataFrame) -> list[Option]:
    """How money in and out is written, each way scored by the balance column when there is one: two columns
    (입금, 출금), one signed column, or one column with a 입금/출금 column beside it."""
    money = [p for p in profiles if p.is_amount]
    direction = [p for p in profiles if p.direction >= 0.8]
    vals = {p.name: cells.amounts(s[p.name]) for p in money}
    head = s.index                      # consecutive rows first: the sample keeps the first third in order
    out: list[Option] = []
    balance_of: dict[str, str] = {}
    for bal in money:
        b = vals[bal.name]
        if bal.distinct < 0.5 * max(1, int(bal.filled * len(s))):
            continue                             # a balance moves with nearly every row
        others = [p for p in money if p is not bal]
        for dp in others:
            for wp in others:
                if wp is dp:
                    continue
                move = vals[dp.name].fillna(0) - vals[wp.name].fillna(0)
                fit = _balance_fit(vals, b.loc[head], move.loc[head])
                out.append(Option(f"two|{dp.name}|{wp.name}", _("money in {a}, money out {b}").format(
                    a=f"“{dp.name}”", b=f"“{wp.name}”"), fit + 0.01 * (field_hint("deposit", dp.name)
                                                                        + field_hint("withdrawal", wp.name))))
                balance_of[out[-1].key] = bal.name
            move = vals[dp.name]
            out.append(Option(f"signed|{dp.name}", _("one signed amount {a} (minus = out)").format(a=f"“{dp.name}”"),
                              _balance_fit(vals, b.loc[head], move.loc[head]) + 0.005 * field_hint("amount", dp.name)))
            balance_of[out[-1].key] = bal.name
            for d in direction:
                move = vals[dp.name].abs() * _direction_sign(s, d)
                out.append(Option(f"dir|{dp.name}|{d.name}", _("amount {a} in or out by {d}").format(
                    a=f"“{dp.name}”", d=f"“{d.name}”"), _balance_fit(vals, b.loc[head], move.loc[head]) + 0.02))
                balance_of[out[-1].key] = bal.name
    best = _ranked(out)
    if best and best[0].score >= 0.9:
        keep, seen = [], set()
        for o in best:
            if o.key not in seen and o.score >= 0.5:
                seen.add(o.key)
                keep.append(Option(o.key, o.label + " · " + _("balance {b} agrees in {n:.0%} of rows").format(
                    b=f"“{balance_of[o.key]}”", n=min(o.score, 1.0)), o.score))
        return keep
    # no balance to prove it: the headers, then the shapes
    opts = []
    dep = [p for p in money if field_hint("deposit", p.name) > 0]
    wd = [p for p in money if field_hint("withdrawal", p.name) > 0]
    if dep:
        d = max(dep, key=lambda p: field_hint("deposit", p.name))
        w = max(wd, key=lambda p: field_hint("withdrawal", p.name)) if wd else None
        opts.append(Option(f"two|{d.name}|{w.name if w else ''}", _("money in {a}, money out {b}").format(
            a=f"“{d.name}”", b=f"“{w.name}”" if w else "—"), 0.5))
    for p in money:
        if direction:
            opts.append(Option(f"dir|{p.name}|{direction[0].name}", _("amount {a} in or out by {d}").format(
                a=f"“{p.name}”", d=f"“{direction[0].name}”"), 0.4 + 0.01 * field_hint("amount", p.name)))
        if p.negative > 0:
            opts.append(Option(f"signed|{p.name}", _("one signed amount {a} (minus = out)").format(a=f"“{p.name}”"),
                               0.3 + p.negative / 10))
    if len(money) >= 2 and not dep:
        for d in money:
            for w in money:
                if d is not w and d.negative == 0 and w.negative == 0:
                    opts.append(Option(f"two|{d.name}|{w.name}", _("money in {a}, money out {b}").format(
                        a=f"“{d.name}”", b=f"“{w.name}”"), 0.1))
    return _ranked(opts)


def _bank_map(date: str | None, money_key: str, sender: str | None, memo: list[str]) -> dict:
    kind, *cols = money_key.split("|") if money_key else ("",)
    m: dict = {"date": date, "sender": sender, "memo": memo[0] if memo else None, "deposit": None,
               "withdrawal": None, "amount": None, "direction": None, "signed": False,
               "memo_columns": list(memo[1:])}
    if kind == "two":
        m["deposit"], m["withdrawal"] = cols[0], cols[1] or None
    elif kind == "signed":
        m["amount"], m["signed"] = cols[0], True
    elif kind == "dir":
        m["amount"], m["direction"] = cols[0], cols[1]
    return m


def understand_bank(df: pd.DataFrame, expected_payouts: pd.DataFrame, rules: Rules,
                    overrides: dict[str, str] | None = None) -> Reading:
    """The reading of a bank statement that explains most expected payouts: the day, money in (proved by the
    balance when there is one), and the column naming who sent each deposit."""
    from lib.reports.recon import payouts as recon_payouts
    from lib.reports.recon.normalize import normalize_statement
    overrides = overrides or {}
    profiles = cells.profile(df)
    s = cells.sample(df)
    choices: list[Choice] = []
    day_opts = [Option(p.name, p.name, 1 + field_hint("date", p.name) + (0.5 if not p.serial else 0))
                for p in profiles if p.is_day]
    date_c = _pick(Choice("date", _("Day of each row"), _ranked(day_opts)), overrides) if day_opts else None
    if date_c:
        choices.append(date_c)
    money_c = None
    money_opts = _money_structure([p for p in profiles if not date_c or p.name != date_c.key], s)
    if money_opts:
        money_c = _pick(Choice("money", _("Money in and out"), money_opts), overrides)
        choices.append(money_c)
    used = {date_c.key if date_c else ""} | set((money_c.key.split("|")[1:]) if money_c else [])
    texts = [p for p in profiles if p.is_text and p.name not in used and p.direction < 0.8]
    # who sent each deposit: the text column that explains the most expected payouts
    pays = expected_payouts
    sender_opts = []
    memo_default = max(texts, key=lambda p: (p.channel, field_hint("memo", p.name)), default=None)
    for p in texts + [None]:
        memo = [memo_default.name] if memo_default is not None and memo_default is not p and p is not None else []
        cmap = _bank_map(date_c.key if date_c else None, money_c.key if money_c else "", _col(p), memo)
        score = 0.0
        try:
            st_rows = normalize_statement(s, cmap) if cmap["date"] else None
        except Exception:  # a reading that cannot parse the sample explains nothing
            st_rows = None
        if st_rows is not None and not st_rows.empty:
            chk = recon_payouts.match_payouts(pays, st_rows, rules) if not pays.empty else None
            words = recon_payouts.sender_of(st_rows["depositor"].str.cat(st_rows["memo"], sep=" "), rules)
            hits = int((words != "").sum())
            exact = int((chk["status"] == recon_payouts.PAYOUT_MATCHED).sum()) if chk is not None else 0
            found = int(((chk["received"] > 0) & (chk["expected"] > 0)).sum()) if chk is not None else 0
            score = exact * 100 + found * 10 + hits + (field_hint("sender", p.name) if p is not None else 0) \
                + (p.name_like if p is not None else 0)
        label = p.name if p is not None else _("(no sender column: the texts of 적요 only)")
        sender_opts.append(Option(p.name if p is not None else "", label, score))
    sender_c = _pick(Choice("sender", _("Who sent each deposit"), _ranked(sender_opts)), overrides)
    choices.append(sender_c)
    sender = sender_c.key or None
    memo = [p.name for p in sorted(texts, key=lambda p: -p.channel) if p.name != sender][:2]
    cmap = _bank_map(date_c.key if date_c else None, money_c.key if money_c else "", sender, memo)
    if len(sender_c.options) > 1:
        other = next(o for o in sender_c.options if o is not sender_c.options[sender_c.picked])
        sender_c.evidence = _("The sender is read from {col}; read from {other}, fewer payouts would be found.").format(
            col=f"“{sender_c.options[sender_c.picked].label}”", other=f"“{other.label}”") \
            if sender_c.options[sender_c.picked].score > other.score else ""
    reading = Reading("bank", cmap, choices)
    check_bank(reading, df, expected_payouts, rules)
    return reading


def check_bank(reading: Reading, df: pd.DataFrame, expected_payouts: pd.DataFrame, rules: Rules) -> Reading:
    """How many of the payouts expected on the statement's days the reading finds; a stop when none, or under half,
    are found while payouts are expected."""
    from lib.reports.recon import payouts as recon_payouts
    from lib.reports.recon.grid import ReconFileError
    from lib.reports.recon.normalize import normalize_statement
    cmap = reading.mapping
    assert isinstance(cmap, dict)
    if not cmap.get("date") or not (cmap.get("deposit") or cmap.get("amount")):
        reading.stop = _("No column of days or of deposits was found in the statement. Check that it is the bank "
                         "account's transaction list, or choose the columns under “Columns” below.")
        return reading
    try:
        rows = normalize_statement(df, cmap)
    except ReconFileError as e:
        reading.stop = str(e)
        return reading
    if rows.empty:
        reading.stop = _("The statement has no deposit at all. Check that it is the account the PGs pay into, or "
                         "that the deposit column is the right one under “Columns” below.")
        return reading
    first, last = min(rows["date"]), max(rows["date"])
    pays = expected_payouts
    due = pays[(pays["payout_date"] >= first) & (pays["payout_date"] <= last) & (pays["expected"] > 0)] \
        if not pays.empty else pays
    if due.empty:
        reading.checked = reading.explained = 0
        return reading
    chk = recon_payouts.match_payouts(due, rows, rules)
    expected_rows = chk[chk["expected"] > 0]
    reading.checked = len(expected_rows)
    reading.explained = int((expected_rows["received"] > 0).sum())
    if reading.explained < EXPLAINED_MIN * reading.checked:
        any_pg = (recon_payouts.sender_of(df.astype(str).agg(" ".join, axis=1), rules) != "").any()
        if not any_pg:
            reading.stop = _("None of the {n} payouts expected from {first} to {last} is in the statement: no deposit "
                             "in it names a PG. Check that it is the account the PGs pay into and that its period is "
                             "right; if a PG transfers under another name, add that name to pg_senders in "
                             "vbank-desk.toml.").format(n=reading.checked, first=first, last=last)
        else:
            reading.stop = _("Only {m} of the {n} payouts expected from {first} to {last} are found in the statement "
                             "as it is read now. The sender or the deposit column is probably another one: choose it "
                             "under “Columns” below.").format(m=reading.explained, n=reading.checked, first=first,
                                                              last=last)
    return reading
