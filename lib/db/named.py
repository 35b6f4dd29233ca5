"""Named settings the team shares in the app database (reconciliation presets, pending-list views): saving needs
the ``save_settings`` permission, a clean name of at most 60 characters, overwrites by name, and is audited."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from lib.db.audit import AuditStore, new_correlation_id
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import Outcome
from lib.domain.text import clean

NAME_MAX = 60


class NamedStore:
    def __init__(self, engine: Engine, *, table: Table, payload_column: str, noun: str, audit_action: str,
                 audit: AuditStore | None = None):
        self.engine, self.noun, self.action, self.audit = engine, noun, audit_action, audit
        self.col = payload_column
        self.table = table             # lib/db/schema.py

    def save(self, name: str, payload: dict[str, Any], actor: Actor, audit: AuditStore | None = None) -> str:
        actor.require("save_settings")
        name = clean(name)
        if not name:
            raise ValueError(_("Give the {noun} a name.").format(noun=_(self.noun)))
        if len(name) > NAME_MAX:
            raise ValueError(_("A {noun} name has at most {max} characters.").format(noun=_(self.noun), max=NAME_MAX))
        values = {"name": name, self.col: json.dumps(payload, ensure_ascii=False), "operator": actor.email,
                  "updated_at": time.time()}
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(self.table).values(**values).on_conflict_do_update(
            index_elements=["name"], set_={k: values[k] for k in (self.col, "operator", "updated_at")})
        with self.engine.begin() as c:
            c.execute(stmt)
        audit = audit or self.audit
        if audit is not None:
            audit.record(operator=actor.email, action=self.action, outcome=Outcome.SUCCEEDED,
                         correlation_id=new_correlation_id(), detail={"name": name, self.col: payload})
        return name

    def all(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(self.table).order_by(self.table.c.name)).mappings().all()
        return {r["name"]: json.loads(r[self.col]) for r in rows}
