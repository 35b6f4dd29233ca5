"""What a column's cells hold, read from the cells themselves: days (text in any common form, Excel date cells,
bare Excel serial numbers), whole-won amounts ("1,234원", "300,390.00", "(1,000)", "−1,000"), direction words
(입금/출금), transaction kinds (결제/취소), payment methods, PG names, channel words (타행이체, FB이체) and names.

A file's header names are one signal; these profiles are the other, so a column whose header no table knows is
still found by what it holds (lib/reports/recon/understand.py weighs both against I'mport's own data).
Profiles are made on a sample of the rows (``SAMPLE``): a million-row file is profiled in milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TypeVar

import numpy as np
import pandas as pd

_T = TypeVar("_T")
SAMPLE = 3000

EXCEL_EPOCH = date(1899, 12, 30)             # Excel's day 0 (1900 date system, the leap-year bug included)
SERIAL_LOW, SERIAL_HIGH = 36526, 73051       # 2000-01-01 … 2099-12-31 as Excel serial numbers


def _unguard(text: str) -> str:
    """Excel's text guard taken off: ="ord_1" (written so Excel keeps an order number as text) is ord_1."""
    return text[2:-1] if text.startswith('="') and text.endswith('"') and len(text) >= 3 else text


def nfkc(text: object) -> str:
    """Full-width letters, digits and brackets as their ordinary forms (“（원）” → “(원)”)."""
    return unicodedata.normalize("NFKC", str(text))


# ------------------------------------------------------------------ days
_DAY_RX = [
    (re.compile(r"^(\d{4})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{1,2})(?:\D.*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일.*$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[\sT]?\d{2}:?\d{2}(?::?\d{2})?)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{2})[./-](\d{1,2})[./-](\d{1,2})(?:\s.*)?$"), (1, 2, 3)),          # 26.11.20 (two-digit year)
]
_SERIAL_RX = re.compile(r"^\d{5}(?:\.\d+)?$")
_OFFSET_RX = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$")


def _one_day(text: str) -> date | None:
    s = nfkc(text).strip().rstrip(".")
    if not s:
        return None
    if _OFFSET_RX.match(s):                                  # 2026-11-20T23:30:00Z is 2026-11-21 in KST
        try:
            ts = pd.Timestamp(s)
            return ts.tz_convert("Asia/Seoul").date() if ts.tzinfo else ts.date()
        except (ValueError, TypeError):
            return None
    for rx, (y, m, d) in _DAY_RX:
        hit = rx.match(s)
        if hit:
            yy = int(hit.group(y))
            yy = yy + 2000 if yy < 100 else yy
            try:
                return date(yy, int(hit.group(m)), int(hit.group(d)))
            except ValueError:
                return None
    return None


def day_of(text: str) -> date | None:
    """A cell's day, in any common written form (not a bare serial number: that is only read column-wise)."""
    return _one_day(text)


def serial_day(text: str) -> date | None:
    """An Excel serial number (46350, 46350.5) as its day, when it falls in 2000–2099."""
    s = str(text).strip()
    if not _SERIAL_RX.match(s):
        return None
    n = float(s)
    if not SERIAL_LOW <= n < SERIAL_HIGH:
        return None
    return EXCEL_EPOCH + timedelta(days=int(n))


def days(values: pd.Series, *, serial: bool = False) -> pd.Series:
    """Each cell's day (``datetime.date``) or None; ``serial`` also reads bare Excel serial numbers. Worked once per
    distinct value (a month has a few dozen days)."""
    codes, uniq = pd.factorize(values.astype(str), use_na_sentinel=False)
    out = [(_one_day(u) or (serial_day(u) if serial else None)) for u in uniq]
    return pd.Series(np.array(out, dtype=object)[codes] if len(codes) else [], index=values.index, dtype=object)


def serial_column(values: pd.Series) -> bool:
    """Whether a column's filled cells are all Excel serial numbers of days close together (one file's period: at
    most 400 days apart) — an amount column of 5-digit sums spreads far wider or is not all in 2000–2099."""
    v = values[values.astype(str).str.strip() != ""].astype(str).str.strip()
    if v.empty or not v.str.fullmatch(r"\d{5}(?:\.\d+)?").all():
        return False
    n = v.astype(float)
    return bool(n.between(SERIAL_LOW, SERIAL_HIGH).all() and (n.max() - n.min()) <= 400)


