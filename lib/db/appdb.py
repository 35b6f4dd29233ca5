"""The app database: one engine (SQLite file by default, PostgreSQL shared by several instances), its schema at the
newest Alembic revision, and every store on it. Built once per app process (``lib/ui/session.py``); a test builds its
own with ``AppDb(url)``.

    AppDb(url) ─┬─ engine (pragmas: WAL, busy timeout, BEGIN IMMEDIATE on SQLite; pre-ping on PostgreSQL)
                ├─ upgrade(): Alembic ``upgrade head`` under a lock, so instances starting together migrate once;
                │    a database this code cannot read (a newer revision, a damaged version table) is refused with one
                │    sentence (``DatabaseRefused``) before anything is written
                ├─ audit        (lib/db/audit.py: the signed chain)
                ├─ locks        (lib/db/locks.py: in-flight writes)
                ├─ writes       (lib/db/writes.py: money writes as rows, moved with their audit records)
                ├─ approvals    (lib/db/approvals.py: four-eyes requests)
                ├─ views, presets, resolutions (lib/db/named.py: named settings the team shares)
                ├─ shared       (lib/db/shared.py: the data version, per-operator marks)
                ├─ refund_accounts (lib/db/refund_accounts.py: the account a payment was last refunded to)
                ├─ watch        (lib/db/watch_log.py: the watcher's sent-log, cursor and last run)
                ├─ accounts     (lib/db/accounts.py: built-in accounts, VBANK_IDENTITY_MODE=accounts)
                └─ mirror_sync  (lib/db/mirror_state.py: the payments mirror's lease, cursors and drift)

The tables are declared in lib/db/schema.py; every change to them is a migration in lib/db/migrations/versions.
"""

from __future__ import annotations

from lib.db.accounts import AccountStore
from lib.db.approvals import ApprovalStore
from lib.db.audit import AuditStore
from lib.db.engine import (
    MIGRATIONS,
    PG_MIGRATION_LOCK,
    DatabaseRefused,
    _config,
    check_version_table,
    connect,
    current_revision,
    head_revision,
    known_revisions,
    upgrade,
)
from lib.db.locks import LockStore
from lib.db.mirror_state import MirrorState
from lib.db.recon_store import PresetStore, ResolutionStore, SeenExceptions
from lib.db.refund_accounts import RefundAccounts
from lib.db.shared import SharedState
from lib.db.views import ViewStore
from lib.db.watch_log import WatchLog
from lib.db.writes import WriteStore

__all__ = ["MIGRATIONS", "PG_MIGRATION_LOCK", "AppDb", "DatabaseRefused", "_config", "check_version_table", "connect",
           "current_revision", "head_revision", "known_revisions", "upgrade"]


class AppDb:
    """One app database and its stores (see the module's docstring)."""

    def __init__(self, url: str, *, hmac_key: bytes | str | None = None):
        self.url = url
        self.engine = connect(url)
        upgrade(self.engine)
        self.locks = LockStore(self.engine)
        self.audit = AuditStore(self.engine, hmac_key=hmac_key)
        self.writes = WriteStore(self.engine)
        self.approvals = ApprovalStore(self.audit)
        self.views = ViewStore(self.audit)
        self.presets = PresetStore(self.engine)
        self.resolutions = ResolutionStore(self.engine)
        self.recon_seen = SeenExceptions(self.engine)
        self.shared = SharedState(self.engine)
        self.refund_accounts = RefundAccounts(self.engine)
        self.watch = WatchLog(self.engine)
        self.accounts = AccountStore(self.engine, self.audit)
        self.mirror_sync = MirrorState(self.engine)

    def schema_version(self) -> str | None:
        """The revision the database is at (shown on the admin page)."""
        with self.engine.connect() as conn:
            return current_revision(conn)

    def dispose(self) -> None:
        self.engine.dispose()


