"""Reconciliation: the expected settlement per day and PG; a PG settlement file matched as PortOne's 거래대사 does
(일치 / 불일치 with every reason / 대사불능); and the payouts per settlement day matched against a bank statement."""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from lib.i18n import _
from lib import pending, recon, ui
from lib.fmt import krw, krw_compact, now_kst, number
from lib.names import pg_name
from lib.text import md

ui.entry_guard()

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
    "mapping": _("Map the file's columns"), "preset": _("Preset"), "no_preset": _("(guess from the headers)"),
    "save_preset": _("Save this mapping as"), "save": _("Save preset"), "saved": _("Saved preset “{name}”."),
    "none": _("(none)"),
    "field_labels": {"date": _("Date"), "type": _("Type (deposit / refund)"), "amount": _("Amount"), "fee": _("Fee"),
                     "fee_vat": _("Fee VAT (수수료부가세)"), "tax_free": _("Tax-free (면세)"), "vat": _("VAT (부가세)"),
                     "imp_uid": _("imp_uid"), "merchant_uid": _("merchant_uid (order number)"), "pg_tid": _("PG tid")},
    "file_error": _("The file could not be read: {err}"),
    "range_file": _("Using the file's own dates: {a} – {b} (KST)."),
    "range_own": _("Use the dates above instead of the file's"),
    "looked_up": _("{n} payment(s) the file names were started before the listing's range (e.g. a refund today of "
                 "an older payment) and were looked up by their ids."),
    "not_looked_up": _("{n} order numbers were not looked up (the limit for one file); they may show as 대사불능."),
    "results": _("Matching"), "groups": ["일치", "불일치", "대사불능 (파일에만)", "대사불능 (아임포트에만)"],
    "dashboard": _("불일치 by day and PG (differences in ₩)"),
    "exceptions": _("Download the exceptions (CSV)"), "load_error": _("Could not load payments: {err}"),
    "empty": _("Nothing expected in this range."),
    "no_save": _("Saving presets needs the operator role."),
    "reading": _("Reading and matching the file…"),
    "payout_title": _("Payouts by settlement day (입금대사)"),
    "payout_intro": _("Each day's expected net is paid out D+{n} business days later (weekends and Korean public "
                    "holidays skipped; per PG in vbank-desk.toml)."),
    "statement": _("Bank statement (거래일시, 적요, 입금액, 출금액, 잔액)"),
    "bank_labels": {"date": _("Date (거래일시)"), "memo": _("Description (적요)"), "deposit": _("Deposit (입금액)"),
                    "withdrawal": _("Withdrawal (출금액)")},
    "payouts_csv": _("Download the payout check (CSV)"),
}
st.title(T["title"])
st.caption(T["intro"])
s = ui.settings()
MONEY = {"format": "localized"}


def money(label: str):
    return st.column_config.NumberColumn(label, **MONEY)


# Column headers of every table and export on this page, in the team's words.
COLS = {"date": _("Day (KST)"), "pg": _("PG"), "rows": _("Rows"), "status": _("Status"), "reasons": _("Reasons"),
        "matched_by": _("Matched by"), "merchant_uid": _("Order number"), "pg_tid": _("PG transaction id"),
        "kind": _("Type"), "at": _("Time (KST)"), "row": _("File row"), "deposits": _("Deposits"),
        "refunds": _("Refunds (count)"), "payout_date": _("Payout day (KST)"), "sender": _("Sender (적요)"),
        "transaction_days": _("For transactions of"), "memo": _("적요")}
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
COLUMN_CONFIG = {**COLS, **{k: money(v) for k, v in MONEY_COLS.items()}}


def named(df: pd.DataFrame) -> pd.DataFrame:
    """PGs by their trade names, as everywhere else (the codes stay in the data underneath)."""
    return df.assign(pg=df["pg"].map(pg_name)) if "pg" in df and len(df) else df


def for_export(df: pd.DataFrame) -> pd.DataFrame:
    """A table for a download, with the same headers and names as on screen."""
    return named(df).rename(columns={**COLS, **MONEY_COLS})


def payment_links(df: pd.DataFrame) -> pd.DataFrame:
    """imp_uids as links to the payment page (shown as the imp_uid itself)."""
    if "imp_uid" in df and len(df):
        df = df.assign(imp_uid=df["imp_uid"].map(lambda x: f"/payment?imp_uid={x}" if x else None))
    return df


LINK = st.column_config.LinkColumn("imp_uid", display_text=r"imp_uid=(.*)")

