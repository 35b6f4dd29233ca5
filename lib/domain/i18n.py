"""The language of the screens: Korean first, English available.

Texts are gettext messages: the English text is the message id in the code (``_("Refund")``), the Korean text
is in ``locale/ko/LC_MESSAGES/messages.po``, read with Babel. The language is ``VBANK_LANG`` (``ko`` by default,
``en``) unless the person picked another one in the sidebar; the page sets it at the start of each run
(``set_lang``) and everything formatted during that run — labels, lib's messages, amounts and dates — follows it.

``_`` translates now; ``N_`` only marks a text for the catalog where it is defined at import time (a module
constant) and is translated where it is shown. ``pybabel extract`` (``make messages``) finds both.
"""

from __future__ import annotations

import contextvars
import os
import re
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

LANGS = {"ko": "한국어", "en": "English"}


LOCALES = {"ko": "ko_KR", "en": "en_US"}


DEFAULT = "ko"


LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"


DOMAIN = "messages"


_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("vbank_lang", default=None)


# Message ids asked for in a language whose catalog lacks them (the page tests assert none).
MISSING: set[str] = set()


def default_lang() -> str:
    v = os.environ.get("VBANK_LANG", DEFAULT).strip().lower()[:2]
    return v if v in LANGS else DEFAULT


def set_lang(lang: str | None) -> str:
    """The language for the rest of this run (this thread); unknown or empty → the default."""
    chosen = lang if lang in LANGS else default_lang()
    _current.set(chosen)
    return chosen


def lang() -> str:
    return _current.get() or default_lang()


def locale() -> str:
    """Babel's locale for the current language: ko_KR or en_US."""
    return LOCALES[lang()]


def babel_locale() -> Locale:
    return Locale.parse(locale())


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation for a language (English is the ids themselves: empty). Fuzzy or empty entries are
    left out, so they count as missing."""
    if lang == "en":
        return {}
    with catalog_path(lang).open("rb") as f:
        cat = read_po(f, locale=LOCALES[lang], domain=DOMAIN)
    return {m.id: m.string for m in cat if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
            and not m.fuzzy}


# A Korean particle written for either kind of final sound — 을(를), 이(가), 은(는), 과(와), (으)로 — right after a value:
# chosen for the value once it is filled in (tossi reads the word's last sound, digits and Latin letters included),
# so "임선우(으)로" reads "임선우로" and "₩5,000을(를)" reads "₩5,000을". A value that ends in a parenthesised code
# ("KG이니시스 (html5_inicis)") is read with the word before it: "KG이니시스 (html5_inicis)는".
_PARTICLE = re.compile(r"(\S+?(?:\s\([^()\s]*\))?)(을\(를\)|를\(을\)|이\(가\)|가\(이\)|은\(는\)|는\(은\)|과\(와\)|와\(과\)|\(으\)로|\(이\)라)")


def particles(text: str) -> str:
    """Resolve every "X(Y)" particle in ``text`` for the word before it."""
    import tossi

    def one(m: re.Match[str]) -> str:
        try:
            return str(tossi.postfix(m.group(1), m.group(2)))
        except (ValueError, KeyError, IndexError):   # a word tossi cannot read: keep both forms
            return m.group(0)
    return _PARTICLE.sub(one, text)


class KoText(str):
    """A Korean translation: ``format`` fills the values in, then picks each particle for the value before it."""

    def format(self, *args: object, **kwargs: object) -> str:
        return particles(str.format(self, *args, **kwargs))


def gettext(message: str) -> str:
    current = lang()
    if current == "en" or not message:
        return message
    text = catalog(current).get(message)
    if text is None:
        MISSING.add(message)
        return message
    return KoText(text) if current == "ko" else text


def N_(message: str) -> str:
    """Mark a text for the catalog without translating it yet (module constants)."""
    return message


_ = gettext
