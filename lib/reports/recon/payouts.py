"""The PG's payouts: when each settlement day should reach the bank (business days, Korean holidays), and the bank
statement's deposits matched against them by sender and amount (short, over, missing, unexpected, offset)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lib.domain.kinds import PayoutStatus
from lib.domain.settings import Rules


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


PAYOUT_MATCHED, PAYOUT_SHORT, PAYOUT_OVER, PAYOUT_MISSING, PAYOUT_UNEXPECTED, PAYOUT_OFFSET = (
    PayoutStatus.MATCHED, PayoutStatus.SHORT, PayoutStatus.OVER, PayoutStatus.MISSING, PayoutStatus.UNEXPECTED,
    PayoutStatus.OFFSET)      # codes; the page says them in 입금대사's words


def sender_groups(rules: Rules) -> dict[str, str]:
    """PG → the name it transfers under (its first sender word): PGs that share it (nice and nice_v2) are paid
    together and compared together."""
    return {pg: words[0] for pg, words in rules.pg_senders.items() if words}


def sender_of(memo: pd.Series, rules: Rules, names: pd.Series | None = None) -> pd.Series:
    """Which sender a deposit came from, by the words its texts carry (``rules.pg_senders``); "" when none. A name a
    bank cut short ("토스페이먼" for 토스페이먼츠, "엔에이치엔케이" for 엔에이치엔케이씨피: banks keep 5–7 characters of
    보낸분) counts when it is the start of a sender word, at least four characters of it."""
    out = pd.Series("", index=memo.index)
    up = memo.str.upper()
    for pg, words in rules.pg_senders.items():
        hit = (out == "") & up.str.contains("|".join(re.escape(w.upper()) for w in words), regex=True)
        out[hit] = words[0]
    if names is not None:
        firsts = [(w.upper(), ws[0]) for ws in rules.pg_senders.values() for w in ws if len(w) >= 5]

        def cut_short(name: str) -> str:
            n = name.strip().upper()
            return next((first for w, first in firsts if len(n) >= 4 and w.startswith(n) and n != w), "") \
                if n else ""
        codes, uniq = pd.factorize(names.fillna("").astype(str))
        guess: list[str] | np.ndarray = pd.Series([cut_short(u) for u in uniq], dtype=object).to_numpy()[codes] \
            if len(codes) else []
        out = out.where(out != "", pd.Series(guess, index=names.index, dtype=object).reindex(out.index).fillna(""))
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
                          sender=sender_of(depositor.str.cat(statement["memo"], sep=" "), rules, depositor))
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
