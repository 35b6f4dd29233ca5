"""One name per write: the in-flight lock of a virtual-account change is keyed ``update_vbank:<imp_uid>`` (the name
the audit log and the permission always used), no longer ``vbank:<imp_uid>``. A lock held across the upgrade
(an unknown outcome waiting to be resolved) keeps its row and state.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE inflight SET lock_key = 'update_vbank:' || substr(lock_key, 7) WHERE lock_key LIKE 'vbank:%'")
