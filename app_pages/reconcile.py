"""Reconciliation: the expected settlement per day and PG; a PG settlement file matched as PortOne's 거래대사 does
(일치 / 불일치 with every reason / 대사불능); and the payouts per settlement day matched against a bank statement.

Longer than 400 lines: the page is one month-end walk (period → file → mapping → result → exceptions → statement →
payouts) whose widgets share one run's state; the reading, matching and exports it calls live in lib/reports/recon.
"""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from lib.domain.i18n import _
from lib.reports import export
from lib.reports import pending
from lib.domain.fmt import krw, number
from lib.domain.clock import now_kst
from lib.domain.names import pg_short, recon_status
from lib.domain.text import md, payment_path
from lib.iamport.errors import ApiError
from lib.reports.recon import expected
from lib.reports.recon import grid as recon_grid
from lib.reports.recon import match
from lib.reports.recon import normalize
from lib.reports.recon import payouts as recon_payouts
from lib.reports.recon import reading as reading_mod
from lib.reports.recon import statement
from lib.reports.recon import understand
from lib.ui import inert
from lib.ui import language, metrics
from lib.ui import loaders
from lib.reports import ahead
from lib.ui import ahead as ahead_data
from lib.ui import recon_close
from lib.ui import recon_files
from lib.ui import session

language.entry_guard()

T = {
    "title": _("Reconciliation"),
    "intro": _("What the PG should settle for your virtual accounts — deposits by paid time, refunds registered, "
             "issuance and remittance fees with their VAT from the fee schedule — a PG settlement file matched "
             "against it row by row (거래대사), and the PG payouts by settlement day matched against your bank "
             "statement (입금대사). Days are KST."),
    "from": _("From (KST)"), "to": _("Until (KST)"), "pgs": _("PGs (none = all)"),
    "expected": _("Expected settlement"), "per_day": _("Per day"), "per_pg": _("Per day and PG"),
    "m_deposits": _("Deposits"), "m_gross": _("Gross deposits"), "m_fees": _("Fees and their VAT"), "m_refunds": _("Refunds"),
    "m_net": _("Expected net"),
    "csv": _("Download CSV"), "xlsx": _("Download Excel"),
    "file_title": _("PG settlement file (거래대사)"),
    "upload": _("Settlement file (CSV in UTF-8 or CP949/EUC-KR, or Excel)"),
    "upload_hint": _("Try it with the sandbox: `make settlement` writes a PG report and a bank statement, each with a "
                   "few planted discrepancies (listed in the .planted.json next to them)."),
    "scoped": _("The file is {pgs}'s alone, so only its payments are compared. Choose PGs above to change it."),
    "other_methods": _("{n} row(s) of other payment methods (card, transfer …) are left out: vbank-desk reconciles "
                       "virtual accounts."),
    "exceptions_xlsx": _("Download the exceptions (Excel, with a month-end summary)"),
    "month_end": _("Download the month-end workbook (Excel)"),
    "close_title": _("Close exceptions"), "close_payout_title": _("Close payout exceptions"),
    "file_error": _("The file could not be read: {err}"),
    "range_file": _("Using the file's own dates: {a} – {b} (KST)."),
    "range_own": _("Use the dates above instead of the file's"),
    "looked_up": _("{n} payment(s) the file names were started before the listing's range (e.g. a refund today of "
                 "an older payment) and were looked up by their ids."),
    "not_looked_up": _("{n} order numbers were not looked up (the limit for one file); they may show as 대사불능."),
    "results": _("Matching"), "groups": ["불일치", "대사불능 (파일에만)", "대사불능 (아임포트에만)", "일치"],
    "dashboard": _("불일치 by day and PG (differences in ₩)"),
    "first_rows": _("Showing the first {shown} of {n} rows; the counts and amounts above are for all of them."),
    "exceptions": _("Download the exceptions (CSV)"), "load_error": _("Could not load payments: {err}"),
    "empty": _("Nothing expected in this range."),
    "reading": _("Reading and matching the file…"),
    "payout_title": _("Payouts by settlement day (입금대사)"),
    "payout_intro": _("Each day's expected net is paid out D+{n} business days later (weekends and Korean public "
                    "holidays skipped; per PG in vbank-desk.toml)."),
    "statement": _("Bank statement (거래일시, 적요, 입금액, 출금액, 잔액)"),
    "payouts_csv": _("Download the payout check (CSV)"),
    "explained": _("{n} of the file's {rows} rows are payments I'mport knows."),
    "payouts_explained": _("{n} of the {rows} payouts expected on the statement's days are in it."),
}
st.title(T["title"])
st.caption(T["intro"])
s = session.settings()
MONEY = {"format": "localized"}


