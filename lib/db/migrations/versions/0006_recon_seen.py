"""Reconciliation exceptions as the page first showed them, so the watcher can tell the team about those still open
after some days (a closed one is in recon_resolutions).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("recon_seen",
                    sa.Column("key", sa.String(40), primary_key=True),
                    sa.Column("label", sa.String(300), nullable=False),
                    sa.Column("first_seen", sa.Float, nullable=False),
                    sa.Column("last_seen", sa.Float, nullable=False))
