"""Closing reconciliation exceptions: several at once with one memo and one owner (operator role, each one audited),
or reopening them; and the resolution of each as the tables and the month-end workbook show it."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from lib.db.recon_store import ResolutionStore
from lib.domain import identity
from lib.domain.clock import KST
from lib.domain.i18n import _
from lib.domain.names import recon_status
from lib.domain.text import md
from lib.ui import keys as ui_keys
from lib.ui import session


def resolution_text(r: dict | None) -> str:
    if not r:
        return ""
    return _("Resolved by {owner}: {memo}").format(owner=r.get("owner", ""), memo=r.get("memo", ""))


def resolution_columns(keys: pd.Series, closed: dict[str, dict]) -> pd.DataFrame:
    """What the month-end workbook says of each exception: open or resolved, the memo, the owner, when (KST)."""
    def when(r: dict | None) -> datetime | None:
        at = (r or {}).get("at")
        return datetime.fromtimestamp(float(at), KST).replace(tzinfo=None) if at else None
    rs = [closed.get(k) for k in keys]
    return pd.DataFrame({"resolution_state": [_("Resolved") if r else _("Not resolved") for r in rs],
                         "resolution_memo": [(r or {}).get("memo", "") for r in rs],
                         "resolution_owner": [(r or {}).get("owner", "") for r in rs],
                         "resolved_at": [when(r) for r in rs]}, index=keys.index)


def _label(r: dict, closed: bool) -> str:
    who = r.get("merchant_uid") or r.get("depositor") or r.get("sender") or ""
    day = r.get("date") or ""
    reasons = r.get("reasons")
    reasons = reasons if isinstance(reasons, str) else ""
    mark = "✓ " if closed else ""
    return " · ".join(str(x) for x in (f"{mark}{recon_status(r.get('status', ''))}", day, who, reasons) if x != "")


def close_exceptions(exc: pd.DataFrame, keys: pd.Series, closed: dict, store: ResolutionStore, key: str, title: str) -> None:
    """Pick exceptions (several at once), write one memo and an owner, and close them all; or reopen the picked
    ones that are closed. The memo is checked once for all (lib/db/recon_store.py): none is closed with a bad one."""
    if exc.empty:
        return
    with st.expander(title, expanded=False):
        labels = {k: _label(r, k in closed) for r, k in zip(exc.to_dict("records"), keys)}
        if st.session_state.get(f"{key}_seen") != frozenset(labels):        # kept for the watcher (still open?)
            session.db().recon_seen.remember({k: v.removeprefix("✓ ") for k, v in labels.items()})
            st.session_state[f"{key}_seen"] = frozenset(labels)
        picks = st.multiselect(_("Exceptions"), list(labels), format_func=lambda k: md(labels[k]), key=f"{key}_picks",
                               placeholder=_("Choose one or more"))
        can = session.operator().can("save_settings")
        memo = st.text_input(_("Memo (how it was closed)"), key=f"{key}_memo", max_chars=500, disabled=not can)
        owner = st.text_input(_("Owner"), key=f"{key}_owner", max_chars=100, disabled=not can,
                              placeholder=session.operator().email)
        to_close = [k for k in picks if k not in closed]
        to_open = [k for k in picks if k in closed]
        b1, b2 = st.columns(2)
        if b1.button(_("Mark {n} as resolved").format(n=len(to_close)), key=f"{key}_do", disabled=not can or not to_close):
            at = {k: i for i, k in enumerate(keys)}
            try:
                for k in to_close:
                    row = exc.iloc[at[k]]
                    store.resolve(k, memo=memo, owner=owner, summary={"status": str(row.get("status", "")),
                                                                     "label": labels[k][:200]},
                                  actor=session.operator(), audit=session.audit())
                st.session_state[ui_keys.flash(key)] = ("ok", _("Marked {n} as resolved; they show as resolved in every "
                                                                "later run.").format(n=len(to_close)))
                st.session_state.pop(f"{key}_picks", None)
            except (ValueError, identity.Forbidden) as e:
                st.session_state[ui_keys.flash(key)] = ("err", md(e))
            st.rerun()
        if b2.button(_("Reopen {n}").format(n=len(to_open)), key=f"{key}_reopen", disabled=not can or not to_open):
            for k in to_open:
                store.reopen(k, actor=session.operator(), audit=session.audit())
            st.session_state[ui_keys.flash(key)] = ("ok", _("Reopened {n}.").format(n=len(to_open)))
            st.session_state.pop(f"{key}_picks", None)
            st.rerun()
        flash = st.session_state.pop(ui_keys.flash(key), None)
        if flash:
            (st.success if flash[0] == "ok" else st.error)(flash[1])