def money(label: str):
    return st.column_config.NumberColumn(label, **MONEY)


# Column headers of every table and export on this page, in the team's words.
COLS = {"date": _("Day (KST)"), "pg": _("PG"), "rows": _("Rows"), "status": _("Status"), "reasons": _("Reasons"),
        "matched_by": _("Matched by"), "merchant_uid": _("Order number"), "pg_tid": _("PG transaction id"),
        "kind": _("Type"), "at": _("Time (KST)"), "row": _("File row"), "deposits": _("Deposits"),
        "refunds": _("Refunds (count)"), "payout_date": _("Payout day (KST)"), "sender": _("Payout from"),
        "transaction_days": _("For transactions of"), "memo": _("적요"), "depositor": _("Sent by"),
        "resolution": _("Resolution"), "import_date": _("Day at I'mport (KST)")}
MONEY_COLS = {"amount": _("Amount (₩)"), "fee": _("Fee (₩)"), "fee_vat": _("Fee VAT (₩)"),
              "file_amount": _("Amount in the file (₩)"), "import_amount": _("Amount at I'mport (₩)"),
              "amount_diff": _("Amount difference (₩)"), "file_fee": _("Fee in the file (₩)"),
              "expected_fee": _("Expected fee (₩)"), "fee_diff": _("Fee difference (₩)"),
              "file_fee_vat": _("Fee VAT in the file (₩)"), "expected_fee_vat": _("Expected fee VAT (₩)"),
              "tax_free": _("Tax-free (₩)"), "vat": _("VAT (₩)"), "gross": _("Gross deposits (₩)"),
              "issuance_fees": _("Issuance fees (₩)"), "refunded": _("Refunded (₩)"),
              "remittance_fees": _("Remittance fees (₩)"), "vat_on_fees": _("VAT on fees (₩)"),
              "net": _("Expected net (₩)"), "expected": _("Expected (₩)"), "received": _("Received (₩)"),
              "difference": _("Difference (₩)")}
COLUMN_CONFIG = {**COLS, **{k: money(v) for k, v in MONEY_COLS.items()},
                 # wide enough at 1280×800 for what they hold (an order number, a memo, every reason)
                 "merchant_uid": st.column_config.TextColumn(COLS["merchant_uid"], width="medium"),
                 "resolution": st.column_config.TextColumn(COLS["resolution"], width="medium"),
                 "reasons": st.column_config.TextColumn(COLS["reasons"], width="medium"),
                 "status": st.column_config.TextColumn(COLS["status"], width="small")}


KINDS = {"deposit": _("Deposit"), "refund": _("Refund")}
KEYS = {"imp_uid": _("PortOne transaction id"), "merchant_uid": _("Order number"), "pg_tid": _("PG transaction id")}


def pg_names(value) -> str:
    """PG codes as trade names, several joined ("smartro / smartro_v2" → 스마트로: one trade name, two modules)."""
    if not isinstance(value, str) or not value:
        return ""
    return " / ".join(dict.fromkeys(pg_short(p.strip()) for p in value.split("/") if p.strip()))


def named(df: pd.DataFrame) -> pd.DataFrame:
    """PGs by their trade names, kinds and keys in words, as everywhere else (the codes stay underneath); columns the
    file does not have (all empty) left out and empty text cells empty, never "None"."""
    if not len(df):
        return df
    df = df.dropna(axis=1, how="all")
    text = [c for c in df.columns if df[c].dtype == object]
    if text:
        df = df.assign(**{c: df[c].where(df[c].notna(), "") for c in text})
    out = df.assign(pg=df["pg"].map(pg_names)) if "pg" in df else df
    if "kind" in out:
        out = out.assign(kind=out["kind"].map(lambda k: KINDS.get(k, k)))
    if "matched_by" in out:
        out = out.assign(matched_by=out["matched_by"].map(lambda k: KEYS.get(k, k)))
    for col in ("status", "group", "reasons_status"):
        if col in out:
            out = out.assign(**{col: out[col].map(lambda c: recon_status(c) if isinstance(c, str) else c)})
    return out


