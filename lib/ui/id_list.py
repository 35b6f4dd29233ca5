"""imp_uids pasted one per line (the bulk pages): read, bounded and checked before anything is read from the API; the
page stops with its own sentence when they cannot be used."""

from __future__ import annotations

import streamlit as st

from lib.domain.text import lookup_problem, short
from lib.ui.inert import say


def imp_uids_or_stop(text: str, *, max_rows: int, too_many: str, none: str, bad: str,
                     v2_ids: bool = False) -> list[str]:
    """The distinct imp_uids of ``text`` in order. ``too_many`` ({n}), ``none``, ``bad`` ({n} line, {v} value): the
    page's sentences. ``v2_ids``: PortOne V2 payment ids (any id that can name a payment) are taken too."""
    lines = text.splitlines()
    if len(lines) > max_rows * 2 or len(text) > 100_000:
        st.error(too_many.format(n=max_rows))
        st.stop()
    ids = list(dict.fromkeys(x.strip() for x in lines if x.strip()))
    if not ids:
        st.info(none)
        st.stop()
    if len(ids) > max_rows:
        st.error(too_many.format(n=max_rows))
        st.stop()
    wrong = next(((n, x) for n, x in enumerate(ids, start=1)
                  if lookup_problem(x) or not (v2_ids or x.startswith("imp_"))), None)
    if wrong:
        st.error(say(bad, n=wrong[0], v=short(wrong[1], 40)))
        st.stop()
    return ids
