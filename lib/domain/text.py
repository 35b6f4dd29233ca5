"""Text that came from outside (the API, the URL, a file, another operator): cleaned before it is validated
or stored, and made inert before it is shown.

* ``clean``: Unicode NFC, bidi controls and zero-width characters removed (they can make "홍길동" and
  "홍길동\u200b" look alike, or reverse what a reader sees), other control characters removed, whitespace
  folded, and a length limit.
* ``ascii_digits``: for account and phone numbers — ASCII 0-9 only; any other digit (fullwidth, Arabic-Indic,
  superscript) is refused, never silently dropped or converted.
* ``md``: escapes a value for Streamlit's markdown (every ``st.*`` that takes a label or body parses it), so
  links, images, headings, emphasis, colour directives (``:red[…]``), HTML and emoji shortcodes stay text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from lib.domain.i18n import _

# Bidi embedding/override/isolate controls and marks, zero-width characters, BOM, soft hyphen, word joiner.
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_SPACES = re.compile(r"[ \t\r\n\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


NAME_MAX = 40            # an account holder's name (banks allow about 20 Korean characters)


NOTE_MAX = 500           # an operator's note


REASON_MAX = 256         # what the PG is told (the reason field), our write's tag included


PAYMENT_PAGE = "/payment?imp_uid="


def payment_path(imp_uid: object) -> str | None:
    """The payment page of ``imp_uid`` as a link's path, the id percent-encoded: an id from a file or the API with
    ``&``, ``#``, ``|``, ``>`` or a space cannot add a parameter, cut the link or close a Slack link early."""
    return PAYMENT_PAGE + quote(str(imp_uid), safe="") if imp_uid else None


def payment_paths(ids: Any) -> Any:
    """``payment_path`` over a pandas Series of imp_uids, at the speed of one concatenation when every id is made of
    the characters PortOne uses (the usual case), one by one otherwise."""
    if ids.str.fullmatch(r"[A-Za-z0-9_.\-]+").fillna(False).all():
        return PAYMENT_PAGE + ids
    return ids.map(payment_path)


WRITE_TAG_RX = re.compile(r"\s*\[vd:([0-9a-f]{8})\]\s*$")


WRITE_TAG_LEN = len(" [vd:12345678]")


def write_tag(correlation_id: str) -> str:
    """The mark a refund's reason carries to the PG: the first 8 characters of the write's correlation id. The
    API returns the reason in the payment's cancel_history, so a re-read can tell *our* refund from another of the
    same amount (made in the PG console, say): only an entry with our tag proves our write landed."""
    return f" [vd:{correlation_id[:8]}]"


def without_tag(reason: str | None) -> str:
    """A reason as a person reads it: our write tag taken off (it means nothing to the team)."""
    return WRITE_TAG_RX.sub("", reason or "")


def has_invisible(value: str | None) -> bool:
    return bool(value and (INVISIBLE.search(value) or _CONTROL.search(value)))


def clean(value: str | None, *, max_len: int | None = None, multiline: bool = False) -> str:
    """NFC, invisible and control characters removed, whitespace folded (newlines kept if ``multiline``),
    trimmed; cut to ``max_len`` characters when given (callers that must refuse instead check ``too_long``)."""
    s = unicodedata.normalize("NFC", value or "")
    s = INVISIBLE.sub("", s)
    if multiline:
        s = "\n".join(_SPACES.sub(" ", _CONTROL.sub("", line)).strip() for line in s.replace("\r\n", "\n").split("\n"))
        s = re.sub(r"\n{3,}", "\n\n", s).strip()
    else:
        s = _SPACES.sub(" ", _CONTROL.sub("", s)).strip()
    return s[:max_len] if max_len is not None else s


def too_long(value: str | None, max_len: int) -> bool:
    return len(clean(value, multiline=True)) > max_len


_ASCII_DIGITS = re.compile(r"[0-9]")


def ascii_digits(value: str | None) -> str:
    """The ASCII digits of a number typed with hyphens or spaces ("110-555-123456" → "110555123456")."""
    return "".join(_ASCII_DIGITS.findall(value or ""))


def is_account_text(value: str | None) -> bool:
    """ASCII digits, hyphens and spaces only — no fullwidth, Arabic-Indic or superscript digits."""
    return bool(value) and re.fullmatch(r"[0-9 -]+", value or "") is not None


# ------------------------------------------------------------------ display
# Characters that start markup anywhere inline: emphasis, code, links/images ([ and !), HTML (<), tables (|),
# strike (~), maths ($), directives and icons (: with [), escapes (\\). Those that only count at the start
# of a line (# - + > and "1.") are escaped there.
_MD_SPECIAL = re.compile(r"([\\`*{}\[\]<>|~$!:@])")      # @ and : also stop e-mail and URL autolinks