def for_export(df: pd.DataFrame) -> pd.DataFrame:
    """A table for a download, with the same headers and names as on screen."""
    return named(df).rename(columns={**COLS, **MONEY_COLS})


def payment_links(df: pd.DataFrame) -> pd.DataFrame:
    """imp_uids as links to the payment page (shown as the imp_uid itself)."""
    if "imp_uid" in df and len(df):
        df = df.assign(imp_uid=df["imp_uid"].map(payment_path))
    return df


LINK = st.column_config.LinkColumn("imp_uid", display_text=r"imp_uid=(.*)")

FIRST = ["reasons", "status", "merchant_uid", "amount_diff", "fee_diff", "resolution", "date", "depositor", "sender"]


def first_columns(df: pd.DataFrame) -> list[str]:
    """What needs reading first: the reason, the state of its resolution, the differences (signed), the order."""
    cols = [c for c in df.columns if not str(c).startswith("_")]
    return [c for c in FIRST if c in cols] + [c for c in cols if c not in FIRST]


def with_resolution(df: pd.DataFrame, closed: dict, file_id: str = "") -> pd.DataFrame:
    """Exceptions resolved earlier (this run or one over an overlapping range) say so, with owner and memo."""
    if df.empty:
        return df
    keys = df["_key"] if "_key" in df else match.exception_keys(df, file_id)
    return df.assign(resolution=[recon_close.resolution_text(closed.get(k)) for k in keys])


def read_or_stop(up: recon_files.Upload, header_row: int | None = None, sheet: str | None = None):
    """The table in an uploaded file, or the one sentence saying why it cannot be read (and the page stops)."""
    try:
        with st.spinner(T["reading"]):
            return loaders.read_upload(up.digest, up.name, header_row, up.data, sheet)
    except recon_grid.ReconFileError as e:
        st.error(inert.say(T["file_error"], err=e))
        st.stop()


RESOLUTION_COLS = {"resolution_state": _("Resolution"), "resolution_memo": _("Memo"),
                   "resolution_owner": _("Owner"), "resolved_at": _("Resolved at (KST)")}


def month_end_book(result, checked, file_id: str) -> bytes:
    """The month end as Excel (whole won as numbers, dates as dates, Korean headers and values): a summary sheet
    first with each group's open and closed rows, then every exception and every payout with its resolution (state,
    memo, owner, when)."""
    exc = result.exceptions()
    ekeys = match.exception_keys(exc, file_id)
    pkeys = match.payout_keys(checked) if checked is not None else pd.Series([], dtype=object)
    closed = session.db().resolutions.resolved(list(ekeys) + list(pkeys))
    summary = named(match.month_end_summary(result, checked, frozenset(closed), file_id))
    summary["section"] = summary["section"].map({"match": _("Transactions (거래대사)"), "payout": _("Payouts (입금대사)")})
    heads = {"section": _("Section"), "group": COLS["status"], "pg": COLS["pg"], "rows": COLS["rows"],
             "amount": MONEY_COLS["amount"], "difference": MONEY_COLS["difference"], "open": _("Not resolved"),
             "closed": _("Closed")}
    sheets = [(_("Month-end summary"), summary.rename(columns=heads)),
              (_("Exceptions"), for_export(pd.concat([exc, recon_close.resolution_columns(ekeys, closed)], axis=1))
               .rename(columns=RESOLUTION_COLS))]
    if checked is not None:
        sheets.append((_("Payouts"), for_export(pd.concat([checked, recon_close.resolution_columns(pkeys, closed)],
                                                          axis=1)).rename(columns=RESOLUTION_COLS)))
    return export.to_xlsx_book(sheets)


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
    span = reading_mod.candidate_range(raw) or (d_from, d_to)
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
        reading = understand.check_pg(reading_mod.Reading("pg", normalize.ColumnMap.of(preset)), raw, c_events)
    cmap, by_hand = recon_files.mapping_editor("pg", reading, list(raw.columns), "rc", digest,
                                               expanded=reading.stop is not None)
    assert isinstance(cmap, normalize.ColumnMap)
    if by_hand:
        reading = understand.check_pg(reading_mod.Reading("pg", cmap), raw, c_events)
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
    if extra:
        st.caption(T["looked_up"].format(n=len(extra)))
    if not_looked_up:
        st.warning(T["not_looked_up"].format(n=not_looked_up))
    st.markdown(f"**{T['results']}**")
    summary = result.summary()
    g = st.columns(4)
    for i, (_i, r) in enumerate(summary.iterrows()):
        g[i].metric(md(recon_status(r["group"])), number(r["rows"]), help=krw(r["amount"]))
    resolutions = session.db().resolutions
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
st.subheader(T["expected"])
st.caption(session.last_refreshed(fetched))
if exp.empty:
    st.info(T["empty"])
