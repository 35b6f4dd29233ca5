"""The account each payment was last refunded to, so a second partial refund of the same payment does not need the
bank, account and holder typed again (offered masked; kept 90 days).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("refund_accounts",
                    sa.Column("imp_uid", sa.String(64), primary_key=True),
                    sa.Column("refund_bank", sa.String(10), nullable=False),
                    sa.Column("refund_account", sa.String(40), nullable=False),
                    sa.Column("refund_holder", sa.String(60), nullable=False),
                    sa.Column("refund_tel", sa.String(20)),
                    sa.Column("operator", sa.String(200), nullable=False),
                    sa.Column("at", sa.Float, nullable=False))
