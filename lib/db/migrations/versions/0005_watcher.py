"""The watcher (python -m watcher): every event posted to every webhook at most once (a sent-log several watchers and
restarts share), and its cursor and last run.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("watch_sent",
                    sa.Column("event_key", sa.String(120), primary_key=True),
                    sa.Column("target", sa.String(64), primary_key=True),
                    sa.Column("status", sa.String(12), nullable=False),
                    sa.Column("attempts", sa.Integer, nullable=False),
                    sa.Column("next_at", sa.Float, nullable=False),
                    sa.Column("payload", sa.Text, nullable=False),
                    sa.Column("last_error", sa.Text),
                    sa.Column("updated_at", sa.Float, nullable=False))
    op.create_table("watch_state",
                    sa.Column("key", sa.String(40), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False),
                    sa.Column("updated_at", sa.Float, nullable=False))