else:
    m = st.columns(5)
    m[0].metric(T["m_deposits"], number(int(exp["deposits"].sum())))
    metrics.row(m[1:], [(T["m_gross"], int(exp["gross"].sum())),
                        (T["m_fees"], int(exp["issuance_fees"].sum() + exp["remittance_fees"].sum()
                                          + exp["vat_on_fees"].sum())),
                        (T["m_refunds"], int(exp["refunded"].sum())), (T["m_net"], int(exp["net"].sum()))])
    cfg = COLUMN_CONFIG
    t1, t2 = st.tabs([T["per_day"], T["per_pg"]])
    per_day = exp.drop(columns=["pg"]).groupby("date", as_index=False).sum()
    with t1:
        st.altair_chart(alt.Chart(per_day.assign(date=pd.to_datetime(per_day["date"]))).mark_bar().encode(
            x=alt.X("yearmonthdate(date):O", title=COLS["date"], axis=alt.Axis(format="%m-%d", formatType="time")),
            y=alt.Y("net:Q", title=MONEY_COLS["net"], axis=alt.Axis(format=",d")),
            tooltip=[alt.Tooltip("date:T", title=COLS["date"]),
                     alt.Tooltip("gross:Q", format=",d", title=MONEY_COLS["gross"]),
                     alt.Tooltip("net:Q", format=",d", title=MONEY_COLS["net"])]),
            width="stretch")
        st.dataframe(per_day, hide_index=True, width="stretch", column_config=cfg, key="rc_per_day")
    with t2:
        st.dataframe(named(exp), hide_index=True, width="stretch", column_config=cfg, key="rc_per_pg")
    d1, d2 = st.columns(2)
    d1.download_button(T["csv"], data=language.later(lambda: pending.to_csv_bytes(for_export(exp))), file_name=f"expected-{d_from}-{d_to}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="rc_csv")
    d2.download_button(T["xlsx"], data=language.later(lambda: pending.to_xlsx_bytes(for_export(exp), sheet=_("Expected settlement"))),
                       file_name=f"expected-{d_from}-{d_to}.xlsx", on_click="ignore", icon=":material/download:",
                       key="rc_xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

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
pclosed = session.db().resolutions.resolved(list(pkeys))
pview = with_resolution(checked.assign(_key=pkeys.to_numpy()), pclosed)
st.dataframe(named(pview), hide_index=True, width="stretch", key="rc_payout_check",
             column_config={**COLUMN_CONFIG, "date": COLS["payout_date"], "rows": _("Statement rows")},
             column_order=first_columns(pview))
open_payouts = checked.assign(reasons=checked["status"].map(recon_status))[~checked["status"].isin(
    [recon_payouts.PAYOUT_MATCHED, recon_payouts.PAYOUT_OFFSET])]
recon_close.close_exceptions(open_payouts, pkeys[open_payouts.index], pclosed, session.db().resolutions, "rc_pres",
                             T["close_payout_title"])
d1, d2 = st.columns(2)
d1.download_button(T["payouts_csv"], data=language.later(lambda: pending.to_csv_bytes(for_export(checked))),
                   file_name=f"payouts-{d_from}-{d_to}.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="rc_payout_csv")
if rows is not None:
    d2.download_button(T["month_end"], data=language.later(lambda: month_end_book(result, checked, digest or "")),
                       file_name=f"month-end-{d_from}-{d_to}.xlsx", on_click="ignore", icon=":material/download:",
                       key="rc_month_end", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