# ------------------------------------------------------------------ amounts
_AMOUNT_RX = re.compile(r"^\(?[-+\u2212]?(?:₩|KRW)?[0-9]{1,3}(?:,[0-9]{3})*(?:\.0+)?(?:원|KRW)?\)?$|"
                        r"^\(?[-+\u2212]?(?:₩|KRW)?[0-9]{1,15}(?:\.0+)?(?:원|KRW)?\)?$", re.IGNORECASE)


def amount_of(text: str) -> int | None:
    """Whole won in a cell, or None: "1,234원", "₩1,234", "300,390.00", "(1,000)" and "-1,000" (negative)."""
    s = nfkc(text).replace(" ", "")
    if not s or not _AMOUNT_RX.match(s):
        return None
    neg = s.startswith("(") and s.endswith(")") or "-" in s or "\u2212" in s
    digits = re.sub(r"\.0+", "", s)
    digits = re.sub(r"[^0-9]", "", digits)
    if not digits:
        return None
    n = int(digits)
    return -n if neg else n


def amounts(values: pd.Series) -> pd.Series:
    """Each cell's whole won (float, NaN where the cell is not an amount), once per distinct value."""
    codes, uniq = pd.factorize(values.astype(str), use_na_sentinel=False)
    out = np.array([amount_of(u) if amount_of(u) is not None else np.nan for u in uniq], dtype=float)
    return pd.Series(out[codes] if len(codes) else [], index=values.index, dtype=float)


# ------------------------------------------------------------------ words
DIRECTION_IN = ("입금", "입", "받음", "deposit", "credit", "in")
DIRECTION_OUT = ("출금", "출", "지급", "보냄", "withdrawal", "debit", "out")
KIND_WORDS = ("결제", "승인", "취소", "환불", "매출", "부분취소", "전체취소", "정상", "결제완료", "매입", "approval", "cancel",
              "refund", "paid", "done", "canceled", "cancelled", "partial_canceled")
METHOD_WORDS = ("가상계좌", "무통장", "카드", "신용카드", "체크카드", "계좌이체", "실시간계좌이체", "휴대폰", "간편결제",
                "vbank", "card", "trans", "phone", "virtual_account", "transfer", "va", "ca", "ra", "vcnt")
CHANNEL_RX = re.compile(r"타행|당행|이체|FB|CMS|인터넷|모바일|스마트|ATM|CD|창구|펌뱅킹|오픈뱅킹|대체|자동|전자금융|텔레|폰뱅킹|"
                        r"일반입금|입금|출금|급여|체크|카드", re.IGNORECASE)
_KIND_IN = re.compile("|".join(map(re.escape, KIND_WORDS[:10])))      # any of them inside a cell: one search
_METHOD_IN = re.compile("|".join(map(re.escape, METHOD_WORDS[:8])))
_HANGUL_NAME = re.compile(r"^[가-힣]{2,5}$")
_COMPANY = re.compile(r"\(주\)|㈜|주식회사|유한|\(유\)|페이|먼츠|뱅크|파이낸셜|정보통신", re.IGNORECASE)


def pg_of(value: str, pg_code: Callable[[str], str]) -> str:
    """A PG named in a cell, also inside a longer text ("html5_inicis_mid01&KG이니시스", "KG이니시스(html5_inicis)")."""
    hit = pg_code(value)
    if hit:
        return hit
    for part in re.split(r"[&/|()\[\],;]+", value):
        hit = pg_code(part.strip()) or pg_code(re.sub(r"_?mid\w*$", "", part.strip()))
        if hit:
            return hit
    return ""


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else 0.0


