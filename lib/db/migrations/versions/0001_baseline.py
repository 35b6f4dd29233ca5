"""Baseline: the app database as vbank-desk made it before migrations, adopted as it is.

A new database gets every table. A database made by an earlier vbank-desk (tables created on start, columns added
by three ad-hoc routines) keeps its rows: missing tables are created and the columns those routines added later are
added when absent. The tables are written out here, not imported from lib/db/schema.py, so this step stays what it
was when the schema moves on.

Revision ID: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _named(name: str, payload: str) -> tuple[Any, ...]:
    return (name, [sa.Column("name", sa.String(80), primary_key=True), sa.Column(payload, sa.Text, nullable=False),
                   sa.Column("operator", sa.String(200), nullable=False),
                   sa.Column("updated_at", sa.Float, nullable=False)])


def tables() -> list[Any]:
    """Fresh Column objects on every call: a Column belongs to the one table it was created in."""
    return [
        ("audit_log", [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", sa.Float, nullable=False, index=True),
            sa.Column("operator", sa.String(200), nullable=False, index=True),
            sa.Column("action", sa.String(40), nullable=False, index=True),
            sa.Column("imp_uid", sa.String(64), index=True),
            sa.Column("merchant_uid", sa.String(80)),
            sa.Column("outcome", sa.String(20), nullable=False, index=True),
            sa.Column("request", sa.Text),
            sa.Column("api_code", sa.Integer),
            sa.Column("api_message", sa.Text),
            sa.Column("correlation_id", sa.String(40), nullable=False, index=True),
            sa.Column("detail", sa.Text),
            sa.Column("prev_hash", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.Column("mac", sa.String(64))]),
        ("audit_head", [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("count", sa.Integer, nullable=False),
            sa.Column("last_id", sa.Integer, nullable=False),
            sa.Column("head_hash", sa.String(64), nullable=False),
            sa.Column("mac", sa.String(64)),
            sa.Column("at", sa.Float, nullable=False),
            sa.Column("signed_from", sa.Integer)]),
        ("inflight", [
            sa.Column("lock_key", sa.String(120), primary_key=True),
            sa.Column("correlation_id", sa.String(40), nullable=False),
            sa.Column("operator", sa.String(200), nullable=False),
            sa.Column("action", sa.String(40), nullable=False),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("since", sa.Float, nullable=False),
            sa.Column("note", sa.Text),
            sa.Column("owner", sa.String(200)),
            sa.Column("lease_until", sa.Float)]),
        ("approval_requests", [
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("pending_key", sa.String(120), unique=True),
            sa.Column("imp_uid", sa.String(64), index=True),
            sa.Column("amount", sa.Integer),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("requester", sa.String(200), nullable=False, index=True),
            sa.Column("note", sa.Text),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False),
            sa.Column("status", sa.String(20), nullable=False, index=True),
            sa.Column("decided_by", sa.String(200)),
            sa.Column("decided_at", sa.Float),
            sa.Column("decision_note", sa.Text),
            sa.Column("result", sa.Text),
            sa.Column("request_hash", sa.String(64)),
            sa.Column("sealed", sa.Text)]),
        _named("saved_views", "params"),
        _named("recon_presets", "mapping"),
        _named("recon_resolutions", "resolution"),
    ]

# Columns an earlier vbank-desk added after its first release (its _migrate routines): nullable, no default.
LATER_COLUMNS = {"audit_log": ("mac",), "audit_head": ("signed_from",), "inflight": ("owner", "lease_until"),
                 "approval_requests": ("request_hash", "sealed")}


def upgrade() -> None:
    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    for name, columns in tables():
        if name not in have:
            op.create_table(name, *columns)
            continue
        present = {c["name"] for c in sa.inspect(bind).get_columns(name)}
        for col in columns:
            if col.name not in present and col.name in LATER_COLUMNS.get(name, ()):
                op.add_column(name, sa.Column(col.name, col.type, nullable=True))
