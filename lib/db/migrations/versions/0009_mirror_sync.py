"""The payments mirror's sync state (lib/db/mirror_state.py): one row per API version — the lease that lets one
syncer at a time write the mirror (any instance, watcher or app), the status listings' cursors, when the last sync
and the last full re-read finished and the drift that re-read found.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mirror_sync",
        sa.Column("api", sa.String(8), primary_key=True),           # "v1" | "v2"
        sa.Column("holder", sa.String(200)),                        # host|pid|start of the syncer holding the lease
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("cursors", sa.Text, nullable=False),              # JSON: {status: newest status time seen, …}
        sa.Column("last_ok_at", sa.Float),                          # the last sync that finished
        sa.Column("last_full_at", sa.Float),                        # the last full re-read of the lookback window
        sa.Column("drift", sa.Integer),                             # rows that re-read found different
        sa.Column("drift_ids", sa.Text),                            # a few of them (JSON), for /admin
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", sa.Float, nullable=False))


def downgrade() -> None:
    op.drop_table("mirror_sync")
