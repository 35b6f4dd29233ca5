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
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from lib.domain.text import clean
from lib.reports import columnar

COLUMNS = ["imp_uid", "merchant_uid", "buyer_name", "buyer_tel", "buyer_email", "amount", "cancel_amount", "status",
           "pg_provider", "pay_method", "started_at", "paid_at", "vbank_name", "vbank_date", "name",
           "cash_receipt_issued"]
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
    """The period's payments (the listing's table, or dicts) with their searchable forms, newest first."""
    df = columnar.frame(rows, [*COLUMNS, "api"])
    df["api"] = df["api"].astype(object).fillna("v1").astype(str)     # the API version (listing(with_api=True))
    for col in ("imp_uid", "merchant_uid", "buyer_name", "buyer_tel", "buyer_email", "status", "pg_provider",
                "pay_method", "vbank_name", "name"):
        df[col] = df[col].astype(object).fillna("").astype(str)     # an all-empty column comes as float
    for col in ("amount", "cancel_amount"):
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    df["_tel"] = df["buyer_tel"].str.replace(r"\D", "", regex=True).str.replace(r"^820?(?=\d{9,})", "0", regex=True)
    df["_email"] = df["buyer_email"].str.lower()
    df["_email_masked"] = _masked_email(df["_email"])          # made once per period, not on every search
    df["_name"] = df["buyer_name"].str.lower().str.replace(r"\s+", "", regex=True)
    df["_order"] = df["merchant_uid"].str.lower()
    df["_imp"] = df["imp_uid"].str.lower()
    df["started"] = pd.to_datetime(pd.to_numeric(df["started_at"], errors="coerce"), unit="s", utc=True) \
        .dt.tz_convert("Asia/Seoul")
    return df.sort_values("started", ascending=False, kind="stable").reset_index(drop=True)


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
