"""The pending list's filters as URL parameters (so a link shows the same list) and as named views shared by the
team, kept in the app database. Values from a URL or a colleague are checked, never trusted."""

from __future__ import annotations

import json
import time
from datetime import date

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, select

from .audit import create_tables, new_correlation_id
from .text import clean

DUE_WINDOWS = ("all", "overdue", "today", "next3", "next7", "custom")
KEYS = {"days": "f_days", "pg": "f_pg", "bank": "f_bank", "due": "f_due", "due_from": "f_due_from",
        "due_to": "f_due_to", "min": "f_min", "max": "f_max", "q": "f_text"}
DEFAULTS = {"f_days": 90, "f_pg": [], "f_bank": [], "f_due": "all", "f_due_from": None, "f_due_to": None,
            "f_min": None, "f_max": None, "f_text": ""}


def _int(v, lo: int, hi: int) -> int | None:
    try:
        n = int(str(v))
    except ValueError:
        return None
    return n if lo <= n <= hi else None


def _date(v) -> date | None:
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


_meta = MetaData()
views_table = Table(
    "saved_views", _meta,
    Column("name", String(60), primary_key=True),
    Column("params", Text, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


class ViewStore:
    """Named filter views ("kcp 연체", "오늘 마감") shared by the team. Saving needs ``save_settings``; audited."""

    def __init__(self, audit):
        self.audit, self.engine = audit, audit.engine
        create_tables(self.engine, _meta)

    def all(self) -> dict[str, dict[str, str]]:
        with self.engine.connect() as c:
            return {r["name"]: json.loads(r["params"]) for r in
                    c.execute(select(views_table).order_by(views_table.c.name)).mappings()}

    def save(self, name: str, params: dict[str, str], actor) -> str:
        actor.require("save_settings")
        name = clean(name)
        if not name or len(name) > 60:
            raise ValueError("A view needs a name of 1 to 60 characters.")
        with self.engine.begin() as c:
            c.execute(delete(views_table).where(views_table.c.name == name))
            c.execute(insert(views_table).values(name=name, params=json.dumps(params, ensure_ascii=False),
                                                 operator=actor.email, updated_at=time.time()))
        self.audit.record(operator=actor.email, action="saved_view", outcome="succeeded",
                          correlation_id=new_correlation_id(), detail={"name": name, "params": params})
        return name
