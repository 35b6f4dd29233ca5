"""The reconciliation page's two files, handled alike: the uploaded file kept for the person until replaced or
removed (leaving the page loses nothing), its header row and sheet, the reading chosen by the data with its evidence
and the runner-up one click away, presets that keep the reading's meaning, and the columns a person may still set.

The reading itself is lib/reports/recon/understand.py; this module only draws it and keeps the person's choices."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from lib.domain.i18n import N_, _
from lib.domain.identity import Forbidden
from lib.domain.text import md
from lib.reports.recon.grid import Table
from lib.reports.recon.layouts import BANK_FIELDS
from lib.reports.recon.normalize import BANK_LABELS, FIELD_LABELS, FIELDS, ColumnMap
from lib.reports.recon.reading import Reading
from lib.ui import inert, keys, session


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    digest: str


def _kept_key(key: str) -> str:
    return f"recon:kept:{key}"


def _on_change(key: str) -> None:
    """The person changed the uploader (a new file, or the ✕): keep the new file, or forget the old one. Leaving the
    page does not call this, so the file stays."""
    up = st.session_state.get(key)
    if up is None:
        st.session_state.pop(_kept_key(key), None)
        return
    data = up.getvalue()
    st.session_state[_kept_key(key)] = Upload(up.name, data, hashlib.sha256(data).hexdigest())


def kept_upload(label: str, key: str) -> Upload | None:
    """The uploader, and the file this person uploaded last (kept in the session until replaced or removed)."""
    up = st.file_uploader(label, type=["csv", "xlsx", "xls", "txt"], key=key, on_change=_on_change, args=(key,))
    if up is not None and _kept_key(key) not in st.session_state:        # an upload the callback has not seen
        _on_change(key)
    kept: Upload | None = st.session_state.get(_kept_key(key))
    if kept is not None and up is None:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.info(inert.say(_("Using {name}, uploaded earlier in this session. Upload another file to replace it."),
                          name=f"“{kept.name}”"))
        if c2.button(_("Remove"), key=f"{key}_forget"):
            st.session_state.pop(_kept_key(key), None)
            st.rerun()
    return kept


def where_found(table: Table) -> str:
    """Which sheet and row the table was found at, and what was left out, in one line."""
    parts = []
    if table.sheet:
        parts.append(_("sheet “{sheet}”").format(sheet=table.sheet))
    parts.append(_("header on row {row}").format(row=table.header_row))
    left = {"blank": N_("{n} blank row(s) left out"), "total": N_("{n} total row(s) (합계/소계) left out"),
            "note": N_("{n} note row(s) left out"), "repeated_header": N_("{n} repeated header row(s) left out")}
    parts += [_(left[k]).format(n=len(v)) for k, v in table.dropped.items() if v and k in left]
    return " · ".join(parts)


def table_of(upload: Upload, key: str, read: Callable[..., Table]) -> Table:
    """The table, with the header row and the sheet a person may choose (the sheet picker shows when more than one
    sheet holds transactions). ``read(header_row, sheet)`` reads it (cached by the page's loaders)."""
    c1, c2 = st.columns([1, 2])
    header_at = c1.number_input(_("Header row (as Excel numbers rows)"), min_value=1, max_value=10_000, value=None,
                                step=1, key=f"{key}_header", placeholder=_("found by itself"),
                                help=_("The row that holds the column names. Leave it empty: vbank-desk finds it above "
                                       "the first rows that read as transactions."))
    sheet = st.session_state.get(f"{key}_sheet_{upload.digest[:12]}")
    table = read(header_at, sheet)
    if len(table.sheets) > 1 or (sheet and sheet != table.sheets[0]):
        c2.selectbox(_("Sheet"), table.sheets, key=f"{key}_sheet_{upload.digest[:12]}",
                     help=_("More than one sheet holds transactions; the one with the most is read first."))
        others = [x for x in table.sheets if x != table.sheet]
        if others:              # never a quiet half: the rows of the other sheets are not in this result
            st.warning(inert.say(_("This workbook has {n} sheets of transactions: only {sheet} is reconciled below. "
                                   "Choose {others} under “Sheet” to reconcile it too."), n=len(table.sheets),
                                 sheet=f"“{table.sheet}”", others=", ".join(f"“{x}”" for x in others)))
    st.caption(md(where_found(table)))
    return table


def overrides(key: str, digest: str) -> dict[str, str]:
    """The choices a person made among the readings of this file (kept by the radio buttons)."""
    prefix = f"{key}_read_{digest[:12]}_"
    return {k[len(prefix):]: v for k, v in st.session_state.items() if isinstance(k, str) and k.startswith(prefix)
            and isinstance(v, str)}


def show_reading(reading: Reading, key: str, digest: str) -> None:
    """Each decision about the file with its evidence; a decision with a runner-up is a radio, one click away."""
    for note in reading.notes:
        st.caption(md(note))
    for c in reading.choices:
        if len(c.options) < 2:
            continue
        # the reading taken and its two runners-up: any other column is one pick away under “Columns”
        shown_opts = [o for i, o in enumerate(c.options) if i < 3 or i == c.picked]
        labels: dict[str, str] = {o.key: o.label for o in shown_opts}
        options: list[str] = list(labels)

        def shown(k: str, lb: dict[str, str] = labels) -> str:
            return md(lb[k])
        st.radio(c.title, options, index=options.index(c.key), format_func=shown,
                 key=f"{key}_read_{digest[:12]}_{c.topic}", horizontal=True)
        if c.evidence:
            st.caption(md(c.evidence))


def _preset_kind(payload: dict) -> str:
    return str(payload.get("kind") or "pg")


def presets(kind: str) -> dict[str, dict]:
    return {n: m for n, m in session.db().presets.all().items() if _preset_kind(m) == kind}


def pick_preset(kind: str, key: str) -> dict | None:
    """A saved reading (its columns and their meaning) instead of the automatic one; None = read it automatically."""
    saved = presets(kind)
    if not saved:
        return None
    auto = _("(read it automatically)")
    choice = st.selectbox(_("Saved reading"), [auto, *saved], key=f"{key}_preset")
    return saved.get(choice) if choice != auto else None


def mapping_editor(kind: str, reading: Reading, columns: list[str], key: str, digest: str,
                   expanded: bool) -> tuple[ColumnMap | dict, bool]:
    """The columns as read, each one a person may set; (the mapping, whether a person changed it)."""
    none = _("(none)")
    options = [none, *columns]
    fields = FIELDS if kind == "pg" else tuple(f for f in BANK_FIELDS)
    labels = FIELD_LABELS if kind == "pg" else BANK_LABELS
    current = reading.mapping.as_dict() if isinstance(reading.mapping, ColumnMap) else dict(reading.mapping)
    picked: dict[str, str | None] = {}
    changed = False
    with st.expander(_("Columns"), expanded=expanded):
        grid = st.columns(4)
        for i, f in enumerate(fields):
            cur = current.get(f)
            # the reading's value is part of the key: a new reading (another file, another choice above) starts
            # the box from it again, a person's own pick stays while the reading stays
            v = grid[i % 4].selectbox(_(labels[f]), options, index=options.index(cur) if cur in options else 0,
                                      key=f"{key}_map_{f}_{digest[:12]}_{cur}")
            picked[f] = None if v == none else v
            changed |= picked[f] != cur
        can_save = session.operator().can("save_settings")
        p1, p2 = st.columns([3, 1], vertical_alignment="bottom")
        name = p1.text_input(_("Save this reading as"), key=f"{key}_preset_name", max_chars=60, disabled=not can_save,
                             help=None if can_save else _("Saving needs the operator role."))
        save = p2.button(_("Save"), key=f"{key}_save", disabled=not can_save)
    mapping: ColumnMap | dict
    if kind == "pg":
        mapping = ColumnMap.of({**current, **picked})
    else:
        mapping = {**current, **picked}
    if save and name.strip():
        payload = {**(mapping.as_dict() if isinstance(mapping, ColumnMap) else mapping), "kind": kind}
        try:
            saved = session.db().presets.save(name, payload, session.operator(), session.audit())
            st.session_state[keys.flash(key)] = ("ok", inert.say(_("Saved the reading as “{name}”."), name=saved))
        except (ValueError, Forbidden) as e:
            st.session_state[keys.flash(key)] = ("err", md(e))
        st.rerun()
    flash = st.session_state.pop(keys.flash(key), None)
    if flash:
        (st.success if flash[0] == "ok" else st.error)(flash[1])
    return mapping, changed
