"""#30 item 7 in the app: a database from a newer vbank-desk is refused with one sentence, no traceback, no page."""

from __future__ import annotations

from lib.domain.settings import get_settings
from tests.db.test_appdb_refused import damage, dump, made


def test_the_app_says_the_sentence_and_stops(app, tmp_path, monkeypatch):
    (tmp_path / "db").mkdir()
    url, path = made(tmp_path / "db")
    damage(path, "UPDATE alembic_version SET version_num = '0099'")
    before = dump(path)
    monkeypatch.setenv("AUDIT_DB_URL", url)
    get_settings.cache_clear()
    at = app().run()
    assert not at.exception
    assert len(at.error) == 1
    assert "0099" in at.error[0].value and "newer vbank-desk" in at.error[0].value
    assert not at.dataframe and not at.button
    assert dump(path) == before
