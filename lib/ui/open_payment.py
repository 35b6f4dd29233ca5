"""Opening a payment from any table in one click, in the same tab: the table gets an "open" column; a click on its
cell selects that cell, the selection (a row position) becomes the payment's imp_uid at once, and the page switches to
/payment?imp_uid=… in this tab — the session (and so the person's reveal choice, lib/ui/reveal.py) goes with it.
A LinkColumn needed two clicks (select, then follow) and opened a new tab with a new session.

A merchant on both APIs (PortOne V1 and V2): a payment's version travels with its link (``/payment?imp_uid=…&api=v2``)
or is found (the payments mirror, else V1 then V2), and the page reads it through that version's Desk (``find``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.domain.text import lookup_problem, short
from lib.iamport.errors import ApiError, NotFound
from lib.reports.pending import API_WORDS
from lib.ui import keys, mirror, session
from lib.ui.inert import say

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


def on_select(table_key: str, ids: Sequence[str], then: Callable[[], None] | None = None,
              apis: Sequence[str] | None = None) -> Callable[[], None]:
    """The table's ``on_select`` callback: a click on an "open" cell marks that payment to open (``then``: the page's
    own callback for its other selections, e.g. ticked rows; ``apis``: each row's API version, carried by the link)."""
    ids = list(ids)
    version = dict(zip(ids, apis)) if apis is not None else {}

    def callback() -> None:
        target = chosen(table_key, ids)
        if target:
            st.session_state[keys.OPEN_PAYMENT] = (target, version.get(target))
        if then is not None:
            then()
    return callback


def column_config(label: str) -> Any:
    return st.column_config.TextColumn(label, width=80, pinned=True)


def follow() -> None:
    """After the table: switch to the payment chosen by a click, in this tab (call once per page, after the tables)."""
    target = st.session_state.pop(keys.OPEN_PAYMENT, None)
    if target:
        imp_uid, api = target if isinstance(target, tuple) else (target, None)
        st.switch_page("app_pages/payment.py", query_params=params(imp_uid, api))


# ------------------------------------------------------------------ API versions
V1, V2 = "v1", "v2"
K_API_OF = "open_payment:api_of"          # the mirror's answer per payment id, for this session


def both() -> bool:
    """The merchant is on both APIs (PortOne V2 configured beside V1): lists show each payment's version."""
    return len(mirror.apis()) > 1


def api_words(api: str | None) -> str:
    """A payment's API in the team's words, Korean first ("V1 (아임포트)", "V2 (포트원)")."""
    return _(API_WORDS.get(api or V1, API_WORDS[V1]))


def params(imp_uid: str, api: str | None = None) -> dict[str, str]:
    """A link's query to a payment: its id, and its version when it is V2 (a V1 link stays as it always was)."""
    return {"imp_uid": imp_uid, **({"api": V2} if api == V2 else {})}


def query_api() -> str | None:
    """The version a link named (``?api=v2``), when V2 is configured; else None (found by ``version_of``)."""
    v = (st.query_params.get("api") or "").strip().lower()
    return v if v in (V1, V2) and (v == V1 or both()) else None


def version_of(imp_uid: str) -> str | None:
    """The version the payments mirror knows this payment by (None: not there, or only V1 is configured; an
    ``imp_…`` id is V1's). Looked up once per session and id, not on every rerun of the page."""
    if not both() or not mirror.enabled() or imp_uid.startswith("imp_"):
        return None
    known = st.session_state.setdefault(K_API_OF, {})
    if imp_uid not in known:
        if len(known) >= 100:                # bounded: a session that looks up many ids asks the mirror again
            known.clear()
        known[imp_uid] = _mirror_version(imp_uid)
    return known[imp_uid]


def _mirror_version(imp_uid: str) -> str | None:
    try:
        m = mirror.mirror()
        if not m.exists():
            return None
        rows = m.read((), ids=[imp_uid], with_api=True).to_pylist()
    except Exception:  # noqa: BLE001 - the mirror is a hint only: the APIs are asked next
        return None
    return str(rows[0]["api"]) if rows else None


def read(q: str, api: str | None) -> tuple[Payment, str]:
    """The payment ``q`` (imp_uid / merchant_uid; V2: paymentId) and its version: through ``api`` when known, else
    V1 and, when V1 has no such payment and V2 is configured, V2."""
    if api == V2:
        return session.desk_for(V2).client.get_payment(q), V2
    try:
        return session.desk().payment(q), V1
    except NotFound:
        if api == V1 or not both():
            raise
        try:
            return session.desk_for(V2).client.get_payment(q), V2
        except NotFound:
            pass
        raise


def find(q: str, text: dict) -> tuple[Payment, str]:
    """``session.find_payment`` for either API: the payment and its version ("v1" | "v2"), or the page stops with
    one sentence in the page's words (``text``: bad_id, not_found, error)."""
    bad = lookup_problem(q)
    if bad:
        st.error(say(text["bad_id"], q=short(q, 60), msg=bad))
        st.stop()
    try:
        return read(q, query_api() or version_of(q))
    except ApiError as e:
        st.error(say(text["not_found"], q=short(q, 60), msg=e.message) if isinstance(e, NotFound)
                 else say(text["error"], err=e))
        st.stop()
