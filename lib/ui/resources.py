"""What a process builds once and every session shares (``st.cache_resource``): the settings, the API client, the app
database. Kept apart from lib/ui/session.py (the run's person and Desk) so the modules under it — the language switch,
the sign-in screens — read the database without importing the session back."""

from __future__ import annotations

import streamlit as st

from lib.db.appdb import AppDb
from lib.domain.settings import Settings, get_settings
from lib.iamport.client import IamportClient
from lib.iamport.v2.client import PortOneV2Client


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


@st.cache_resource(show_spinner=False)
def _client_v2(api_url: str, store_id: str | None) -> PortOneV2Client:
    return PortOneV2Client(get_settings())


def client_v2() -> PortOneV2Client | None:
    """The PortOne V2 client (lib/iamport/v2) when a V2 merchant is configured (PORTONE_V2_API_URL / _SECRET)."""
    s = settings()
    return _client_v2(s.v2_api_url, s.v2_store_id) if s.v2_enabled and s.v2_api_url else None


def client_for(api: str | None) -> IamportClient | PortOneV2Client:
    """The client of a payment's API version ("v2": the V2 client; anything else: V1)."""
    if api == "v2":
        c = client_v2()
        if c is None:
            raise RuntimeError("a V2 payment without a V2 merchant configured")
        return c
    return client()


def db() -> AppDb:
    """The app database (lib/db/appdb.py): migrated once per process, shared by every session."""
    s = settings()
    return _db(s.audit_db_url, s.audit_hmac_key.get_secret_value().encode() if s.audit_hmac_key else None)
