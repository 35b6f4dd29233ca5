"""The "show full numbers" switch: offered to roles that may see personal data, and every switch to shown is audited."""

from __future__ import annotations

import streamlit as st

from lib.domain.i18n import N_
from lib.domain.i18n import gettext as translate
from lib.domain.identity import Actor
from lib.ui import keys
from lib.ui.session import actor, audit

# ------------------------------------------------------------------ personal data
REVEAL_TEXT = {"no_permission": N_("Your role shows account and phone numbers masked only.")}


def reveal_toggle(label: str, *, key: str, where: str, imp_uid: str | None = None) -> bool:
    """The "show full numbers" switch: only for people whose role may see personal data, and every switch
    to "shown" is an audited action (who, which page and payment, when)."""
    a = actor()
    allowed = a is not None and a.can("reveal_personal")
    carried = where != "approval"           # an approval's sealed numbers are asked for one request at a time
    if allowed and carried and key not in st.session_state:
        st.session_state[key] = bool(st.session_state.get(keys.REVEAL_CHOICE))     # the choice made on another page
    on = st.toggle(label, key=key, disabled=not allowed, help=None if allowed else translate(REVEAL_TEXT["no_permission"]))
    if a is None or not allowed:
        return False
    if carried:
        st.session_state[keys.REVEAL_CHOICE] = on
    mark = keys.revealed_for(key)
    target = f"{where}:{imp_uid or ''}"
    if on and st.session_state.get(mark) != target:
        from lib.db.audit import new_correlation_id
        audit().record(operator=a.email, action="reveal_personal", outcome="revealed",
                       correlation_id=new_correlation_id(), imp_uid=imp_uid, detail={"page": where})
        st.session_state[mark] = target
    elif not on:
        st.session_state.pop(mark, None)
    return on


def record_search(who: Actor | None, kind: str, length: int, *, allowed: bool, narrowing: bool, revealed: bool) -> None:
    """A search that narrows in on personal data, or reaches hidden parts with the reveal permission, audited like a
    reveal (never the searched value itself: its kind and length)."""
    from lib.db.audit import new_correlation_id
    audit().record(operator=who.email if who else "(nobody)", action="reveal_personal",
                           outcome="refused" if not allowed else "revealed" if revealed else "requested",
                           correlation_id=new_correlation_id(),
                           detail={"page": "search", "search": kind, "length": length, "narrowing": narrowing,
                                   "hidden_parts": revealed})
