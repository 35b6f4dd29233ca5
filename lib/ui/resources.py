"""What a process builds once and every session shares (``st.cache_resource``): the settings, the API client, the app
database. Kept apart from lib/ui/session.py (the run's person and Desk) so the modules under it — the language switch,
the sign-in screens — read the database without importing the session back."""

from __future__ import annotations

import streamlit as st

from lib.db.appdb import AppDb
from lib.domain.settings import Settings, get_settings
from lib.iamport.client import IamportClient


def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def _client(api_url: str) -> IamportClient:
    return IamportClient(get_settings())


def client() -> IamportClient:
    return _client(settings().api_url)


@st.cache_resource(show_spinner=False)
def _db(url: str, _key: bytes | None) -> AppDb:
    return AppDb(url, hmac_key=_key)


def db() -> AppDb:
    """The app database (lib/db/appdb.py): migrated once per process, shared by every session."""
    s = settings()
    return _db(s.audit_db_url, s.audit_hmac_key.get_secret_value().encode() if s.audit_hmac_key else None)
