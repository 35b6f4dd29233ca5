"""Pending virtual accounts as a pandas DataFrame: building, filtering, totals, charts data, exports.

Built from the listing's Arrow table (lib/iamport/columns.py; no dict or model per payment): 100,000 payments in
90 days give ~14,000 pending rows, and vectorised pandas keeps the page fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.domain import status
from lib.domain.clock import KST, now_kst
from lib.domain.fmt import mask_account, mask_phone, time_left_seconds
from lib.domain.i18n import N_, _
from lib.domain.names import pg_name
from lib.reports import columnar, export

RAW_COLUMNS = ["imp_uid", "merchant_uid", "buyer_name", "buyer_tel", "amount", "vbank_code", "vbank_name",
               "vbank_num", "vbank_holder", "pg_provider", "vbank_issued_at", "started_at", "vbank_date", "name"]


DUE_WINDOWS = ("all", "overdue", "today", "next3", "next7", "custom")


def _ts(series: pd.Series) -> pd.Series:
    s = pd.to_numeric(series, errors="coerce").fillna(0).astype("int64")
    out = pd.to_datetime(s.where(s > 0), unit="s", utc=True).dt.tz_convert(KST)
    return out


def build_frame(rows: pa.Table | list[dict], now: datetime) -> pd.DataFrame:
    """The pending list's frame from the listing's table (or dicts), sorted by due date."""
    df = columnar.frame(rows, [*RAW_COLUMNS, "api"])
    df["api"] = df["api"].astype(object).where(df["api"].notna(), "v1").astype(str)   # listing(with_api=True); V1 else
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce").fillna(0).astype("int64")
    issued = _ts(df["vbank_issued_at"])
    df["issued_at"] = issued.fillna(_ts(df["started_at"]))
    df["due"] = _ts(df["vbank_date"])
    secs = (df["due"] - pd.Timestamp(now)).dt.total_seconds()
    df["seconds_left"] = secs.fillna(0).astype("int64")
    df["overdue"] = secs < 0
    df["due_date"] = df["due"].dt.date
    df = df.drop(columns=["vbank_issued_at", "started_at", "vbank_date"])
    for col in ("buyer_name", "merchant_uid", "imp_uid", "vbank_name", "pg_provider", "vbank_num", "buyer_tel",
                "vbank_holder", "name"):
        df[col] = df[col].fillna("").astype(str)
    # Masked once, with the frame (cached), not on every rerun of the page.
    df[MASKED["vbank_num"]] = mask_accounts(df["vbank_num"])
    df[MASKED["buyer_tel"]] = mask_phones(df["buyer_tel"])
    # Due soonest first; accounts due at the same moment in imp_uid order, whatever order the list was read in (the
    # mirror's files, the API's pages): a row position means the same payment on every rerun.
    return df.sort_values(["due", "imp_uid"], kind="stable").reset_index(drop=True)


MASKED = {"vbank_num": "_vbank_num_masked", "buyer_tel": "_buyer_tel_masked"}


def mask_accounts(numbers: pd.Series) -> pd.Series:
    """``mask_account`` of a column: account numbers of digits only (what the API gives) by length, with string
    slices; anything else (separators, letters) one by one."""
    s = numbers.fillna("").astype(str)
    out = pd.Series("", index=s.index, dtype=object)
    plain = s.str.fullmatch(r"\d{7,}").fillna(False).to_numpy(dtype=bool)
    lengths = s.str.len().to_numpy()
    for n in np.unique(lengths[plain]):
        at = plain & (lengths == n)
        part = s[at]
        out[at] = (part.str[:3] + "*" * (int(n) - 6) + part.str[-3:]).to_numpy(dtype=object)
    out[~plain] = s[~plain].map(mask_account).to_numpy(dtype=object)
    return out


def mask_phones(numbers: pd.Series) -> pd.Series:
    """``mask_phone`` of a column: 010-1234-5678 and 010-123-5678 by a pattern, anything else one by one."""
    s = numbers.fillna("").astype(str)
    out = pd.Series("", index=s.index, dtype=object)
    done = np.zeros(len(s), dtype=bool)
    for middle in (4, 3):
        rx = rf"^(\d{{3}})-\d{{{middle}}}-(\d{{4}})$"
        at = s.str.fullmatch(rx).fillna(False).to_numpy(dtype=bool) & ~done
        out[at] = s[at].str.replace(rx, r"\1-" + "*" * middle + r"-\2", regex=True).to_numpy(dtype=object)
        done |= at
    out[~done] = s[~done].map(mask_phone).to_numpy(dtype=object)
    return out


def time_left_column(seconds: pd.Series) -> pd.Series:
    """``time_left_text`` of every row, formatted once per distinct text: the text shows days and hours past a day,
    hours and minutes below, and whether the time is past; rows that would read the same are told once."""
    s = seconds.to_numpy(dtype="int64")
    mag = np.abs(s)
    unit = np.where(mag >= 86400, 3600, 60)
    key = (mag // unit) * unit * 2 + (s < 0)
    uniq, first = np.unique(key, return_index=True)
    texts = dict(zip(uniq.tolist(), (time_left_text(int(v)) for v in s[first])))
    return pd.Series([texts[k] for k in key.tolist()], index=seconds.index, dtype=object)


def with_clock(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Recompute time left / overdue against ``now`` (the cached frame was built earlier)."""
    out = df.copy()
    secs = (out["due"] - pd.Timestamp(now)).dt.total_seconds()
    out["seconds_left"] = secs.fillna(0).astype("int64")
    out["overdue"] = secs < 0
    return out


