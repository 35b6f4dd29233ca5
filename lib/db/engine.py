"""The app database's engine and schema version, without any store: an engine with the pragmas the stores rely on
(``connect``), the Alembic ``upgrade`` under a lock, and the refusal of a database this code cannot read
(``DatabaseRefused``). ``lib/db/appdb.AppDb`` builds every store on it; a tool that needs one store alone (the
accounts command, lib/db/accounts.py) builds it on this."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from lib.domain.i18n import _

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_MIGRATION_LOCK = 740511          # pg_advisory_xact_lock key: one instance migrates, the others wait and see head


def connect(url: str) -> Engine:
    """An engine with the pragmas the stores rely on."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    engine = create_engine(url, **kw)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None          # SQLAlchemy's "begin" event below starts transactions
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")     # first: the journal-mode switch below may have to wait
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            # Serialise writers across processes (the audit chain cannot fork; two instances migrate one by one).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


class DatabaseRefused(Exception):
    """The app database is not one this code may read or migrate; the message is one sentence for a person (the
    revision found and what to do). Raised before anything is written."""


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions())


def check_version_table(conn: Connection) -> None:
    """Refuse (``DatabaseRefused``) a database made by a newer vbank-desk (a revision this code does not know) or
    with a damaged version table (several ``alembic_version`` rows, or none while vbank-desk's tables are there).
    A new database and one made before migrations (no version table at all) pass: the baseline adopts them."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        return
    revs = [str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    if len(revs) > 1:
        raise DatabaseRefused(_(
            "The app database's version table is damaged: it names {n} revisions ({revs}) where there must be one, "
            "so vbank-desk cannot tell which schema the data is in; restore the database from a backup, or have an "
            "administrator keep only the right row in alembic_version (nothing was changed).").format(
                n=len(revs), revs=", ".join(sorted(revs))))
    if not revs:
        if tables - {"alembic_version"}:
            raise DatabaseRefused(_(
                "The app database's version table is empty although the database holds vbank-desk's tables, so "
                "vbank-desk cannot tell which schema the data is in; restore the database from a backup, or have an "
                "administrator write the right revision into alembic_version (nothing was changed)."))
        return
    if revs[0] not in known_revisions():
        raise DatabaseRefused(_(
            "The app database is at revision {rev}, which this vbank-desk does not know (its newest is {head}): a "
            "newer vbank-desk has used it; start that newer version, or point AUDIT_DB_URL at a database (or "
            "backup) made for this one (nothing was changed).").format(rev=revs[0], head=head_revision()))


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision (a no-op when it is there); returns the revision. On SQLite a new
    file's switch to WAL can find another instance starting at the same moment and answer "database is locked"
    without waiting: that start is tried again (a few times, a moment apart) — the migration itself runs once."""
    for attempt in range(8):
        try:
            return _upgrade(engine)
        except OperationalError as e:
            if engine.dialect.name != "sqlite" or "locked" not in str(e) or attempt == 7:
                raise
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def _upgrade(engine: Engine) -> str:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        check_version_table(conn)
        if current_revision(conn) != head_revision():
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return head_revision()
