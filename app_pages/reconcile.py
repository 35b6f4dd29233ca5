"""Reconciliation: the expected settlement per day and PG; a PG settlement file matched as PortOne's 거래대사 does
(일치 / 불일치 with every reason / 대사불능); and the payouts per settlement day matched against a bank statement.

The page is one month-end walk (period → file → reading → result → exceptions → statement → payouts); how a file is
read and shown lives in lib/ui/recon_files.py, recon_view.py and recon_close.py, the rest in lib/reports/recon.
"""

from datetime import timedelta

import streamlit as st

from lib.domain.clock import now_kst
from lib.domain.fmt import krw, number
from lib.domain.i18n import _
from lib.domain.names import pg_short, recon_status
from lib.domain.text import md
from lib.iamport.errors import ApiError
from lib.reports import ahead, pending
from lib.reports.recon import expected, match, normalize, statement
from lib.reports.recon import grid as recon_grid
from lib.reports.recon import payouts as recon_payouts
from lib.reports.recon import reading as reading_mod
from lib.ui import ahead as ahead_data
from lib.ui import inert, language, loaders, recon_close, recon_files, recon_view, session, stores
from lib.ui.recon_view import LINK, first_columns, for_export, month_end_book, named, payment_links, with_resolution

language.entry_guard()
_tx = recon_view.texts()                        # this run's language
T, COLS, COLUMN_CONFIG = _tx.T, _tx.COLS, _tx.COLUMN_CONFIG
st.title(T["title"])
st.caption(T["intro"])
s = session.settings()

def read_or_stop(up: recon_files.Upload, header_row: int | None = None, sheet: str | None = None):
    """The table in an uploaded file, or the one sentence saying why it cannot be read (and the page stops)."""
    try:
        with st.spinner(T["reading"]):
            return loaders.read_upload(up.digest, up.name, header_row, up.data, sheet)
    except recon_grid.ReconFileError as e:
        st.error(inert.say(T["file_error"], err=e))
        st.stop()


today = now_kst().date()
c = st.columns([1, 1, 2])
d_from = c[0].date_input(T["from"], value=today - timedelta(days=7), key="rc_from", max_value=today)
d_to = c[1].date_input(T["to"], value=today, key="rc_to", max_value=today)
if d_from > d_to:
    st.error(_("“From” is after “Until”."))
    st.stop()

# ------------------------------------------------------------------ the settlement file, read first: it sets the range
st.subheader(T["file_title"])
up = recon_files.kept_upload(T["upload"], "rc_file")
st.caption(T["upload_hint"])
rows = raw = None
digest: str | None = None
mapping: tuple | None = None
file_stopped = False
if up is not None:
    digest = up.digest
    table = recon_files.table_of(up, "rc", lambda header_at, sheet: read_or_stop(up, header_at, sheet))
    raw = table.df
    span = loaders.file_span(digest, st.session_state.get("rc_header"), table.sheet, raw) or (d_from, d_to)
    try:
        c_payments, c_fetched = loaders.load_recon_payments(*span)
    except ApiError as e:
        st.error(inert.say(T["load_error"], err=e))
        st.stop()
    c_events = loaders.expected_events(None, None, span[0], span[1], (), c_fetched.timestamp(),
                                       s.rules.model_dump_json(), c_payments, expected.table([]))
    picks = recon_files.overrides("rc", digest)
    reading = loaders.pg_reading(digest, st.session_state.get("rc_header"), table.sheet,
                                 tuple(sorted(picks.items())), c_fetched.timestamp(), s.rules.model_dump_json(), raw,
                                 c_events)
    preset = recon_files.pick_preset("pg", "rc")
    if preset is None:
        recon_files.show_reading(reading, "rc", digest)
    else:
        reading = loaders.pg_reading_checked(digest, st.session_state.get("rc_header"), table.sheet,
                                             tuple(sorted(normalize.ColumnMap.of(preset).as_dict().items())),
                                             c_fetched.timestamp(), raw, c_events)
    cmap, by_hand = recon_files.mapping_editor("pg", reading, list(raw.columns), "rc", digest,
                                               expanded=reading.stop is not None)
    assert isinstance(cmap, normalize.ColumnMap)
    if by_hand:
        reading = loaders.pg_reading_checked(digest, st.session_state.get("rc_header"), table.sheet,
                                             tuple(sorted(cmap.as_dict().items())), c_fetched.timestamp(), raw,
                                             c_events)
    if reading.stop:
        st.error(md(reading.stop))
        file_stopped = True
    else:
        if reading.checked:
            st.success(T["explained"].format(n=number(reading.explained), rows=number(reading.checked)))
        mapping = tuple(sorted(cmap.as_dict().items(), key=lambda kv: kv[0]))
        try:
            with st.spinner(T["reading"]):
                rows = loaders.normalized(digest, mapping, raw)
        except recon_grid.ReconFileError as e:
            st.error(inert.say(T["file_error"], err=e))
            file_stopped = True
        else:
            f_from, f_to = normalize.file_range(rows)
            if not st.checkbox(T["range_own"], key="rc_own_range"):
                d_from, d_to = f_from, f_to
                st.info(T["range_file"].format(a=f_from, b=f_to))