time_left_text = time_left_seconds


def overdue_for(df: pd.DataFrame, days: int, now: datetime | None = None) -> list[str]:
    """imp_uids of the accounts whose due date passed more than ``days`` days ago, oldest first."""
    now = now or now_kst()
    late = df[df["due"].notna() & (df["due"] < pd.Timestamp(now) - pd.Timedelta(days=days))]
    return late.sort_values("due", kind="stable")["imp_uid"].tolist()


@dataclass
class PendingFilter:
    pgs: list[str] = field(default_factory=list)
    banks: list[str] = field(default_factory=list)
    due_window: str = "all"
    due_from: date | None = None
    due_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    text: str = ""
    apis: list[str] = field(default_factory=list)       # "v1" / "v2": a merchant on both APIs (empty: both)


def apply_filter(df: pd.DataFrame, f: PendingFilter, now: datetime) -> pd.DataFrame:
    m = pd.Series(True, index=df.index)
    if f.pgs:
        m &= df["pg_provider"].isin(f.pgs)
    if f.banks:
        m &= df["vbank_name"].isin(f.banks)
    if f.apis and "api" in df:
        m &= df["api"].isin(f.apis)
    today = now.astimezone(KST).date()
    if f.due_window == "overdue":
        m &= df["overdue"]
    elif f.due_window == "today":
        m &= df["due_date"] == today
    elif f.due_window in ("next3", "next7"):
        days = 3 if f.due_window == "next3" else 7
        m &= (df["seconds_left"] >= 0) & (df["seconds_left"] < days * 86400)
    elif f.due_window == "custom":
        if f.due_from:
            m &= df["due_date"] >= f.due_from
        if f.due_to:
            m &= df["due_date"] <= f.due_to
    if f.amount_min is not None:
        m &= df["amount"] >= f.amount_min
    if f.amount_max is not None:
        m &= df["amount"] <= f.amount_max
    text = f.text.strip().lower()
    if text:
        m &= (df["merchant_uid"].str.lower().str.contains(text, regex=False)
              | df["imp_uid"].str.lower().str.contains(text, regex=False)
              | df["buyer_name"].str.lower().str.contains(text, regex=False))
    return df[m]


