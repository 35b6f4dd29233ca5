"""Opening a payment from any table in one click, in the same tab: the table gets an "open" column; a click on its
cell selects that cell, the selection (a row position) becomes the payment's imp_uid at once, and the page switches to
/payment?imp_uid=… in this tab — the session (and so the person's reveal choice, lib/ui/reveal.py) goes with it.
A LinkColumn needed two clicks (select, then follow) and opened a new tab with a new session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from lib.ui import keys

COLUMN = "open"


def with_open_column(df: pd.DataFrame, label: str) -> pd.DataFrame:
    """``df`` with the "open" cell of every row (``label``, e.g. "열기 →")."""
    return df.assign(**{COLUMN: label})


def chosen(table_key: str, ids: Sequence[str]) -> str | None:
    """The imp_uid whose "open" cell is selected in the table ``table_key`` (its rows are ``ids``, in order)."""
    ev = st.session_state.get(table_key)
    cells = getattr(getattr(ev, "selection", None), "cells", None) or []
    for cell in cells:
        row, col = cell[0], cell[1]
        if col == COLUMN and isinstance(row, int) and 0 <= row < len(ids):
            return str(ids[row])
    return None


def on_select(table_key: str, ids: Sequence[str], then: Callable[[], None] | None = None) -> Callable[[], None]:
    """The table's ``on_select`` callback: a click on an "open" cell marks that payment to open (``then``: the page's
    own callback for its other selections, e.g. ticked rows)."""
    ids = list(ids)

    def callback() -> None:
        target = chosen(table_key, ids)
        if target:
            st.session_state[keys.OPEN_PAYMENT] = target
        if then is not None:
            then()
    return callback


def column_config(label: str) -> Any:
    return st.column_config.TextColumn(label, width=80, pinned=True)


def follow() -> None:
    """After the table: switch to the payment chosen by a click, in this tab (call once per page, after the tables)."""
    target = st.session_state.pop(keys.OPEN_PAYMENT, None)
    if target:
        st.switch_page("app_pages/payment.py", query_params={"imp_uid": target})
