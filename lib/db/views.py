"""Named pending-list views shared by the team, kept in the app database (lib/db/named.py: role, name rules, audit)."""

from __future__ import annotations

from lib.db.audit import AuditStore
from lib.db.named import NamedStore
from lib.db.schema import saved_views
from lib.domain.i18n import N_
from lib.domain.identity import Actor
from lib.domain.kinds import Action


class ViewStore:
    """Named filter views ("kcp 연체", "오늘 마감") shared by the team (lib/db/named.py: role, name rules, audit)."""

    def __init__(self, audit: AuditStore):
        self.store = NamedStore(audit.engine, table=saved_views, payload_column="params", noun=N_("view"),
                                audit_action=Action.SAVED_VIEW, audit=audit)

    def all(self) -> dict[str, dict[str, str]]:
        return self.store.all()

    def save(self, name: str, params: dict[str, str], actor: Actor) -> str:
        return self.store.save(name, params, actor)