_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")    # intraword _ (imp_uid) never emphasises


_MD_LINE_START = re.compile(r"^(\s*)(?:(#{1,6}|[+\-])(?=\s|$)|(>)|(\d+)([.)])(?=\s|$))")


_MD_RULE = re.compile(r"^(\s*)([-_*=])(?=(?:\s*\2){2,}\s*$)")      # ---, ___, === : a rule or an underline


# Streamlit's GFM renderer turns bare URLs, www. names and e-mail addresses into links *after* parsing, so
# escapes cannot stop it: an invisible WORD JOINER (U+2060) before the ':' of a scheme, the '.' after www and
# the '@' of an address breaks the pattern without changing what a person reads.
WJ = "\u2060"


_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=\\:)|(?<=www)(?=\\\.)|(?=\\@)")


_WWW = re.compile(r"(?i)\b(www)\.")


def md(value: object) -> str:
    """``value`` as literal text inside Streamlit markdown: every markdown, directive and HTML character is
    backslash-escaped, invisible characters are dropped, and newlines become spaces (a value never starts a
    heading, a list or a block of its own)."""
    if value is None:
        return ""
    s = INVISIBLE.sub("", str(value))
    s = _CONTROL.sub("", s).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    s = s.lstrip(" ")                       # leading spaces would make an indented code block
    s = _MD_UNDERSCORE.sub(r"\\_", _MD_SPECIAL.sub(r"\\\1", s))
    s = _AUTOLINK.sub(WJ, _WWW.sub(r"\1\\.", s))

    def start(m: re.Match[str]) -> str:
        if m.group(2) or m.group(3):
            return m.group(1) + "\\" + (m.group(2) or m.group(3))
        return m.group(1) + m.group(4) + "\\" + m.group(5)
    s = _MD_RULE.sub(lambda m: m.group(1) + "\\" + m.group(2), s)
    return _MD_LINE_START.sub(start, s)


def plain(markdown_source: str) -> str:
    """What ``md`` output reads as once rendered (backslash escapes removed): for comparing in tests."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown_source).replace(WJ, "")


def short(value: object, limit: int = 120) -> str:
    """A long outside value cut for display (the full value stays in exports and expanders)."""
    s = "" if value is None else str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


ID_MAX = 80              # imp_uid and merchant_uid (the API allows up to 80 for merchant_uid)


_IMP_UID = re.compile(r"imp_[A-Za-z0-9_]{1,60}")


def lookup_problem(value: str | None) -> str | None:
    """Why a typed or deep-linked imp_uid / merchant_uid cannot name a payment (None: it may). Checked before
    the API is called, so a crafted link never turns into a malformed request path."""
    v = value or ""
    if not v.strip():
        return _("Enter an imp_uid or a merchant_uid.")
    if len(v) > ID_MAX:
        return _("An imp_uid or merchant_uid has at most {n} characters.").format(n=ID_MAX)
    if "\x00" in v or _CONTROL.search(v) or INVISIBLE.search(v) or "\n" in v or "\r" in v:
        return _("It holds control or invisible characters, which no payment id has.")
    if v.strip(".") == "" or "/" in v or "\\" in v:
        return _("It is not an imp_uid or a merchant_uid.")
    if v.startswith("imp_") and not _IMP_UID.fullmatch(v):
        return _("An imp_uid is imp_ followed by letters and digits.")
    return None


_WON = re.compile(r"(?:₩|KRW)?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)\s*(?:원)?")


def parse_won(value: str | None, *, what: str | None = None) -> tuple[int | None, str | None]:
    """An amount typed by a person: ASCII digits with optional thousands commas, an optional ₩ or 원.
    (amount, None), or (None, why) — ``1e3``, ``1000.5``, ``-5``, ``１０００`` and ``1,00`` are refused, never
    reinterpreted. Empty → (None, None)."""
    v = (value or "").strip()
    if not v:
        return None, None
    what = what or _("The amount")
    m = _WON.fullmatch(v)
    if not m:
        if re.search(r"[eE]", v) and re.search(r"[0-9]", v):
            return None, _("{what} must be written in full (e.g. 1,000), not as “{v}”.").format(what=what, v=v[:20])
        if "." in v:
            return None, _("{what} must be a whole number of won (no decimals).").format(what=what)
        if v.startswith("-"):
            return None, _("{what} cannot be negative.").format(what=what)
        return None, _("{what} may hold the digits 0–9 and thousands commas only.").format(what=what)
    digits = m.group(1).replace(",", "")
    if len(digits) > 13:
        return None, _("{what} is too large.").format(what=what)
    return int(digits), None


def won_text(amount: int | None) -> str:
    """How an amount is shown in a text field: 1,234,000."""
    return "" if amount is None else f"{int(amount):,}"