try:
    payments, fetched = loaders.load_recon_payments(d_from, d_to)
except ApiError as e:
    st.error(inert.say(T["load_error"], err=e))
    st.stop()
all_pgs = loaders.recon_pgs(d_from, d_to, fetched.timestamp(), payments)
pgs = c[2].multiselect(T["pgs"], all_pgs, key="rc_pgs", format_func=pg_short, placeholder=_("All"))
scope = list(pgs) or (normalize.file_pgs(rows) if rows is not None else [])
extra = expected.table([])

# ------------------------------------------------------------------ matching the file
if rows is not None:
    if not pgs and scope:
        st.caption(inert.say(T["scoped"], pgs=", ".join(sorted({pg_short(p) for p in scope if p in all_pgs}) or scope)))
    if rows.attrs.get("other_methods"):
        st.caption(T["other_methods"].format(n=rows.attrs["other_methods"]))
    with st.spinner(T["reading"]):
        result, extra, not_looked_up = loaders.reconciled(digest, mapping, d_from, d_to, tuple(scope),
                                                     fetched.timestamp(), s.rules.model_dump_json(), rows, payments)
    if loaders.recheck_exceptions(result):        # exceptions re-read live first: a payment changed since the sync
        st.rerun()                                 # is corrected in the mirror and everything is matched again
    if extra:
        st.caption(T["looked_up"].format(n=len(extra)))
    if not_looked_up:
        st.warning(T["not_looked_up"].format(n=not_looked_up))
    st.markdown(f"**{T['results']}**")
    summary = result.summary()
    g = st.columns(4)
    for i, (_i, r) in enumerate(summary.iterrows()):
        g[i].metric(md(recon_status(r["group"])), number(r["rows"]), help=krw(r["amount"]))
    resolutions = stores.resolutions()
    cap = s.table_rows            # what is shown and can be closed here; the files below hold every exception
    exc = match.MatchResult(result.matched_head(0), result.mismatched.head(cap), result.file_only.head(cap),
                            result.import_only.head(cap)).exceptions()
    exc_keys = match.exception_keys(exc, digest or "")
    closed = resolutions.resolved(list(exc_keys))
    dash = result.mismatch_dashboard()
    tabs = st.tabs(T["groups"])                      # what needs work first: 불일치, 대사불능, then 일치
    for tab, df, n, key in zip(tabs, (result.mismatched, result.file_only, result.import_only,
                                      result.matched_head(cap)),
                               (len(result.mismatched), len(result.file_only), len(result.import_only),
                                result.matched_count()),
                               ("rc_mismatched", "rc_file_only", "rc_import_only", "rc_matched")):
        with tab:                  # a million matched rows are not read on a screen: the first ones, and the totals
            if n > cap:
                st.caption(T["first_rows"].format(shown=number(cap), n=number(n)))
                df = df.head(cap)
            view = with_resolution(df, closed, digest or "")
            st.dataframe(named(payment_links(view)), hide_index=True, width="stretch", key=key,
                         column_config={**COLUMN_CONFIG, "imp_uid": LINK}, column_order=first_columns(view))
    if not dash.empty:             # below the tables, full width: beside them it cut their columns at 1280
        with st.expander(T["dashboard"]):
            st.dataframe(named(dash), hide_index=True, key="rc_dash", column_config=COLUMN_CONFIG)
    recon_close.close_exceptions(exc, exc_keys, closed, resolutions, "rc_res", T["close_title"])
    x1, x2 = st.columns(2)
    x1.download_button(T["exceptions"], data=language.later(lambda: pending.to_csv_bytes(for_export(result.exceptions()))),
                       file_name=f"recon-exceptions-{d_from}-{d_to}.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", key="rc_exc")
    x2.download_button(T["exceptions_xlsx"], data=language.later(lambda: month_end_book(result, None, digest or "")),
                       file_name=f"recon-exceptions-{d_from}-{d_to}.xlsx", on_click="ignore",
                       icon=":material/download:", key="rc_exc_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# ------------------------------------------------------------------ expected settlement
ev = loaders.expected_events(digest, mapping, d_from, d_to, tuple(scope), fetched.timestamp(), s.rules.model_dump_json(),
                             payments, extra)             # with the older payments the file named
exp = expected.expected_settlement(ev)
recon_view.show_expected(exp, fetched, d_from, d_to)

# ------------------------------------------------------------------ payouts and the bank statement
st.subheader(T["payout_title"])
st.caption(T["payout_intro"].format(n=s.rules.settlement_days_default))
payouts = recon_payouts.expected_payouts(exp, s.rules)
bank = recon_files.kept_upload(T["statement"], "rc_bank")
if bank is None:
    st.dataframe(named(payouts), hide_index=True, width="stretch", key="rc_payouts",
                 column_config=COLUMN_CONFIG)
    st.stop()
btable = recon_files.table_of(bank, "rcb", lambda header_at, sheet: read_or_stop(bank, header_at, sheet))
braw = btable.df
bpicks = recon_files.overrides("rcb", bank.digest)
breading = loaders.bank_reading(bank.digest, st.session_state.get("rcb_header"), btable.sheet,
                                tuple(sorted(bpicks.items())), (str(d_from), str(d_to), tuple(scope), fetched.timestamp()),
                                s.rules.model_dump_json(), braw, payouts)
bpreset = recon_files.pick_preset("bank", "rcb")
if bpreset is None:
    recon_files.show_reading(breading, "rcb", bank.digest)
else:
    breading = statement.check_bank(reading_mod.Reading("bank", dict(bpreset)), braw, payouts, s.rules)
bmap, bhand = recon_files.mapping_editor("bank", breading, list(braw.columns), "rcb", bank.digest,
                                         expanded=breading.stop is not None)
assert isinstance(bmap, dict)
if bhand:
    breading = statement.check_bank(reading_mod.Reading("bank", bmap), braw, payouts, s.rules)
if breading.stop:
    st.error(md(breading.stop))
    st.stop()
if breading.checked:
    st.success(T["payouts_explained"].format(n=number(breading.explained), rows=number(breading.checked)))
bmap = {k: v for k, v in bmap.items() if k != "kind"}
bmap["memo_columns"] = tuple(bmap.get("memo_columns") or ())
try:
    statement = loaders.statement_rows(bank.digest, tuple(sorted(bmap.items())), braw)
except recon_grid.ReconFileError as e:
    st.error(inert.say(T["file_error"], err=e))
    st.stop()
kept = f"rc_kept_{bank.digest[:16]}"            # its PG deposits per day, for 입금 예정 and the watcher's late payouts
if len(statement) and kept not in st.session_state and session.operator().can("save_settings"):
    ahead_data.remember_statement(ahead.remember(ahead_data.stored_statement(), statement, s.rules))
    st.session_state[kept] = True
checked = recon_payouts.match_payouts(payouts, statement, s.rules)
counts = checked["status"].value_counts()
pm = st.columns(5)
for i, label in enumerate((recon_payouts.PAYOUT_MISSING, recon_payouts.PAYOUT_SHORT, recon_payouts.PAYOUT_OVER, recon_payouts.PAYOUT_UNEXPECTED,
                           recon_payouts.PAYOUT_MATCHED)):
    pm[i].metric(recon_status(label), number(int(counts.get(label, 0))))
pkeys = match.payout_keys(checked)
pclosed = stores.resolutions().resolved(list(pkeys))
pview = with_resolution(checked.assign(_key=pkeys.to_numpy()), pclosed)
st.dataframe(named(pview), hide_index=True, width="stretch", key="rc_payout_check",
             column_config={**COLUMN_CONFIG, "date": COLS["payout_date"], "rows": _("Statement rows")},
             column_order=first_columns(pview))
open_payouts = checked.assign(reasons=checked["status"].map(recon_status))[~checked["status"].isin(
    [recon_payouts.PAYOUT_MATCHED, recon_payouts.PAYOUT_OFFSET])]
recon_close.close_exceptions(open_payouts, pkeys[open_payouts.index], pclosed, stores.resolutions(), "rc_pres",
                             T["close_payout_title"])
d1, d2 = st.columns(2)
d1.download_button(T["payouts_csv"], data=language.later(lambda: pending.to_csv_bytes(for_export(checked))),
                   file_name=f"payouts-{d_from}-{d_to}.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="rc_payout_csv")
if rows is not None:
    d2.download_button(T["month_end"], data=language.later(lambda: month_end_book(result, checked, digest or "")),
                       file_name=f"month-end-{d_from}-{d_to}.xlsx", on_click="ignore", icon=":material/download:",
                       key="rc_month_end", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
