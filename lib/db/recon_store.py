"""Reconciliation in the app database: named column mappings (presets) and exceptions the team closed."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from lib.db.named import NamedStore
from lib.db.schema import recon_presets, recon_resolutions, recon_seen
from lib.domain.i18n import N_, _
from lib.domain.identity import Actor
from lib.domain.rules import REASON_MIN, is_reason
from lib.domain.text import clean

COLUMN_NAME_MAX = 100          # a mapped column's name: longer header cells are refused when a file is read (UploadLimits)


# ------------------------------------------------------------------ presets
class PresetStore:
    """Named column mappings shared by the team (lib/db/named.py: role, name rules, audit)."""

    def __init__(self, engine: Engine):
        self.store = NamedStore(engine, table=recon_presets, payload_column="mapping", noun=N_("preset"),
                                audit_action="recon_preset")

    def save(self, name: str, mapping: dict[str, Any], actor: Actor, audit: Any = None) -> str:
        """Save (or overwrite) a named mapping (``ColumnMap.as_dict()``). Needs the ``save_settings`` permission;
        audited."""
        for f, col in mapping.items():
            if isinstance(col, str) and len(col) > COLUMN_NAME_MAX:
                raise ValueError(_("The column mapped to {f} has too long a name.").format(f=f))
        return self.store.save(name, mapping, actor, audit)

    def all(self) -> dict[str, dict[str, Any]]:
        """Saved mappings by name (``ColumnMap.of`` reads one)."""
        return self.store.all()


class ResolutionStore:
    """Exceptions closed by the team, with a memo and an owner (app database, audited, role operator): a later run
    over an overlapping range shows what was resolved, by whom and why. Reopening keeps the history in the audit."""

    def __init__(self, engine: Engine):
        self.store = NamedStore(engine, table=recon_resolutions, payload_column="resolution",
                                noun=N_("resolution"), audit_action="recon_resolution")

    def resolve(self, key: str, *, memo: str, owner: str, summary: dict[str, Any], actor: Actor, audit: Any = None) -> None:
        memo, owner = clean(memo), clean(owner)
        if not is_reason(memo):
            raise ValueError(_("Write a memo that says how the exception was closed: a sentence of at least {n} "
                               "characters (not “ok” or one character repeated).").format(n=REASON_MIN))
        if len(memo) > 500 or len(owner) > 100:
            raise ValueError(_("A memo has at most 500 characters and an owner at most 100."))
        self.store.save(key, {"state": "resolved", "memo": memo, "owner": owner or actor.email,
                              "by": actor.email, "at": time.time(), **summary}, actor, audit)

    def reopen(self, key: str, *, actor: Actor, audit: Any = None) -> None:
        old = self.store.all().get(key) or {}
        self.store.save(key, {**old, "state": "open", "by": actor.email, "at": time.time()}, actor, audit)

    def resolved(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Of ``keys``, the ones resolved now, with memo, owner, who and when."""
        want = set(keys)
        return {k: v for k, v in self.store.all().items() if k in want and v.get("state") == "resolved"}


class SeenExceptions:
    """Exceptions as a reconciliation run showed them (key, a short label, first and last seen): what the watcher
    tells the team about when still open after some days. Bounded: at most ``MAX_PER_RUN`` keys per run are kept."""

    MAX_PER_RUN = 2_000

    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def remember(self, labels: dict[str, str]) -> None:
        now = time.time()
        rows = [{"key": k, "label": v[:300], "first_seen": now, "last_seen": now}
                for k, v in list(labels.items())[: self.MAX_PER_RUN]]
        if not rows:
            return
        with self.engine.begin() as c:
            stmt = self._insert(recon_seen).values(rows)
            c.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"last_seen": stmt.excluded.last_seen}))

    def keys(self) -> list[str]:
        """Every exception a run showed (closed ones included: the resolutions say which)."""
        with self.engine.connect() as c:
            return list(c.execute(select(recon_seen.c.key)).scalars())

    def first_seen_between(self, lo: float, hi: float) -> dict[str, tuple[str, float]]:
        """Exceptions first seen in [lo, hi): key → (label, first seen)."""
        with self.engine.connect() as c:
            rows = c.execute(select(recon_seen).where(recon_seen.c.first_seen >= lo, recon_seen.c.first_seen < hi)
                             ).mappings().all()
        return {r["key"]: (r["label"], r["first_seen"]) for r in rows}