today = now_kst().date()
c = st.columns([1, 1, 2])
d_from = c[0].date_input(T["from"], value=today - timedelta(days=7), key="rc_from", max_value=today)
d_to = c[1].date_input(T["to"], value=today, key="rc_to", max_value=today)
if d_from > d_to:
    st.error(_("“From” is after “Until”."))
    st.stop()

# ------------------------------------------------------------------ the settlement file, read first: it sets the range
st.subheader(T["file_title"])
up = st.file_uploader(T["upload"], type=["csv", "xlsx", "xls", "txt"], key="rc_file")
st.caption(T["upload_hint"])
rows = raw = None
cmap = None
if up is not None:
    digest = ui.upload_digest(up)
    try:
        with st.spinner(T["reading"]):
            raw = ui.read_upload(digest, up.name, up.getvalue())
    except recon.ReconFileError as e:
        st.error(ui.say(T["file_error"], err=e))
        st.stop()
    store = ui.presets_store()
    presets = store.all()
    st.markdown(f"**{T['mapping']}**")
    choice = st.selectbox(T["preset"], [T["no_preset"]] + list(presets), key="rc_preset")
    base = presets.get(choice) or recon.guess_map(list(raw.columns))
    cols = [T["none"]] + list(raw.columns)
    picked = {}
    grid = st.columns(5)
    for i, f in enumerate(recon.FIELDS):
        cur = getattr(base, f)
        picked[f] = grid[i % 5].selectbox(T["field_labels"][f], cols, index=cols.index(cur) if cur in cols else 0,
                                          key=f"rc_map_{f}_{choice}")
    cmap = recon.ColumnMap(**{f: (None if v == T["none"] else v) for f, v in picked.items()})
    p1, p2 = st.columns([3, 1], vertical_alignment="bottom")
    can_save = ui.operator().can("save_settings")
    name = p1.text_input(T["save_preset"], key="rc_preset_name", max_chars=60, disabled=not can_save,
                         help=None if can_save else T["no_save"])
    if p2.button(T["save"], key="rc_save", disabled=not can_save) and name.strip():
        try:
            saved = store.save(name, cmap, ui.operator(), ui.audit())
            st.session_state["rc_flash"] = ("ok", ui.say(T["saved"], name=saved))
        except (ValueError, ui.Forbidden) as e:
            st.session_state["rc_flash"] = ("err", md(e))
        st.rerun()                     # so the preset list shows the new one
    flash = st.session_state.pop("rc_flash", None)
    if flash:
        (st.success if flash[0] == "ok" else st.error)(flash[1])
    mapping = tuple(sorted(cmap.as_dict().items(), key=lambda kv: kv[0]))
    try:
        with st.spinner(T["reading"]):
            rows = ui.normalized(digest, mapping, raw)
    except recon.ReconFileError as e:
        st.error(ui.say(T["file_error"], err=e))
        st.stop()
    f_from, f_to = recon.file_range(rows)
    if not st.checkbox(T["range_own"], key="rc_own_range"):
        d_from, d_to = f_from, f_to
        st.info(T["range_file"].format(a=f_from, b=f_to))

try:
    payments, fetched = ui.load_recon_payments(d_from, d_to)
except ui.ApiError as e:
    st.error(ui.say(T["load_error"], err=e))
    st.stop()
all_pgs = sorted({p.get("pg_provider") or "" for p in payments if p.get("pay_method") == "vbank"})
pgs = c[2].multiselect(T["pgs"], all_pgs, key="rc_pgs", format_func=pg_name, placeholder=_("All"))
extra: list[dict] = []

# ------------------------------------------------------------------ matching the file
if rows is not None:
    with st.spinner(T["reading"]):
        result, extra, not_looked_up = ui.reconciled(digest, mapping, d_from, d_to, tuple(pgs),
                                                     fetched.timestamp(), s.rules.model_dump_json(), rows, payments)
    if extra:
        st.caption(T["looked_up"].format(n=len(extra)))
    if not_looked_up:
        st.warning(T["not_looked_up"].format(n=not_looked_up))
    st.markdown(f"**{T['results']}**")
    summary = result.summary()
    g = st.columns(4)
    for i, (_i, r) in enumerate(summary.iterrows()):
        g[i].metric(md(r["group"]), number(r["rows"]), help=krw(r["amount"]))
    dash = result.mismatch_dashboard()
    if not dash.empty:
        st.markdown(f"**{T['dashboard']}**")
        st.dataframe(named(dash), hide_index=True, key="rc_dash", column_config=COLUMN_CONFIG)
    tabs = st.tabs(T["groups"])
    for tab, df, key in zip(tabs, (result.matched, result.mismatched, result.file_only, result.import_only),
                            ("rc_matched", "rc_mismatched", "rc_file_only", "rc_import_only")):
        with tab:
            st.dataframe(named(payment_links(df)), hide_index=True, width="stretch", key=key,
                         column_config={**COLUMN_CONFIG, "imp_uid": LINK})
    st.download_button(T["exceptions"], data=ui.later(lambda: pending.to_csv_bytes(for_export(result.exceptions()))),
                       file_name=f"recon-exceptions-{d_from}-{d_to}.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", key="rc_exc")