@dataclass(frozen=True)
class Summary:
    count: int
    total: int
    overdue_count: int
    overdue_amount: int
    due_today_count: int
    due_today_amount: int


def summarize(df: pd.DataFrame, now: datetime) -> Summary:
    today = now.astimezone(KST).date()
    over = df[df["overdue"]]
    due_today = df[(df["due_date"] == today) & ~df["overdue"]]
    return Summary(len(df), int(df["amount"].sum()), len(over), int(over["amount"].sum()),
                   len(due_today), int(due_today["amount"].sum()))


def by_due_date(df: pd.DataFrame) -> pd.DataFrame:
    g = df.assign(state=df["overdue"].map({True: _("Overdue"), False: _("Not yet due")})) \
        .groupby(["due_date", "state"], as_index=False)["amount"].sum()
    out = pd.DataFrame(g)
    out["due_date"] = pd.to_datetime(out["due_date"])
    return out


def by_pg(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby("pg_provider", as_index=False).agg(amount=("amount", "sum"), count=("imp_uid", "size")) \
        .sort_values("amount", ascending=False)


EXPORT_COLUMNS = {
    "imp_uid": "imp_uid", "merchant_uid": N_("merchant_uid"), "buyer_name": N_("Buyer"), "amount": N_("Amount (KRW)"),
    "status": N_("Status"),
    "vbank_name": N_("Bank"), "vbank_num": N_("Account number"), "vbank_holder": N_("Account holder"), "pg_provider": N_("PG"),
    "issued_at": N_("Issued at (KST)"), "due": N_("Due (KST)"), "hours_left": N_("Time left (hours; minus: overdue)"),
}


API_WORDS = {"v1": N_("V1 (I'mport)"), "v2": N_("V2 (PortOne)")}


def hours_left(seconds: pd.Series) -> pd.Series:
    """Time left as a number a spreadsheet can sort and sum: hours to one decimal, negative once overdue."""
    out: pd.Series = (seconds.astype("float64") / 3600).round(1)
    return out


def export_frame(df: pd.DataFrame, *, reveal: bool) -> pd.DataFrame:
    """The rows as the team reads them: PGs by name, the status in words, time left in hours (a number)."""
    out = df.copy()
    out["hours_left"] = hours_left(out["seconds_left"])
    out["status"] = status.labels(out["overdue"].map({True: "overdue", False: "ready"}))
    out["pg_provider"] = out["pg_provider"].map({c: pg_name(c) for c in out["pg_provider"].unique()})
    if not reveal:
        out["vbank_num"] = out[MASKED["vbank_num"]] if MASKED["vbank_num"] in out else out["vbank_num"].map(mask_account)
    cols = dict(EXPORT_COLUMNS)
    if "api" in out and (out["api"] == "v2").any():           # a merchant on both APIs: which one each row is on
        cols["api"] = N_("API")
        out["api"] = out["api"].map(API_WORDS).map(_)
    return out[list(cols)].rename(columns={k: _(v) for k, v in cols.items()})     # dates stay dates (CSV writes KST text)


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel shows Korean; amounts stay plain numbers; formula-safe (lib/reports/export.py)."""
    return export.to_csv_bytes(df)


def to_xlsx_bytes(df: pd.DataFrame, sheet: str | None = None) -> bytes:
    """Dates as dates, ₩ amounts as numbers, frozen header, autofilter; formula-safe (lib/reports/export.py)."""
    return export.to_xlsx_bytes(df, sheet or _("Pending accounts"))


def masked_view(df: pd.DataFrame, *, reveal: bool) -> pd.DataFrame:
    if reveal:
        return df
    if all(c in df for c in MASKED.values()):
        return df.assign(**{col: df[masked] for col, masked in MASKED.items()})
    out = df.copy()
    out["vbank_num"] = out["vbank_num"].map(mask_account)
    out["buyer_tel"] = out["buyer_tel"].map(mask_phone)
    return out
