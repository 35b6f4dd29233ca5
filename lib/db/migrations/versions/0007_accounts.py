"""Built-in accounts (``VBANK_IDENTITY_MODE=accounts``): people with a password (argon2 hash), roles, a TOTP second
factor, and the sign-in failures the lockout counts.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("accounts",
                    sa.Column("email", sa.String(200), primary_key=True),        # lower case
                    sa.Column("roles", sa.String(200), nullable=False),          # comma-separated
                    sa.Column("password_hash", sa.Text, nullable=False),         # argon2id (never the password)
                    sa.Column("must_change", sa.Boolean, nullable=False),        # a one-time password was given
                    sa.Column("totp_secret", sa.String(64)),                     # set once enrolment is confirmed
                    sa.Column("totp_last_step", sa.Integer),                     # a code is used at most once
                    sa.Column("disabled", sa.Boolean, nullable=False),
                    sa.Column("epoch", sa.Integer, nullable=False),              # bumped: every session signs in again
                    sa.Column("created_at", sa.Float, nullable=False),
                    sa.Column("created_by", sa.String(200), nullable=False),
                    sa.Column("updated_at", sa.Float, nullable=False))
    op.create_table("sign_in_failures",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("email", sa.String(200), nullable=False, index=True),
                    sa.Column("at", sa.Float, nullable=False, index=True))
