"""The pending list's filters as URL parameters (so a link shows the same list); values from a URL or a colleague
are checked, never trusted. The named views themselves are kept in the app database (lib/db/views.py)."""

from __future__ import annotations

from datetime import date

from lib.domain.text import clean

DUE_WINDOWS = ("all", "overdue", "today", "next3", "next7", "custom")


KEYS = {"days": "f_days", "pg": "f_pg", "bank": "f_bank", "due": "f_due", "due_from": "f_due_from",
        "due_to": "f_due_to", "min": "f_min", "max": "f_max", "q": "f_text"}


DEFAULTS = {"f_days": 90, "f_pg": [], "f_bank": [], "f_due": "all", "f_due_from": None, "f_due_to": None,
            "f_min": None, "f_max": None, "f_text": ""}


def _int(v: object, lo: int, hi: int) -> int | None:
    try:
        n = int(str(v))
    except ValueError:
        return None
    return n if lo <= n <= hi else None


def _date(v: object) -> date | None:
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        return None


def from_params(params: dict) -> dict:
    """Widget values from URL parameters (``pg=kcp,settle&due=overdue&min=10000``); unknown or malformed ones
    are ignored."""
    out: dict = {}
    for name, key in KEYS.items():
        if name not in params:
            continue
        raw = str(params[name])[:500]
        if key in ("f_pg", "f_bank"):
            out[key] = [clean(x, max_len=40) for x in raw.split(",") if clean(x)][:30]
        elif key == "f_due":
            if raw in DUE_WINDOWS:
                out[key] = raw
        elif key in ("f_due_from", "f_due_to"):
            if _date(raw):
                out[key] = _date(raw)
        elif key == "f_days":
            if _int(raw, 1, 365):
                out[key] = _int(raw, 1, 365)
        elif key in ("f_min", "f_max"):
            if _int(raw, 0, 10**12) is not None:
                out[key] = _int(raw, 0, 10**12)
        elif key == "f_text":
            out[key] = clean(raw, max_len=100)
    return out


def to_params(values: dict) -> dict[str, str]:
    """URL parameters for the filters that differ from the defaults."""
    out = {}
    for name, key in KEYS.items():
        v = values.get(key, DEFAULTS[key])
        if v == DEFAULTS[key] or v in (None, "", []):
            continue
        out[name] = ",".join(v) if isinstance(v, list) else (v.isoformat() if isinstance(v, date) else str(v))
    return out
