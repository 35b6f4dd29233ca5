"""Money writes as rows: one row of ``writes`` per write that claimed its send (lib/services/write.py's ``Write``),
moved at each state change **in the same transaction as its audit record** (``AuditStore.record(write=…)``). The
signed audit chain (lib/db/audit.py) stays the log of record; this table is what the rules read with SQL: the
per-operator refund limit, the watcher's events, the digest's count of unknown outcomes, the audit page's search.

    sent ──▶ succeeded | failed | unknown ──(resolved: unknowns.py)──▶ succeeded | failed

``action_key`` is UNIQUE: the send-once id a page made for the action (lib/ui/send_once.py), passed down as the
write's idempotency key — a second write under the same key is refused before anything is sent (``ActionTaken``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, union, update
from sqlalchemy.engine import Connection, Engine

from lib.db.schema import approval_requests, writes
from lib.domain.kinds import WriteKind, WriteState


class ActionTaken(Exception):
    """A write under this action key was already sent (nothing more is sent)."""

    def __init__(self, action_key: str, row: dict[str, Any]):
        super().__init__(action_key)
        self.action_key, self.row = action_key, row


@dataclass(frozen=True)
class WriteMove:
    """One state change of one write, applied by ``AuditStore.record`` in its audit record's transaction. The first
    move (``SENT``) carries the row's facts; the others only the new state."""

    correlation_id: str
    state: WriteState
    action_key: str | None = None
    kind: WriteKind | None = None
    imp_uid: str | None = None
    amount: int | None = None
    operator: str | None = None
    approval_id: str | None = None
    resolved: bool = False

    @classmethod
    def sent(cls, correlation_id: str, *, action_key: str, kind: WriteKind, imp_uid: str, amount: int | None,
             operator: str, approval_id: str | None) -> WriteMove:
        return cls(correlation_id, WriteState.SENT, action_key, kind, imp_uid, amount, operator, approval_id)


def apply(conn: Connection, move: WriteMove, at: float) -> None:
    """Apply ``move`` on ``conn`` (inside the caller's transaction). A ``SENT`` move inserts the row, refused with
    ``ActionTaken`` when its action key was used (the UNIQUE constraint is the backstop); the others update it (a
    write that never claimed its send has no row: nothing to move)."""
    if move.state == WriteState.SENT:
        taken = conn.execute(select(writes).where(writes.c.action_key == move.action_key)).mappings().first()
        if taken is not None:
            raise ActionTaken(str(move.action_key), dict(taken))
        conn.execute(insert(writes).values(
            correlation_id=move.correlation_id, action_key=move.action_key, kind=move.kind, imp_uid=move.imp_uid,
            amount=move.amount, operator=move.operator, approval_id=move.approval_id, state=WriteState.SENT,
            sent_at=at, updated_at=at))
        return
    values: dict[str, Any] = {"state": move.state, "updated_at": at}
    if move.state == WriteState.UNKNOWN:
        values["unknown_at"] = func.coalesce(writes.c.unknown_at, at)
    if move.resolved:
        values["resolved_at"] = at
    conn.execute(update(writes).where(writes.c.correlation_id == move.correlation_id).values(**values))


class WriteStore:
    """The ``writes`` table of one app database, read with SQL."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, correlation_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            r = c.execute(select(writes).where(writes.c.correlation_id == correlation_id)).mappings().first()
        return dict(r) if r else None

    def by_action_key(self, action_key: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            r = c.execute(select(writes).where(writes.c.action_key == action_key)).mappings().first()
        return dict(r) if r else None

    def refunded_without_approval(self, operator: str, *, since: float) -> int:
        """What ``operator`` sent as refunds without an approval since ``since`` and that did not provably fail
        (sent, succeeded or unknown all count)."""
        q = (select(func.coalesce(func.sum(writes.c.amount), 0))
             .where(writes.c.kind == WriteKind.REFUND, func.lower(writes.c.operator) == operator.lower(),
                    writes.c.approval_id.is_(None), writes.c.state != WriteState.FAILED, writes.c.sent_at >= since))
        with self.engine.connect() as c:
            return int(c.execute(q).scalar() or 0)

    def changed_since(self, since: float, *, limit: int = 5000) -> list[dict[str, Any]]:
        """Rows that moved at or after ``since`` (oldest move first)."""
        q = select(writes).where(writes.c.updated_at >= since).order_by(writes.c.updated_at).limit(limit)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def count(self, state: WriteState) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(writes).where(writes.c.state == state)).scalar()
                       or 0)

    def recent(self, kind: WriteKind, imp_uids: list[str], *, since: float) -> list[dict[str, Any]]:
        """Rows of ``kind`` for these payments sent at or after ``since`` (oldest first)."""
        if not imp_uids:
            return []
        q = (select(writes).where(writes.c.kind == kind, writes.c.imp_uid.in_(imp_uids), writes.c.sent_at >= since)
             .order_by(writes.c.sent_at))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def cases_with_amount(self, amount: int) -> set[str]:
        """The correlation ids of the writes of this amount and of the four-eyes requests for it (the audit page's
        search by an amount: lib/reports/audit_log.search)."""
        q = union(select(writes.c.correlation_id).where(writes.c.amount == amount),
                  select(approval_requests.c.id).where(approval_requests.c.amount == amount))
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(q)}
