"""What the PG should settle: the period's deposits and refunds from I'mport's payments, with each PG's fees and VAT,
per payment and per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib.domain import payment_table
from lib.domain.clock import KST
from lib.domain.fees import VAT_RATE_PERCENT
from lib.domain.settings import Rules


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
    deposit = kind.eq("deposit").fillna(False).to_numpy(dtype=bool)   # compared as Arrow text, not 1 M objects
    fee = np.where(deposit, iss[codes], rem[codes])
    vat = np.where(vat_on[codes], (fee * VAT_RATE_PERCENT + 50) // 100, 0)
    return pd.Series(fee, index=pg.index, dtype="int64"), pd.Series(vat, index=pg.index, dtype="int64")


FIELDS = ("imp_uid", "merchant_uid", "pay_method", "pg_provider", "pg_tid", "amount", "paid_at", "cancel_history")
_EVENT = pa.schema([("kind", pa.string()), ("ts", pa.int64()), ("imp_uid", pa.string()), ("merchant_uid", pa.string()),
                    ("pg_tid", pa.string()), ("pg", pa.string()), ("amount", pa.int64())])


def table(payments: pa.Table | list[dict]) -> pa.Table:
    """The payments as the listing's table of the events' fields (dicts: a test, or payments looked up one by one)."""
    return payments if isinstance(payments, pa.Table) else payment_table.from_dicts(payments, FIELDS)


def with_extra(payments: pa.Table | list[dict], extra: pa.Table | list[dict]) -> pa.Table:
    """The period's listing and the payments a file named that the listing did not bring, as one table."""
    a, b = table(payments), table(extra)
    if not b.num_rows:
        return a
    return pa.concat_tables([a.select(list(FIELDS)), b.select(list(FIELDS))])


def vbank_pgs(payments: pa.Table | list[dict]) -> list[str]:
    """The PGs of the virtual-account payments listed (the PG picker's choices)."""
    t = table(payments)
    vb = t.filter(pc.equal(t["pay_method"], "vbank"))
    return sorted(pc.unique(pc.fill_null(vb["pg_provider"], "")).to_pylist())


def _text(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.fill_null(col, "")


def events(payments: pa.Table | list[dict], d_from: date, d_to: date, rules: Rules,
           pgs: list[str] | None = None) -> pd.DataFrame:
    """I'mport's side, column by column over the listing's table (no row objects): deposits of virtual accounts
    paid in the range and refunds registered in it (also of payments started long before), each with the fee the
    schedule expects and its VAT."""
    a, b = kst_range(d_from, d_to)
    cols = ["kind", "date", "imp_uid", "merchant_uid", "pg_tid", "pg", "amount", "fee", "fee_vat", "vat"]
    t = table(payments)
    wanted = pc.equal(t["pay_method"], "vbank")
    if pgs:
        wanted = pc.and_(wanted, pc.is_in(t["pg_provider"], pa.array(list(pgs), pa.string())))
    wanted = pc.fill_null(wanted, False)
    paid_at = pc.fill_null(t["paid_at"], 0)
    paid = pc.and_(wanted, pc.and_(pc.and_(pc.greater_equal(paid_at, a), pc.less_equal(paid_at, b)),
                                   pc.greater(paid_at, 0)))
    parts = []
    at = pc.indices_nonzero(paid)                       # gather only the rows an event needs, only their columns
    if len(at):
        whole = len(at) == t.num_rows                 # every payment listed is a deposit of the period: no copy
        dep = t.select(["imp_uid", "merchant_uid", "pg_tid", "pg_provider", "amount"])
        dep = dep if whole else dep.take(at)
        parts.append(pa.table([pa.nulls(len(at), pa.string()).fill_null("deposit"),
                               paid_at if whole else paid_at.take(at),
                               dep["imp_uid"], dep["merchant_uid"], _text(dep["pg_tid"]), _text(dep["pg_provider"]),
                               pc.fill_null(dep["amount"], 0)], schema=_EVENT))
    hist = t["cancel_history"].combine_chunks() if t.num_rows else pa.array([], t.schema.field("cancel_history").type)
    hist = pc.if_else(wanted.combine_chunks() if isinstance(wanted, pa.ChunkedArray) else wanted, hist,
                      pa.scalar(None, hist.type))         # refunds of the payments in scope only
    flat = pc.list_flatten(hist)
    if len(flat):
        owner = pc.list_parent_indices(hist)
        ts = pc.fill_null(flat.field("cancelled_at"), 0)
        inside = pc.indices_nonzero(pc.and_(pc.greater_equal(ts, a), pc.less_equal(ts, b)))
        if len(inside):
            p = t.select(["imp_uid", "merchant_uid", "pg_provider"]).take(owner.take(inside))
            parts.append(pa.table([pa.nulls(len(inside), pa.string()).fill_null("refund"), ts.take(inside),
                                   p["imp_uid"], p["merchant_uid"], _text(flat.field("pg_tid").take(inside)),
                                   _text(p["pg_provider"]), pc.fill_null(flat.field("amount"), 0).take(inside)],
                                  schema=_EVENT))
    if not parts:
        return pd.DataFrame(columns=cols)
    ev = (parts[0] if len(parts) == 1 else pa.concat_tables(parts)).to_pandas()
    ev["date"] = _kst_dates(ev.pop("ts"))
    ev = ev[["kind", "date", "imp_uid", "merchant_uid", "pg_tid", "pg", "amount"]]
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


def lookback_start(d_from: date, days: int = 90) -> date:
    """Refunds in the range may be of payments started long before: fetch that far back."""
    return d_from - timedelta(days=days)
