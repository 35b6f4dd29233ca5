"""Formatting and masking for people: KRW, Asia/Seoul times, durations, account and phone numbers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from babel.dates import format_datetime
from babel.numbers import format_compact_currency, format_currency, format_decimal

from lib.domain.clock import KST, now_kst
from lib.domain.i18n import _, lang, locale


def krw(amount: int | float | None) -> str:
    """₩1,234,000 (negative: -₩1,000)."""
    if amount is None:
        return "—"
    return format_currency(int(amount), "KRW", locale=locale())


def number(n: int | float | None) -> str:
    """A count with the locale's grouping: 12,345."""
    return "—" if n is None else format_decimal(n, locale=locale())


COMPACT_FROM = 1_000_000          # seven digits and a ₩ overflow a metric on a 1280-wide screen


def krw_compact(amount: int | float | None) -> str:
    """A figure that fits a metric at 1280×800 whatever it is: up to ₩999,999 in full, from ₩1,000,000 in 만
    (10,000 won) as Korean finance teams read it — ₩1,375,000 → ₩138만, ₩31,858,500 → ₩3,186만, ₩1,234,567,890 →
    ₩12억 3,457만; in English Babel's compact form (₩1.4M, ₩31.9M). Show the exact amount with it (a tooltip and a
    caption: lib/ui/metrics.py).

    Written by hand for Korean: Babel's ko_KR compact form gives one unit without grouping (₩3186만, ₩12.3억),
    which is not how the team reads a ledger figure."""
    if amount is None:
        return "—"
    n = int(amount)
    if abs(n) < COMPACT_FROM:
        return krw(n)
    if lang() != "ko":
        return format_compact_currency(n, "KRW", locale=locale(), fraction_digits=1)
    man = (abs(n) + 5_000) // 10_000                 # rounded to the 만
    eok, man = divmod(man, 10_000)
    text = (f"₩{eok:,}억" + (f" {man:,}만" if man else "")) if eok else f"₩{man:,}만"
    return ("-" if n < 0 else "") + text


def kst(d: datetime | None, *, seconds: bool = False) -> str:
    """2026-11-21 21:05 KST: the ledger's own pattern in either language (Babel, Asia/Seoul), saying its zone."""
    if d is None:
        return "—"
    return format_datetime(d, "yyyy-MM-dd HH:mm" + (":ss" if seconds else ""), tzinfo=KST, locale=locale()) + " KST"


def ago(at: datetime | None, now: float | None = None) -> str:
    """"12초 전" / "12 seconds ago": how long before ``now`` (default: the clock), in the person's language."""
    import time

    from babel.dates import format_timedelta
    if at is None:
        return _("never")
    secs = max(0, int((time.time() if now is None else now) - at.timestamp()))
    return _("{span} ago").format(span=format_timedelta(secs, threshold=1.1, locale=locale(), granularity="second"))


def duration(td: timedelta) -> str:
    """'2d 3h', '3h 20m', '12m' (absolute value); 2일 3시간 in Korean."""
    secs = abs(int(td.total_seconds()))
    d, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return _("{d}d {h}h").format(d=d, h=h)
    if h:
        return _("{h}h {m}m").format(h=h, m=m)
    return _("{m}m").format(m=m)


def time_left_seconds(seconds: int) -> str:
    """'2d 3h left' / 'overdue by 3h 20m' for a number of seconds until the due time."""
    if seconds < 0:
        return _("overdue by {time}").format(time=duration(timedelta(seconds=-seconds)))
    return _("{time} left").format(time=duration(timedelta(seconds=seconds)))


def time_left(due: datetime | None, now: datetime | None = None) -> str:
    if due is None:
        return _("no due date")
    now = now or now_kst()
    return time_left_seconds(int((due - now).total_seconds()))


def mask_account(number: str | None) -> str:
    """Keep the first 3 and last 3 digits: 110-***-***789 style, separators kept."""
    if not number:
        return ""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    if len(digits) <= 6:
        keep = set(digits[-2:])
    else:
        keep = set(digits[:3] + digits[-3:])
    return "".join(ch if (not ch.isdigit() or i in keep) else "*" for i, ch in enumerate(number))


def mask_phone(number: str | None) -> str:
    """010-1234-5678 -> 010-****-5678."""
    if not number:
        return ""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    keep = set(digits[:3] + digits[-4:])
    return "".join(ch if (not ch.isdigit() or i in keep) else "*" for i, ch in enumerate(number))


def mask_name(name: str | None) -> str:
    """김민수 → 김*수, 이영 → 이*, Kim Minsu → K*** M****: enough for a colleague to recognise, not to identify."""
    if not name:
        return ""
    words = name.split()
    if len(words) > 1:
        return " ".join(w[0] + "*" * (len(w) - 1) for w in words)
    n = name.strip()
    if len(n) <= 2:
        return n[0] + "*" * (len(n) - 1)
    return n[0] + "*" * (len(n) - 2) + n[-1]


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return email or ""
    user, host = email.split("@", 1)
    return (user[:2] + "***@" + host) if len(user) > 2 else ("***@" + host)


_DIGITS = re.compile(r"[0-9]")      # ASCII only: no fullwidth, Arabic-Indic or superscript digits


def digits_only(value: str) -> str:
    return "".join(_DIGITS.findall(value or ""))
