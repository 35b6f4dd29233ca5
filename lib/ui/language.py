"""The language of a run, set before any text of it is made, and carried into callbacks Streamlit runs later on other
threads. Which one, first that applies:

1. ``?lang=ko`` / ``?lang=en`` in the URL — a link or a reload keeps the language it was opened in;
2. the sidebar switch, used in this browser session (kept apart from the widget's own state);
3. in header / OIDC mode, what this person chose last time (the app database, per operator);
4. ``VBANK_LANG`` (Korean by default).

A choice that is not the default is written back into the URL, so a reload or a copied link keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from lib.domain import i18n
from lib.domain.identity import Actor
from lib.ui import keys

_T = TypeVar("_T")


# ------------------------------------------------------------------ language
LANG_KEY, LANG_CHOICE = keys.LANG_WIDGET, keys.LANG_CHOICE     # the switch (a widget) and the choice it keeps


def _from_url() -> str | None:
    v = (st.query_params.get("lang") or "").strip().lower()
    return v if v in i18n.LANGS else None


def apply_language() -> str:
    """The language of this run (see the module's docstring; the operator's remembered choice is applied by
    ``remember_for`` once identity is known)."""
    url = _from_url()
    if url and url != st.session_state.get(LANG_CHOICE):
        st.session_state[LANG_CHOICE] = url
        st.session_state[LANG_KEY] = url
    return i18n.set_lang(st.session_state.get(LANG_CHOICE))


def remember_for(who: Actor) -> str:
    """After identity: in header / OIDC mode, a person's earlier choice when this session has none yet; and the
    choice kept in the URL. Returns the run's language."""
    if st.session_state.get(LANG_CHOICE) is None and who.mode != "local":
        from lib.ui.resources import db
        saved = db().shared.mark(who.email, "lang")
        if saved in i18n.LANGS:
            st.session_state[LANG_CHOICE] = st.session_state[LANG_KEY] = saved
    chosen = i18n.set_lang(st.session_state.get(LANG_CHOICE))
    default = i18n.default_lang()
    if _from_url() != chosen and (chosen != default or _from_url()):
        st.query_params["lang"] = chosen
    st.session_state[keys.LANG_OWNER] = who.email if who.mode != "local" else None
    return chosen


def language_switch() -> None:
    """한국어 / English in the sidebar, under the navigation, for this browser session."""
    st.session_state.setdefault(LANG_KEY, i18n.lang())
    st.sidebar.segmented_control("언어 · Language", list(i18n.LANGS), format_func=lambda k: i18n.LANGS[k], key=LANG_KEY,
                                 label_visibility="collapsed", on_change=_keep_language)


def later(fn: Callable[[], _T]) -> Callable[[], _T]:
    """``fn`` for Streamlit to call later outside this run (a deferred download's data), in this run's language:
    the server calls it on another thread, where the person's language is not set."""
    import contextvars
    ctx = contextvars.copy_context()
    return lambda: ctx.copy().run(fn)


def _keep_language() -> None:
    chosen = st.session_state.get(LANG_KEY)
    if chosen is None:                                   # a click on the chosen one unselects it: keep it
        st.session_state[LANG_KEY] = chosen = i18n.lang()
    st.session_state[LANG_CHOICE] = chosen
    st.query_params["lang"] = chosen
    owner = st.session_state.get(keys.LANG_OWNER)
    if owner:                                            # header / OIDC mode: remembered for this person
        from lib.ui.resources import db
        db().shared.set_mark(owner, "lang", chosen)


# ------------------------------------------------------------------ entry guard
def mark_entry() -> None:
    """Called by app.py on every run, before st.navigation (and before any text: it sets the language)."""
    apply_language()


def entry_guard() -> None:
    """First line of every page: this run's language. Pages live in ``app_pages/``, which Streamlit does not route
    by itself (only a ``pages/`` folder is), so a deep link (``/update?imp_uid=…``) always goes through app.py —
    identity and navigation first — without touching Streamlit's private page manager."""
    apply_language()
