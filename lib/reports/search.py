"""결제 찾기: any payment by what the caller or the customer says — a name (part of it), a phone number in any format
(010-1234-5678, 01012345678, +82 10…, the last four digits), an e-mail address, an order number (merchant_uid), an
imp_uid or an amount (₩55,000, 55,000원) — over a period's payments (the listing joins the API's 90-day windows)
and the statuses asked for.

The period's payments become one frame with the searchable forms made once (``frame``: phone digits in their 0-10
form, lower-case e-mail and ids); a query is classified once (``parse``) and answered by vectorised comparisons
(``search``), so a search over 100,000 payments is tens of milliseconds once the frame exists (``make bench``).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa

from lib.domain import payment_table
from lib.domain.text import clean

COLUMNS = ["imp_uid", "merchant_uid", "buyer_name", "buyer_tel", "buyer_email", "amount", "cancel_amount", "status",
           "pg_provider", "pay_method", "started_at", "paid_at", "vbank_name", "vbank_date", "name",
           "cash_receipt_issued", "cancel_requested_amount"]
MAX_RESULTS = 500
STATUSES = ("ready", "paid", "cancelled", "failed")

_AMOUNT = re.compile(r"^(?:₩\s*)?(\d{1,3}(?:,\d{3})+|\d+)\s*(?:원|won|krw)?$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^[+0-9()\-.\s]+$")


@dataclass(frozen=True)
class Query:
    """What was typed, as what it is: ``kind`` one of imp_uid, email, phone, amount, text."""

    kind: str
    value: str
    amount: int | None = None


def phone_digits(value: str) -> str:
    """A Korean phone number's digits in the 0-10 form: "+82 10-1234-5678" → "01012345678"."""
    d = re.sub(r"\D", "", value or "")
    if d.startswith("82") and len(d) >= 11:          # +82 10…, and +82 (0)10… as some people write it
        d = "0" + d[2:].removeprefix("0")
    return d


def parse(text: str) -> Query | None:
    """What kind of thing ``text`` is (None: nothing to search for)."""
    t = clean(text, max_len=100).strip()
    if not t:
        return None
    if t.lower().startswith("imp_"):
        return Query("imp_uid", t.lower())
    if "@" in t:
        return Query("email", t.lower())
    has_money_sign = any(s in t.lower() for s in ("₩", "원", "won", "krw")) or "," in t
    m = _AMOUNT.match(t)
    if m and has_money_sign:
        return Query("amount", t, int(m.group(1).replace(",", "")))
    if _PHONE_CHARS.match(t) and (t.startswith(("+82", "010", "011", "016", "017", "018", "019", "02", "0"))
                                  and len(re.sub(r"\D", "", t)) >= 9):
        return Query("phone", phone_digits(t))
    if t.isdigit():             # digits alone: the last digits of a phone, an amount or an order number
        return Query("text", t, int(t))
    return Query("text", t.lower())


def frame(rows: pa.Table | list[dict[str, Any]]) -> pd.DataFrame:
    """The period's payments (the listing's table, or dicts) with their searchable forms, newest first. Built with
    polars (a year of 1 M payments: 14 → ~1 s), which also keeps the searchable columns for ``search`` (``_polars``)."""
    p = _searchable(rows)
    df = p.drop("_hay", "_tel4").to_pandas()
    _remember(df, p)
    return df


_STRINGS = ("imp_uid", "merchant_uid", "buyer_name", "buyer_tel", "buyer_email", "status", "pg_provider",
            "pay_method", "vbank_name", "name")


