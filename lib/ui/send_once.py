"""The UI half of "sent at most once", for every action a page sends (a write, an approval request, a decision).

One protocol, one key family (lib/ui/keys.send_*), per **action id** (``new_action()``: one per form filled, not per
click):

* ``run_once(aid, perform)``: ``perform`` runs at most once per action id in this session, whatever the clicks and
  reruns; the "started" flag is set and the result (or the expected refusal) stored with **no Streamlit call in
  between** — a new click stops a running script at its next Streamlit call.
* ``on_click(aid, perform)``: the same as a button's callback (runs before the next script run draws anything).
* ``confirm_and_send(...)``: the confirm / cancel buttons of an open ``st.dialog``; the click only arms the action,
  the dialog redraws with the button disabled and "Sending…", then sends once and closes.
* ``result(aid)``: what it returned or raised, for ``lib/ui/outcomes.show`` to display.

Other sessions, tabs, operators and app instances are kept out by the in-flight lock in lib (lib/db/locks.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from lib.ui import keys


def new_action() -> str:
    return uuid.uuid4().hex


def started(aid: str) -> bool:
    return bool(st.session_state.get(keys.send_started(aid)))


def result(aid: str | None) -> Any:
    return st.session_state.get(keys.send_result(aid)) if aid else None


def run_once(aid: str, perform: Callable[[], Any], expected_errors: tuple[type[BaseException], ...] = ()) -> bool:
    """Run ``perform`` unless this action already started; keep what it returned or raised (an expected error).
    False when it had already started (nothing run)."""
    state = st.session_state
    if state.get(keys.send_started(aid)):
        return False
    state[keys.send_started(aid)] = True
    try:
        res = perform()
    except expected_errors as e:            # shown to the operator as sentences
        res = e
    state[keys.send_result(aid)] = res
    return True


def on_click(aid: str, perform: Callable[[], Any], expected_errors: tuple[type[BaseException], ...] = (),
             then: Callable[[], None] | None = None) -> Callable[[], None]:
    """A button callback that sends ``perform`` once for this action (``then`` runs after, e.g. the next step)."""
    def callback() -> None:
        run_once(aid, perform, expected_errors)
        if then is not None:
            then()
    return callback


def _arm(aid: str) -> None:
    if not st.session_state.get(keys.send_started(aid)):
        st.session_state[keys.send_armed(aid)] = True


def confirm_and_send(aid: str, *, open_key: str, key: str, confirm_label: str, cancel_label: str,
                     sending_label: str, perform: Callable[[], Any],
                     expected_errors: tuple[type[BaseException], ...] = (), can_confirm: bool = True) -> None:
    """The confirm / cancel buttons of an open ``st.dialog`` (``open_key``: the session key that keeps it open) and
    the one send behind them. A full rerun then closes the dialog; the page shows ``result(aid)``."""
    if result(aid) is not None:
        st.session_state.pop(open_key, None)
        st.rerun()
    sending = bool(st.session_state.get(keys.send_armed(aid)))
    x, y = st.columns(2)
    x.button(sending_label if sending else confirm_label, type="primary", key=key, on_click=_arm, args=(aid,),
             disabled=sending or not can_confirm)
    if y.button(cancel_label, key=f"{key}_cancel", disabled=sending):
        st.session_state.pop(open_key, None)
        st.rerun()
    if sending:
        with st.spinner(sending_label):        # the last Streamlit call before the write
            run_once(aid, perform, expected_errors)
        st.session_state.pop(open_key, None)
        st.rerun()
