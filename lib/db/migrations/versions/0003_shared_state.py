"""Shared state for the desk: a data version every write bumps (each app instance drops its cached lists when it
moves), and per-operator marks (when someone last looked at new deposits, their language).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("app_state",
                    sa.Column("key", sa.String(60), primary_key=True),
                    sa.Column("value", sa.Integer, nullable=False),
                    sa.Column("updated_at", sa.Float, nullable=False))
    op.create_table("operator_marks",
                    sa.Column("operator", sa.String(200), primary_key=True),
                    sa.Column("mark", sa.String(40), primary_key=True),
                    sa.Column("value", sa.String(200), nullable=False),
                    sa.Column("updated_at", sa.Float, nullable=False))
