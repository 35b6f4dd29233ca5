"""How a PG file writes its cancels when no column names the kind, learned from the rows whose payment I'mport knows
to have been refunded: a day written only on cancels (취소일시 beside 승인일시), an amount written only on cancels
(취소금액 beside 승인금액), or an unsigned amount whose net beside it is minus on a cancel (정산금액). Without these a
cancel is read as its payment's deposit: on the wrong day, of the wrong amount, or as a deposit at all."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lib.reports.recon import cells
from lib.reports.recon.cells import Profile

AGREE = 0.8           # a column is taken when it agrees with I'mport's refunds on this share of the rows it fills
AT_LEAST = 2          # …and on at least this many rows


@dataclass
class Cancels:
    cancel_date: str | None = None
    cancel_amount: str | None = None
    sign_from: str | None = None


def _refund_rows(pairs: pd.DataFrame) -> pd.DataFrame:
    """The sampled rows paired with a refund at I'mport (the same payment's deposit may be paired with them too)."""
    return pairs[pairs["kind"] == "refund"] if not pairs.empty else pairs


def _agreement(pairs: pd.DataFrame, values: pd.Series, col: str) -> tuple[int, int]:
    """(rows where ``values`` is filled, of which it equals I'mport's refund ``col``)."""
    v = pairs["row"].map(values)
    filled = v.notna()
    rows = pairs.loc[filled, "row"].nunique()
    agree = pairs.loc[filled & (v == pairs[col]), "row"].nunique()
    return int(rows), int(agree)


def learn(profiles: list[Profile], s: pd.DataFrame, pairs: pd.DataFrame, used: set[str], *,
          amount: Profile | None, has_kind: bool) -> Cancels:
    """The columns that say how cancels are written, or none of them."""
    out = Cancels()
    refunds = _refund_rows(pairs)
    if refunds["row"].nunique() < AT_LEAST:
        return out
    deposits = pairs[~pairs["row"].isin(refunds["row"])]
    best: tuple[int, str | None] = (0, None)
    for p in profiles:                                    # a day filled on cancels only
        if not p.is_day and p.day < 0.9 or p.name in used or p.filled >= 0.95:
            continue
        d = cells.days(s[p.name], serial=p.serial)
        rows, agree = _agreement(refunds, d, "date")
        if rows >= AT_LEAST and agree >= AGREE * rows and agree > best[0]:
            best = (agree, p.name)
    out.cancel_date = best[1]
    best = (0, None)
    money = [p for p in profiles if p.name not in used and p.amount >= 0.9 and p is not amount]
    for p in money:                                       # an amount filled (not zero) on cancels only
        a = cells.amounts(s[p.name]).abs()
        a = a.where(a > 0)
        rows, agree = _agreement(refunds, a, "amount")
        filled_on_deposits = float(deposits["row"].map(a).notna().mean()) if len(deposits) else 0.0
        if rows >= AT_LEAST and agree >= AGREE * rows and filled_on_deposits < 0.05 and agree > best[0]:
            best = (agree, p.name)
    out.cancel_amount = best[1]
    if not has_kind and out.cancel_amount is None and amount is not None and amount.negative == 0:
        refunded = set(refunds["row"])
        for p in money:                                   # an unsigned amount: another column's minus marks a cancel
            neg = cells.amounts(s[p.name]) < 0
            minus = [r for r in neg.index[neg.fillna(False)] if r in set(pairs["row"])]
            if len(minus) >= AT_LEAST and sum(r in refunded for r in minus) >= 0.95 * len(minus) \
                    and len(minus) < 0.5 * pairs["row"].nunique():
                out.sign_from = p.name
                break
    return out