@dataclass
class Profile:
    """One column's cells as a person would describe them."""

    name: str
    position: int
    filled: float = 0.0            # share of rows with something in them
    day: float = 0.0               # share of filled cells that are a day
    serial: bool = False           # …as Excel serial numbers
    amount: float = 0.0            # share of filled cells that are whole won
    negative: float = 0.0          # share of amounts below zero
    median: float = 0.0            # median |amount|
    distinct: int = 0
    direction: float = 0.0         # 입금 / 출금 words
    kind: float = 0.0              # 결제 / 취소 words
    method: float = 0.0            # 가상계좌 / 카드
    pg: float = 0.0                # a PG's name
    channel: float = 0.0           # 타행이체, FB이체, 인터넷 …
    name_like: float = 0.0         # a person's or a company's name
    values: list[str] = field(default_factory=list, repr=False)   # the sample's distinct values (a few hundred)

    @property
    def is_day(self) -> bool:
        return self.filled > 0 and self.day >= 0.9

    @property
    def is_amount(self) -> bool:
        return self.filled > 0 and self.amount >= 0.9 and not self.is_day

    @property
    def is_text(self) -> bool:
        return self.filled > 0 and not self.is_day and self.amount < 0.5


_MEMO: dict[tuple[str, int, int], tuple[weakref.ref, object]] = {}


def _memo(kind: str, df: pd.DataFrame, n: int, make: Callable[[], _T]) -> _T:
    """``make()`` once per frame (a file's table is read, never changed: the month end profiles and samples it three
    times — its days, its reading, the reading's check). Forgotten with the frame."""
    key = (kind, id(df), n)
    hit = _MEMO.get(key)
    if hit is not None and hit[0]() is df:
        return hit[1]  # type: ignore[return-value]
    value = make()
    def forget(_r: object) -> None:
        _MEMO.pop(key, None)
    try:
        ref = weakref.ref(df, forget)
    except TypeError:
        return value
    _MEMO[key] = (ref, value)
    return value


def sample(df: pd.DataFrame, n: int = SAMPLE) -> pd.DataFrame:
    """The first rows and an even spread of the rest (a file sorted by day shows every day it holds)."""
    if len(df) <= n:
        return df

    def make() -> pd.DataFrame:
        head = n // 3
        rest = np.linspace(head, len(df) - 1, n - head).astype(int)
        return df.iloc[np.unique(np.concatenate([np.arange(head), rest]))]
    return _memo("sample", df, n, make)


def profile(df: pd.DataFrame) -> list[Profile]:
    """Every column's profile, on a sample of the rows (copies: a caller may change its own)."""
    return [replace(p, values=list(p.values)) for p in _memo("profile", df, len(df.columns), lambda: _profile(df))]


def _profile(df: pd.DataFrame) -> list[Profile]:
    from lib.reports.recon.words import pg_code
    s = sample(df)
    out = []
    for i, name in enumerate(df.columns):
        raw = s.iloc[:, i].astype(str)
        codes0, uniq0 = pd.factorize(raw)
        col = pd.Series(np.array([_unguard(nfkc(v).strip()) for v in uniq0], dtype=object)[codes0] if len(codes0)
                        else [], index=raw.index, dtype=object)
        filled = col[~col.isin(("", "-", "\u2212", "—", "–"))]      # a dash in a money column means nothing there
        p = Profile(name=str(name), position=i, filled=_share(col != ""), distinct=int(filled.nunique()))
        if filled.empty:
            out.append(p)
            continue
        serial = serial_column(filled)
        d = days(filled, serial=serial)
        p.day, p.serial = _share(d.notna()), serial and _share(d.notna()) > 0
        a = amounts(filled)
        p.amount = _share(a.notna())
        if a.notna().any():
            p.negative = _share(a.dropna() < 0)
            p.median = float(a.dropna().abs().median())
        codes, uniq = pd.factorize(filled)              # each distinct value looked at once

        def share_of(test: Callable[[str], object]) -> float:
            hits = np.fromiter((bool(test(u)) for u in uniq), dtype=bool, count=len(uniq))
            return float(hits[codes].mean()) if len(codes) else 0.0
        p.direction = share_of(lambda v: v.lower() in DIRECTION_IN + DIRECTION_OUT)
        p.kind = share_of(lambda v: bool(_KIND_IN.search(v.lower())) or v.lower() in KIND_WORDS)
        p.method = share_of(lambda v: v.lower() in METHOD_WORDS or bool(_METHOD_IN.search(v.lower())))
        p.pg = share_of(lambda v: len(uniq) <= 500 and pg_of(v, pg_code))
        p.channel = share_of(lambda v: CHANNEL_RX.search(v))
        p.name_like = share_of(lambda v: _HANGUL_NAME.match(v) or _COMPANY.search(v))
        p.values = [str(u) for u in uniq[:400]]
        out.append(p)
    return out
