"""AppTest fixtures: the real app against the shared sandbox, with a per-test audit database."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.domain.settings import ROOT, get_settings


@pytest.fixture
def app_env(fresh, tmp_path, monkeypatch):
    monkeypatch.setenv("IAMPORT_API_URL", fresh.url)
    monkeypatch.setenv("AUDIT_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    monkeypatch.setenv("VBANK_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("VBANK_OPERATOR", "tester@example.com")
    # The payments mirror is on, one per test (its first sync reads the fresh sandbox); no background syncer thread:
    # a page syncs it when it is older than two intervals, or on its refresh button.
    monkeypatch.setenv("VBANK_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("VBANK_SYNC_IN_APP", "0")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield fresh
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app(app_env):
    def make(page: str | None = None, **query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        if page:
            at.switch_page(page)
        return at
    return make


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise KeyError(f"no metric {label!r}: {[m.label for m in at.metric]}")


@pytest.fixture
def set_rules(monkeypatch, tmp_path):
    """Write business rules to a vbank-desk.toml for this test (values as TOML literals)."""
    def apply(text: str) -> None:
        f = tmp_path / "vbank-desk.toml"
        f.write_text(text)
        monkeypatch.setenv("VBANK_RULES_FILE", str(f))
        get_settings.cache_clear()
        st.cache_resource.clear()
    return apply
