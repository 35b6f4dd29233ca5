"""PortOne's webhooks as they arrive (lib/db/webhook_receipts.py): one row per webhook the desk accepted — V2 verified
by its signature, V1 confirmed by re-reading the payment —, with the payment's status as re-read. A V2 webhook's
``webhook-id`` is unique: the same message delivered again is a duplicate, not a second event. "Paid in the API but
no webhook arrived" is read from it (lib/services/webhooks.py).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("api", sa.String(4), nullable=False),                 # "v1" | "v2"
        sa.Column("webhook_id", sa.String(200)),                        # V2's webhook-id (V1 has none)
        sa.Column("imp_uid", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(60), nullable=False),               # Transaction.Paid … (V1: the status it named)
        sa.Column("status", sa.String(20)),                             # the payment's status as re-read
        sa.Column("received_at", sa.Float, nullable=False, index=True),
        sa.Column("detail", sa.Text),
        sa.UniqueConstraint("api", "webhook_id", name="uq_webhook_receipts_id"),
        sa.CheckConstraint("api IN ('v1', 'v2')", name="ck_webhook_receipts_api"))


def downgrade() -> None:
    op.drop_table("webhook_receipts")
