"""(split from lib.ui)"""

from __future__ import annotations

import streamlit as st


# ------------------------------------------------------------------ write dialogs
def _arm(aid: str) -> None:
    if not st.session_state.get(f"started:{aid}"):
        st.session_state[f"sending:{aid}"] = True


def confirm_and_send(aid: str, *, open_key: str, key: str, confirm_label: str, cancel_label: str,
                     sending_label: str, perform, expected_errors: tuple = (), can_confirm: bool = True) -> None:
    """The confirm / cancel buttons of an open ``st.dialog`` and the one send behind them.

    * The click only arms the action (a callback); the dialog (a fragment) then redraws with the
      button disabled and "Sending…" before anything is sent.
    * ``perform`` runs at most once per action id in this session, whatever the clicks and reruns:
      the "started" flag is set and the result stored with no Streamlit call in between (a new click
      stops a running script at its next Streamlit call).
    * A full rerun then closes the dialog; the page shows ``st.session_state[f"result:{aid}"]``.
    Other sessions, tabs, operators and app instances are kept out by the in-flight lock in lib.
    """
    if st.session_state.get(f"result:{aid}") is not None:
        st.session_state.pop(open_key, None)
        st.rerun()
    sending = bool(st.session_state.get(f"sending:{aid}"))
    x, y = st.columns(2)
    x.button(sending_label if sending else confirm_label, type="primary", key=key, on_click=_arm, args=(aid,),
             disabled=sending or not can_confirm)
    if y.button(cancel_label, key=f"{key}_cancel", disabled=sending):
        st.session_state.pop(open_key, None)
        st.rerun()
    if sending:
        with st.spinner(sending_label):        # the last Streamlit call before the write
            if not st.session_state.get(f"started:{aid}"):
                st.session_state[f"started:{aid}"] = True
                try:
                    res = perform()
                except expected_errors as e:  # shown to the operator as sentences
                    res = e
                st.session_state[f"result:{aid}"] = res
        st.session_state.pop(open_key, None)
        st.rerun()