# ------------------------------------------------------------------ expected settlement
ev = recon.events(payments + extra, d_from, d_to, s.rules, pgs or None)   # with the older payments the file named
exp = recon.expected_settlement(ev)
st.subheader(T["expected"])
st.caption(ui.last_refreshed(fetched))
if exp.empty:
    st.info(T["empty"])
else:
    m = st.columns(5)
    m[0].metric(T["m_deposits"], number(int(exp["deposits"].sum())))
    m[1].metric(T["m_gross"], krw_compact(int(exp["gross"].sum())), help=krw(int(exp["gross"].sum())))
    m[2].metric(T["m_fees"], krw(int(exp["issuance_fees"].sum() + exp["remittance_fees"].sum()
                                      + exp["vat_on_fees"].sum())))
    m[3].metric(T["m_refunds"], krw_compact(int(exp["refunded"].sum())), help=krw(int(exp["refunded"].sum())))
    m[4].metric(T["m_net"], krw_compact(int(exp["net"].sum())), help=krw(int(exp["net"].sum())))
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
            use_container_width=True)
        st.dataframe(per_day, hide_index=True, width="stretch", column_config=cfg, key="rc_per_day")
    with t2:
        st.dataframe(named(exp), hide_index=True, width="stretch", column_config=cfg, key="rc_per_pg")
    d1, d2 = st.columns(2)
    d1.download_button(T["csv"], data=ui.later(lambda: pending.to_csv_bytes(for_export(exp))), file_name=f"expected-{d_from}-{d_to}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="rc_csv")
    d2.download_button(T["xlsx"], data=ui.later(lambda: pending.to_xlsx_bytes(for_export(exp), sheet=_("Expected settlement"))),
                       file_name=f"expected-{d_from}-{d_to}.xlsx", on_click="ignore", icon=":material/download:",
                       key="rc_xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# ------------------------------------------------------------------ payouts and the bank statement
st.subheader(T["payout_title"])
st.caption(T["payout_intro"].format(n=s.rules.settlement_days_default))
payouts = recon.expected_payouts(exp, s.rules)
bank = st.file_uploader(T["statement"], type=["csv", "xlsx", "xls", "txt"], key="rc_bank")
if bank is None:
    st.dataframe(named(payouts), hide_index=True, width="stretch", key="rc_payouts",
                 column_config=COLUMN_CONFIG)
    st.stop()
bdigest = ui.upload_digest(bank)
try:
    braw = ui.read_upload(bdigest, bank.name, bank.getvalue())
except recon.ReconFileError as e:
    st.error(ui.say(T["file_error"], err=e))
    st.stop()
guess = recon.guess_bank_map(list(braw.columns))
bcols = [T["none"]] + list(braw.columns)
bgrid = st.columns(4)
bmap = {}
for i, f in enumerate(recon.BANK_FIELDS):
    cur = guess.get(f)
    v = bgrid[i].selectbox(T["bank_labels"][f], bcols, index=bcols.index(cur) if cur in bcols else 0, key=f"rc_b_{f}")
    bmap[f] = None if v == T["none"] else v
try:
    statement = ui.statement_rows(bdigest, tuple(sorted(bmap.items())), braw)
except recon.ReconFileError as e:
    st.error(ui.say(T["file_error"], err=e))
    st.stop()
checked = recon.match_payouts(payouts, statement, s.rules)
counts = checked["status"].value_counts()
pm = st.columns(5)
for i, label in enumerate((recon.PAYOUT_MATCHED, recon.PAYOUT_SHORT, recon.PAYOUT_OVER, recon.PAYOUT_MISSING,
                           recon.PAYOUT_UNEXPECTED)):
    pm[i].metric(label, number(int(counts.get(label, 0))))
st.dataframe(named(checked), hide_index=True, width="stretch", key="rc_payout_check",
             column_config={**COLUMN_CONFIG, "date": COLS["payout_date"], "rows": _("Statement rows")})
st.download_button(T["payouts_csv"], data=ui.later(lambda: pending.to_csv_bytes(for_export(checked))),
                   file_name=f"payouts-{d_from}-{d_to}.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="rc_payout_csv")
