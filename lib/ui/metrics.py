"""Figures in metrics that fit at 1280×800 whatever they are: amounts compact (lib/domain/fmt.krw_compact), the exact
amount on hover and in one caption under the row — never a "₩1,375,…" cut by the metric's width."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from lib.domain.fmt import krw, krw_compact
from lib.domain.i18n import _


def won(col: Any, label: str, amount: int | None, *, help: str | None = None) -> bool:
    """One amount metric; True when it is shown compact (its exact amount then belongs in ``exact_caption``)."""
    value = krw_compact(amount)
    col.metric(label, value, help=help or krw(amount))
    return amount is not None and value != krw(amount)


def exact_caption(items: Sequence[tuple[str, int | None, bool]]) -> None:
    """"Exact: Pending amount ₩1,375,000 · …" for the metrics of a row shown compact ((label, amount, compacted))."""
    parts = [f"{label} {krw(amount)}" for label, amount, compacted in items if compacted]
    if parts:
        st.caption(_("Exact amounts: {parts}").format(parts=" · ".join(parts)))


def row(cols: Sequence[Any], items: Sequence[tuple[str, int | None]]) -> None:
    """Amount metrics in ``cols``, then the exact amounts of those shown compact."""
    exact_caption([(label, amount, won(col, label, amount)) for col, (label, amount) in zip(cols, items)])
