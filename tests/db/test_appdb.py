"""lib/db/appdb.py: one app database, its schema at the newest Alembic revision, every store on it."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import inspect

from lib.db.appdb import AppDb, head_revision
from lib.db.schema import metadata


def _columns(engine) -> dict[str, set[str]]:
    insp = inspect(engine)
    return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names() if t != "alembic_version"}


def test_a_new_database_is_migrated_to_exactly_the_declared_schema(tmp_path):
    db = AppDb(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert db.schema_version() == head_revision() == "0010"
    assert _columns(db.engine) == {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    assert not hasattr(db.audit, "db") and db.approvals.audit is db.audit   # one owner; the log knows no database


# The app database as vbank-desk 0.x left it: tables made on start, none of the later columns, no alembic_version,
# and an unresolved virtual-account change locked under its old key.
OLD = """
CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at FLOAT NOT NULL, operator VARCHAR(200) NOT NULL,
  action VARCHAR(40) NOT NULL, imp_uid VARCHAR(64), merchant_uid VARCHAR(80), outcome VARCHAR(20) NOT NULL,
  request TEXT, api_code INTEGER, api_message TEXT, correlation_id VARCHAR(40) NOT NULL, detail TEXT,
  prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY, count INTEGER NOT NULL, last_id INTEGER NOT NULL,
  head_hash VARCHAR(64) NOT NULL, mac VARCHAR(64), at FLOAT NOT NULL);
CREATE TABLE inflight (lock_key VARCHAR(120) PRIMARY KEY, correlation_id VARCHAR(40) NOT NULL,
  operator VARCHAR(200) NOT NULL, action VARCHAR(40) NOT NULL, state VARCHAR(20) NOT NULL, since FLOAT NOT NULL,
  note TEXT);
INSERT INTO inflight VALUES ('vbank:imp_old', 'c0ffee', 'kim@example.com', 'update_vbank', 'unknown', 1700000000,
  'no reply');
INSERT INTO inflight VALUES ('refund:imp_old', 'c0ffe2', 'kim@example.com', 'refund', 'unknown', 1700000000, 'x');
"""


def test_an_earlier_database_is_adopted_keeping_its_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(OLD)
    con.close()
    db = AppDb(f"sqlite:///{path}")
    assert db.schema_version() == head_revision()
    cols = _columns(db.engine)
    assert {"mac"} <= cols["audit_log"] and {"signed_from"} <= cols["audit_head"]
    assert {"owner", "lease_until"} <= cols["inflight"] and "approval_requests" in cols
    assert {lk.lock_key for lk in db.locks.all()} == {"update_vbank:imp_old", "refund:imp_old"}
    held = db.locks.get("update_vbank:imp_old")
    assert held.state == "unknown" and held.correlation_id == "c0ffee" and held.note == "no reply"
    AppDb(f"sqlite:///{path}")                                   # a second start: nothing left to do
    assert db.locks.get("update_vbank:imp_old").state == "unknown"


def test_instances_starting_together_migrate_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'together.sqlite3'}"
    out, errors = [], []

    def start():
        try:
            out.append(AppDb(url).schema_version())
        except Exception as e:          # pragma: no cover - the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and out == [head_revision()] * 4
    with sqlite3.connect(tmp_path / "together.sqlite3") as con:
        assert con.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
