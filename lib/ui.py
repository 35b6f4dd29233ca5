"""Shared Streamlit plumbing: cached client and stores, cached data, identity, write guards.

The only module in lib (with lib/ui_*) that imports streamlit.
"""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import streamlit as st

from . import pending, services
from .audit import AuditStore
from .cache import TTLCache
from .client import ApiError, IamportClient  # noqa: F401  (pages catch ApiError via ui)
from .fmt import kst, now_kst
from .models import KST
from .settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def _client(api_url: str) -> IamportClient:
    return IamportClient(get_settings())


def client() -> IamportClient:
    return _client(settings().api_url)


@st.cache_resource(show_spinner=False)
def _audit(url: str) -> AuditStore:
    return AuditStore(url)


def audit() -> AuditStore:
    return _audit(settings().audit_db_url)


def operator() -> str:
    """The acting operator (local mode: one named operator from configuration)."""
    return settings().operator


def identity_banner() -> None:
    s = settings()
    st.sidebar.caption(f"Signed in as **{operator()}** · local mode (single operator from configuration)")
    if s.is_sandbox:
        st.sidebar.caption(f"Connected to the **sandbox** at `{s.api_url}` — no real money moves.")
    else:
        st.sidebar.caption(f"Connected to the **live I'mport API** at `{s.api_url}`.")


# ------------------------------------------------------------------ data cache
@st.cache_resource(show_spinner=False)
def _shared_cache() -> TTLCache:
    """One cache for every session: pending accounts are the merchant's, not per-user data."""
    return TTLCache(ttl=get_settings().cache_ttl)


def load_pending(days: int) -> tuple[pd.DataFrame, datetime]:
    bar = st.empty()

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Loading pending virtual accounts… page {done} of {total}")

    def load() -> pd.DataFrame:
        t_to = int(time.time())
        rows = client().list_pending_vbanks_raw(t_to - days * 86400, t_to, progress=progress)
        return pending.build_frame(rows, now_kst())

    df, fetched = _shared_cache().get_or_load(("pending", settings().api_url, days), load)
    bar.empty()
    return pending.with_clock(df, now_kst()), datetime.fromtimestamp(fetched, KST)


def clear_data_caches() -> None:
    _shared_cache().clear()


if clear_data_caches not in services.WRITE_LISTENERS:
    services.WRITE_LISTENERS.append(clear_data_caches)


# ------------------------------------------------------------------ helpers
def last_refreshed(fetched: datetime) -> str:
    return f"Last refreshed {kst(fetched, seconds=True)}"


def query_imp_uid() -> str:
    return (st.query_params.get("imp_uid") or "").strip()
