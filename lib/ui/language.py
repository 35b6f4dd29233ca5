"""The language of a run: the sidebar switch (kept apart from the widget's own state), ``VBANK_LANG`` otherwise;
set before any text of the run is made, and carried into callbacks Streamlit runs later on other threads."""

from __future__ import annotations

import streamlit as st
from lib.ui import keys
from lib.domain import i18n


# ------------------------------------------------------------------ language
LANG_KEY, LANG_CHOICE = keys.LANG_WIDGET, keys.LANG_CHOICE     # the switch (a widget) and the choice it keeps


def apply_language() -> str:
    """The language of this run: the sidebar switch once used, else ``VBANK_LANG`` (Korean by default). Set
    before any text of the run is made. The choice is kept apart from the widget's own state, which Streamlit
    drops on a run that does not draw the widget."""
    return i18n.set_lang(st.session_state.get(LANG_CHOICE))


def language_switch() -> None:
    """한국어 / English in the sidebar, under the navigation, for this browser session."""
    st.session_state.setdefault(LANG_KEY, i18n.lang())
    st.sidebar.segmented_control("언어 · Language", list(i18n.LANGS), format_func=lambda k: i18n.LANGS[k], key=LANG_KEY,
                                 label_visibility="collapsed", on_change=_keep_language)


def later(fn):
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


# ------------------------------------------------------------------ entry guard
def mark_entry() -> None:
    """Called by app.py on every run, before st.navigation (and before any text: it sets the language)."""
    apply_language()


def entry_guard() -> None:
    """First line of every page: this run's language. Pages live in ``app_pages/``, which Streamlit does not route
    by itself (only a ``pages/`` folder is), so a deep link (``/update?imp_uid=…``) always goes through app.py —
    identity and navigation first — without touching Streamlit's private page manager."""
    apply_language()
