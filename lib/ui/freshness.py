"""How fresh a page's figures are, and the button that makes them fresh: "마지막 새로고침 … (12초 전 기준)" beside
새로고침, which syncs the payments mirror now (lib/ui/mirror.py) and reads every list again."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib.domain.i18n import _
from lib.ui import loaders, session


def line(fetched: datetime, key: str, *, extra: str = "") -> None:
    """The caption and its refresh button, on one line."""
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.caption(session.last_refreshed(fetched) + (" · " + extra if extra else ""))
    right.button(_("Refresh"), key=key, icon=":material/refresh:", on_click=loaders.refresh_now, width="stretch")
