"""A bank statement read by what its cells hold and checked against the payouts expected from I'mport: the day, money
in and out (proved by the balance column when there is one: each row's balance is the one before plus money in
minus money out, in the file's order or newest first), and the column naming who sent each deposit — the one that
explains the most expected payouts, whatever its header says. A statement in which no payout, or under half of them,
is found stops with one sentence (lib/reports/recon/understand.py: the PG file's side and the shared types)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.domain.i18n import _
from lib.domain.settings import Rules
from lib.reports.recon import cells
from lib.reports.recon.cells import Profile
from lib.reports.recon.layouts import field_hint
from lib.reports.recon.reading import EXPLAINED_MIN, Choice, Option, Reading, _col, _pick, _ranked


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


def _by_payouts(opts: list[Option], profiles: list[Profile], s: pd.DataFrame, date: str, pays: pd.DataFrame,
                rules: Rules) -> list[Option]:
    """No balance proves which column is money in: the readings are scored by the expected payouts each finds, with
    the text column naming the most PGs as the sender (statement's headers no table knows: 예입액 / 인출액)."""
    from lib.reports.recon import payouts as recon_payouts
    from lib.reports.recon.normalize import normalize_statement
    sender = max((p for p in profiles if p.is_text and p.direction < 0.8 and p.name != date), key=lambda p: p.pg,
                 default=None)
    out = []
    for o in opts[:4]:
        found = 0.0
        try:
            rows = normalize_statement(s, _bank_map(date, o.key, _col(sender), []))
        except Exception:  # a reading that cannot parse the sample finds nothing
            rows = None
        if rows is not None and len(rows):
            chk = recon_payouts.match_payouts(pays, rows, rules)
            found = float((chk["status"] == recon_payouts.PAYOUT_MATCHED).sum() * 10
                          + ((chk["received"] > 0) & (chk["expected"] > 0)).sum())
        out.append(Option(o.key, o.label, o.score + found))
    return _ranked(out) + opts[4:]


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
    if money_opts and money_opts[0].score < 0.9 and date_c is not None and not expected_payouts.empty:
        money_opts = _by_payouts(money_opts, profiles, s, date_c.key, expected_payouts, rules)
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
            words = recon_payouts.sender_of(st_rows["depositor"].str.cat(st_rows["memo"], sep=" "), rules,
                                            st_rows["depositor"])
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
