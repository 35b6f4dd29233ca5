"""Money writes as rows (lib/db/writes.py): the ``writes`` table, filled from the audit log already written (one row per
write whose "sent" record is there, in the state its later records left it), and a CHECK constraint on the outcomes
the audit log stores (lib/domain/kinds.Outcome).

Revision ID: 0008
Revises: 0007
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copies of the codes as they are at this revision (a migration never follows later code).
OUTCOMES = ("sent", "succeeded", "failed", "unknown", "refused", "resolved", "requested", "approved", "rejected",
            "expired", "withdrawn", "revealed")
WRITE_KINDS = ("update_vbank", "refund", "revoke_vbank")
STATES = ("sent", "succeeded", "failed", "unknown")
RESOLVED_AS = {"applied_reread": "succeeded", "nothing_sent": "failed", "not_applied_checked": "failed"}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _json(v: object) -> dict[str, Any]:
    try:
        out = json.loads(v) if isinstance(v, str) and v else {}
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def upgrade() -> None:
    writes = op.create_table(
        "writes",
        sa.Column("correlation_id", sa.String(40), primary_key=True),
        sa.Column("action_key", sa.String(120), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("imp_uid", sa.String(64), nullable=False, index=True),
        sa.Column("amount", sa.Integer),
        sa.Column("operator", sa.String(200), nullable=False, index=True),
        sa.Column("approval_id", sa.String(32)),
        sa.Column("state", sa.String(12), nullable=False, index=True),
        sa.Column("sent_at", sa.Float, nullable=False, index=True),
        sa.Column("updated_at", sa.Float, nullable=False, index=True),
        sa.Column("unknown_at", sa.Float),
        sa.Column("resolved_at", sa.Float),
        sa.CheckConstraint(_in("state", STATES), name="ck_writes_state"),
        sa.CheckConstraint(_in("kind", WRITE_KINDS), name="ck_writes_kind"))
    conn = op.get_bind()
    log = sa.table("audit_log", sa.column("id"), sa.column("at"), sa.column("operator"), sa.column("action"),
                   sa.column("imp_uid"), sa.column("outcome"), sa.column("request"), sa.column("correlation_id"),
                   sa.column("detail"))
    rows: dict[str, dict[str, Any]] = {}
    q = sa.select(log).where(log.c.action.in_(WRITE_KINDS)).order_by(log.c.id)
    for r in conn.execute(q).mappings():
        cid, outcome, at = r["correlation_id"], r["outcome"], float(r["at"])
        if outcome == "sent":
            amount = _json(r["request"]).get("amount")
            rows[cid] = {"correlation_id": cid, "action_key": cid, "kind": r["action"], "imp_uid": r["imp_uid"] or "",
                         "amount": amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
                         "operator": r["operator"], "approval_id": _json(r["detail"]).get("approval_id"),
                         "state": "sent", "sent_at": at, "updated_at": at, "unknown_at": None, "resolved_at": None}
            continue
        row = rows.get(cid)
        if row is None:                      # never claimed its send: not a write that left
            continue
        if outcome in ("succeeded", "failed", "unknown"):
            row["state"], row["updated_at"] = outcome, at
            if outcome == "unknown" and row["unknown_at"] is None:
                row["unknown_at"] = at
        elif outcome == "resolved":
            why = _json(r["detail"]).get("why")
            row["state"], row["updated_at"], row["resolved_at"] = RESOLVED_AS.get(str(why), row["state"]), at, at
    if rows:
        op.bulk_insert(writes, list(rows.values()))
    with op.batch_alter_table("audit_log") as batch:
        batch.create_check_constraint("ck_audit_log_outcome", _in("outcome", OUTCOMES))
