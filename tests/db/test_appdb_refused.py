"""#30 item 7: an app database this code cannot read — made by a newer vbank-desk (a revision the code does not
know) or with a damaged version table (two ``alembic_version`` rows, or none while the tables are there) — is refused
at start with one sentence naming the revision and what to do, and nothing in it is changed. The app and the
watcher say that sentence; neither shows a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from lib.db.appdb import AppDb, DatabaseRefused, head_revision
from lib.domain.settings import ROOT


def made(tmp_path) -> tuple[str, object]:
    path = tmp_path / "app.sqlite3"
    db = AppDb(f"sqlite:///{path}")
    db.audit.record(operator="kim@example.com", action="refund", outcome="sent", correlation_id="c1")
    db.dispose()
    return f"sqlite:///{path}", path


def dump(path) -> list[str]:
    with sqlite3.connect(path) as con:
        return list(con.iterdump())


def damage(path, *sql: str) -> None:
    with sqlite3.connect(path) as con:
        for s in sql:
            con.execute(s)


def test_a_database_from_a_newer_version_is_refused_naming_the_revision(tmp_path):
    url, path = made(tmp_path)
    damage(path, "UPDATE alembic_version SET version_num = '0099'")
    before = dump(path)
    with pytest.raises(DatabaseRefused) as e:
        AppDb(url)
    msg = str(e.value)
    assert "0099" in msg and head_revision() in msg and "newer vbank-desk" in msg
    assert "\n" not in msg and "nothing was changed" in msg
    assert dump(path) == before


def test_two_version_rows_are_refused_naming_both(tmp_path):
    url, path = made(tmp_path)
    damage(path, "INSERT INTO alembic_version (version_num) VALUES ('0003')")
    before = dump(path)
    with pytest.raises(DatabaseRefused) as e:
        AppDb(url)
    assert f"(0003, {head_revision()})" in str(e.value) and "2 revisions" in str(e.value)
    assert dump(path) == before


def test_an_empty_version_table_beside_the_tables_is_refused(tmp_path):
    url, path = made(tmp_path)
    damage(path, "DELETE FROM alembic_version")
    before = dump(path)
    with pytest.raises(DatabaseRefused) as e:
        AppDb(url)
    assert "version table is empty" in str(e.value)
    assert dump(path) == before


def test_an_empty_version_table_alone_is_a_new_database(tmp_path):
    path = tmp_path / "empty.sqlite3"
    damage(path, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    assert AppDb(f"sqlite:///{path}").schema_version() == head_revision()


def test_the_watcher_says_the_sentence_without_a_traceback(tmp_path):
    url, path = made(tmp_path)
    damage(path, "INSERT INTO alembic_version (version_num) VALUES ('0003')")
    before = dump(path)
    env = dict(os.environ, AUDIT_DB_URL=url, VBANK_WEBHOOK_URL="http://127.0.0.1:9/hook", VBANK_LANG="en",
               VBANK_SECRETS_FILE=str(tmp_path / "none.toml"), IAMPORT_API_URL="http://127.0.0.1:9")
    r = subprocess.run([sys.executable, "-m", "watcher", "--once"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "version table is damaged" in r.stderr and "0003" in r.stderr
    assert dump(path) == before


def test_postgres_a_newer_revision_and_two_rows_are_refused(postgres):
    from sqlalchemy import text
    url = postgres.new_database()
    AppDb(url).dispose()
    db = AppDb(url)
    with db.engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(DatabaseRefused, match="0099"):
        AppDb(url)
    with db.engine.begin() as c:
        c.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
        c.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0002')"))
    with pytest.raises(DatabaseRefused, match="2 revisions"):
        AppDb(url)
    with db.engine.connect() as c:
        assert sorted(r[0] for r in c.execute(text("SELECT version_num FROM alembic_version"))) == \
            sorted(["0002", head_revision()])
    db.dispose()
