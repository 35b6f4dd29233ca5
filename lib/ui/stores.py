"""What the pages keep in the app database, reached through here only (a page never opens the database itself:
tests/test_layout.py): the team's named views and closed reconciliation exceptions, the shared marks (deposits seen),
the watcher's state, built-in accounts, the audit log and the schema's revision."""

from __future__ import annotations

from typing import Any

from lib.ui import session


def resolutions() -> Any:
    """Reconciliation exceptions the team closed (lib/db/recon_store.py)."""
    return session.db().resolutions


def views() -> Any:
    """The pending list's named views (lib/db/views.py)."""
    return session.db().views


def shared() -> Any:
    """Marks shared by every instance: what each person has seen (lib/db/shared.py)."""
    return session.db().shared


def watch() -> Any:
    """The watcher's state and sent counts (lib/db/watch_log.py)."""
    return session.db().watch


def accounts() -> Any:
    """Built-in accounts (lib/db/accounts.py)."""
    return session.db().accounts


def audit_log() -> Any:
    """The audit log (lib/db/audit.py)."""
    return session.audit()


def schema_version() -> str | None:
    return session.db().schema_version()