def _searchable(rows: pa.Table | list[dict[str, Any]]) -> pl.DataFrame:
    if isinstance(rows, pa.Table):
        t = rows
    else:
        t = payment_table.from_dicts(rows, tuple(c for c in COLUMNS if c in payment_table.KINDS))
        if any("api" in r for r in rows):
            t = t.append_column("api", pa.array([r.get("api") for r in rows], pa.string()))
    cols = [*COLUMNS, "api"]
    have = [c for c in cols if c in t.column_names]
    got = pl.from_arrow(t.select(have))
    assert isinstance(got, pl.DataFrame)
    p = got.with_columns([pl.lit(None).alias(c) for c in cols if c not in have]).select(cols)
    p = p.with_columns(
        *[pl.col(c).cast(pl.Utf8).fill_null("") for c in _STRINGS],
        pl.col("api").cast(pl.Utf8).fill_null("v1"),
        *[pl.col(c).cast(pl.Int64, strict=False).fill_null(0) for c in ("amount", "cancel_amount",
                                                                          "cancel_requested_amount")],
        pl.col("started_at").cast(pl.Int64, strict=False))
    email = pl.col("buyer_email").str.to_lowercase()
    user, host = email.str.split_exact("@", 1).struct.field("field_0"), email.str.split_exact("@", 1).struct.field(
        "field_1")
    masked = pl.when(email.str.contains("@", literal=True)).then(
        pl.when(user.str.len_chars() > 2).then(user.str.slice(0, 2)).otherwise(pl.lit("")) + "***@"
        + host.fill_null("")).otherwise(email)
    p = p.with_columns(
        _tel=pl.col("buyer_tel").str.replace_all(r"\D", "").str.replace(r"^820?(\d{9,})", "0${1}"),
        _email=email, _email_masked=masked,
        _name=pl.col("buyer_name").str.to_lowercase().str.replace_all(r"\s+", ""),
        _order=pl.col("merchant_uid").str.to_lowercase(),
        _imp=pl.col("imp_uid").str.to_lowercase(),
        started=pl.from_epoch(pl.col("started_at"), time_unit="s").dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Asia/Seoul"))
    p = p.with_columns(_hay=pl.col("_name") + "\x1f" + pl.col("_order"), _tel4=pl.col("_tel").str.slice(-4))
    return p.sort("started", descending=True, nulls_last=True, maintain_order=True)


# The polars frame behind each pandas frame ``frame`` made (by the pandas frame's id, dropped with it): a search
# runs its comparisons there, on both cores, and takes only the rows it found from the pandas frame.
_POLARS: dict[int, tuple[weakref.ref, pl.DataFrame]] = {}


def _remember(df: pd.DataFrame, p: pl.DataFrame) -> None:
    key = id(df)

    def forget(_ref: weakref.ref) -> None:
        _POLARS.pop(key, None)

    _POLARS[key] = (weakref.ref(df, forget), p)


def _polars(df: pd.DataFrame) -> pl.DataFrame | None:
    got = _POLARS.get(id(df))
    return got[1] if got is not None and got[0]() is df else None


VISIBLE_TEL_DIGITS = 4        # a masked phone shows its last four digits (lib/domain/fmt.mask_phone)


def _masked_email(email: pd.Series) -> pd.Series:
    """The e-mail as a person without the reveal permission sees it (lib/domain/fmt.mask_email), lower-case:
    "ab***@example.com" — the first two letters and the domain."""
    user = email.str.split("@", n=1).str[0].fillna("")
    host = email.str.split("@", n=1).str[1]
    masked = user.str.slice(0, 2).where(user.str.len() > 2, "") + "***@" + host.fillna("")
    return masked.where(email.str.contains("@", regex=False), email)


def reaches_hidden(q: Query) -> bool:
    """True when ``q`` could match a phone or an e-mail by a part a masked one hides: digits beyond the visible last
    four, or a piece of an e-mail address. Such a search needs the reveal permission (and is audited as a reveal)."""
    if q.kind == "email":
        return True
    return q.kind == "text" and q.value.isdigit() and len(q.value) > VISIBLE_TEL_DIGITS


def search(df: pd.DataFrame, q: Query, statuses: tuple[str, ...] = STATUSES,
           limit: int = MAX_RESULTS, *, reveal: bool = False,
           apis: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, int]:
    """(the matching payments, at most ``limit``, newest first; how many matched in all). ``apis``: only payments
    of these API versions ("v1", "v2"; None: every one).

    Without ``reveal`` (a person who sees phones and e-mails masked) a phone or an e-mail matches only by what that
    person sees — the last four digits, the masked e-mail ("ab***@example.com", or its domain) — or when the whole
    number or address is typed exactly: a search can never single out a hidden digit or letter."""
    p = _polars(df)
    if p is not None:
        hit_pl = _hit(q, statuses, reveal=reveal)
        if apis is not None:
            hit_pl = hit_pl & pl.col("api").is_in(list(apis))
        idx = p.select(pl.arg_where(hit_pl))[:, 0]
        return df.iloc[idx.head(limit).to_list()], len(idx)
    if q.kind == "imp_uid":
        hit = df["_imp"] == q.value
    elif q.kind == "email":
        if reveal:
            hit = df["_email"].str.contains(q.value, regex=False)
        else:
            masked = df["_email_masked"] if "_email_masked" in df else _masked_email(df["_email"])
            hit = (df["_email"] == q.value) | masked.str.contains(q.value, regex=False)
    elif q.kind == "phone":
        hit = df["_tel"] == q.value
    elif q.kind == "amount":
        hit = df["amount"] == q.amount
    else:
        v = q.value.replace(" ", "")
        hit = df["_name"].str.contains(v, regex=False) | df["_order"].str.contains(q.value, regex=False)
        if q.value.isdigit():
            if len(q.value) >= 4 and (reveal or len(q.value) <= VISIBLE_TEL_DIGITS):
                hit |= df["_tel"].str.endswith(q.value)
            elif len(q.value) > VISIBLE_TEL_DIGITS:
                hit |= df["_tel"] == q.value                       # the whole number, typed exactly
            hit |= df["amount"] == q.amount
    if tuple(statuses) != STATUSES:
        hit &= df["status"].isin(statuses)
    if apis is not None and "api" in df:
        hit &= df["api"].isin(apis)
    found = df[hit]
    return found.head(limit), int(hit.sum())


def _hit(q: Query, statuses: tuple[str, ...], *, reveal: bool) -> pl.Expr:
    """``search``'s rule as one polars expression (the same rule as the pandas one above, which a frame not made by
    ``frame`` still uses)."""
    c = pl.col
    if q.kind == "imp_uid":
        hit = c("_imp") == q.value
    elif q.kind == "email":
        hit = c("_email").str.contains(q.value, literal=True) if reveal else (
            (c("_email") == q.value) | c("_email_masked").str.contains(q.value, literal=True))
    elif q.kind == "phone":
        hit = c("_tel") == q.value
    elif q.kind == "amount":
        hit = c("amount") == q.amount
    else:
        v = q.value.replace(" ", "")
        hit = (c("_hay").str.contains(v, literal=True) if v == q.value else
               c("_name").str.contains(v, literal=True) | c("_order").str.contains(q.value, literal=True))
        if q.value.isdigit():
            if len(q.value) == VISIBLE_TEL_DIGITS:
                hit = hit | (c("_tel4") == q.value)
            elif len(q.value) >= 4 and reveal:
                hit = hit | c("_tel").str.ends_with(q.value)
            elif len(q.value) > VISIBLE_TEL_DIGITS:
                hit = hit | (c("_tel") == q.value)                 # the whole number, typed exactly
            hit = hit | (c("amount") == q.amount)
    if tuple(statuses) != STATUSES:
        hit = hit & c("status").is_in(list(statuses))
    return hit


# ------------------------------------------------------------------ narrowing searches
NARROWING_LIMIT = 5           # searches that narrow a personal one, per person and window
NARROWING_WINDOW_S = 600.0


def personal(q: Query) -> bool:
    """A search by a phone or an e-mail (or digits that may be a phone's)."""
    return q.kind in ("phone", "email") or (q.kind == "text" and q.value.isdigit() and len(q.value) >= 4)


class NarrowingGuard:
    """Repeated narrowing searches — a phone or e-mail search that grows or shrinks the person's previous one, as
    someone recovering a hidden number digit by digit would — are counted per person: past ``limit`` in ``window_s``
    the next ones are refused until the window has passed. Shared by every session of the instance."""

    def __init__(self, limit: int = NARROWING_LIMIT, window_s: float = NARROWING_WINDOW_S):
        import threading
        self.limit, self.window_s = limit, window_s
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}
        self._times: dict[str, list[float]] = {}

    def check(self, who: str, q: Query, now: float) -> tuple[bool, bool]:
        """(narrowing, allowed) for this search by ``who`` at ``now``: whether it narrows the previous personal
        search, and whether it may run."""
        if not personal(q):
            return False, True
        key = who.strip().lower()
        with self._lock:
            prev = self._last.get(key)
            narrowing = prev is not None and prev != q.value and (prev in q.value or q.value in prev)
            times = [t for t in self._times.get(key, []) if now - t < self.window_s]
            if narrowing and len(times) >= self.limit:
                self._times[key] = times
                return True, False
            if narrowing:
                times.append(now)
            self._times[key] = times
            self._last[key] = q.value
            return narrowing, True
