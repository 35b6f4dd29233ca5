"""Reconciliation: expected settlement per day and PG, and a PG settlement / bank file matched against it."""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from lib import pending, recon, ui
from lib.fmt import krw, now_kst
from lib.text import md

ui.entry_guard()

T = {
    "title": "Reconciliation",
    "intro": "What the PG should settle for your virtual accounts — deposits by paid time, refunds registered, "
             "issuance and remittance fees from the fee schedule — and a PG settlement or bank file matched "
             "against it. Days are KST.",
    "from": "From (KST)", "to": "Until (KST)", "pgs": "PGs (none = all)",
    "expected": "Expected settlement", "per_day": "Per day", "per_pg": "Per day and PG",
    "m_deposits": "Deposits", "m_gross": "Gross deposits", "m_fees": "Fees (incl. VAT)", "m_refunds": "Refunds",
    "m_net": "Expected net",
    "csv": "Download CSV", "xlsx": "Download Excel",
    "upload": "Settlement or bank file (CSV in UTF-8 or CP949/EUC-KR, or Excel)",
    "upload_hint": "Try it with the sandbox: `python -m sandbox settlement --from YYYY-MM-DD --to YYYY-MM-DD --out "
                   "settlement.csv` writes a PG report with a few planted discrepancies.",
    "mapping": "Map the file's columns", "preset": "Preset", "no_preset": "(guess from the headers)",
    "save_preset": "Save this mapping as", "save": "Save preset", "saved": "Saved preset “{name}”.",
    "none": "(none)",
    "field_labels": {"date": "Date", "type": "Type (deposit / refund)", "amount": "Amount", "fee": "Fee",
                     "imp_uid": "imp_uid", "merchant_uid": "merchant_uid (order number)", "pg_tid": "PG tid"},
    "file_error": "The file could not be read: {err}",
    "results": "Matching", "groups": ["Matched", "Amount or fee mismatch", "In the file, not in I'mport",
                                      "In I'mport, not in the file"],
    "exceptions": "Download the exceptions (CSV)", "load_error": "Could not load payments: {err}",
    "empty": "Nothing expected in this range.",
    "no_save": "Saving presets needs the operator role.",
}
st.title(T["title"])
st.caption(T["intro"])
s = ui.settings()

today = now_kst().date()
c = st.columns([1, 1, 2])
d_from = c[0].date_input(T["from"], value=today - timedelta(days=7), key="rc_from", max_value=today)
d_to = c[1].date_input(T["to"], value=today, key="rc_to", max_value=today)
if d_from > d_to:
    st.error("“From” is after “Until”.")
    st.stop()
try:
    payments, fetched = ui.load_recon_payments(d_from, d_to)
except ui.ApiError as e:
    st.error(ui.say(T["load_error"], err=e))
    st.stop()
all_pgs = sorted({p.get("pg_provider") or "" for p in payments if p.get("pay_method") == "vbank"})
pgs = c[2].multiselect(T["pgs"], all_pgs, key="rc_pgs")
ev = recon.events(payments, d_from, d_to, s.rules, pgs or None)
exp = recon.expected_settlement(ev)
st.caption(ui.last_refreshed(fetched))

st.subheader(T["expected"])
if exp.empty:
    st.info(T["empty"])
else:
    m = st.columns(5)
    m[0].metric(T["m_deposits"], f"{int(exp['deposits'].sum()):,}")
    m[1].metric(T["m_gross"], krw(int(exp["gross"].sum())))
    m[2].metric(T["m_fees"], krw(int(exp["issuance_fees"].sum() + exp["remittance_fees"].sum())))
    m[3].metric(T["m_refunds"], krw(int(exp["refunded"].sum())))
    m[4].metric(T["m_net"], krw(int(exp["net"].sum())))
    money = {k: st.column_config.NumberColumn(k, format="localized") for k in
             ("gross", "issuance_fees", "refunded", "remittance_fees", "vat_on_fees", "net")}
    t1, t2 = st.tabs([T["per_day"], T["per_pg"]])
    per_day = exp.drop(columns=["pg"]).groupby("date", as_index=False).sum()
    with t1:
        st.altair_chart(alt.Chart(per_day.assign(date=pd.to_datetime(per_day["date"]))).mark_bar().encode(
            x=alt.X("yearmonthdate(date):O", title="Day (KST)"), y=alt.Y("net:Q", title="Expected net (₩)", axis=alt.Axis(format=",d")),
            tooltip=["date:T", alt.Tooltip("gross:Q", format=",d"), alt.Tooltip("net:Q", format=",d")]),
            use_container_width=True)
        st.dataframe(per_day, hide_index=True, width="stretch", column_config=money, key="rc_per_day")
    with t2:
        st.dataframe(exp, hide_index=True, width="stretch", column_config=money, key="rc_per_pg")
    d1, d2 = st.columns(2)
    d1.download_button(T["csv"], data=lambda: pending.to_csv_bytes(exp), file_name=f"expected-{d_from}-{d_to}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="rc_csv")
    d2.download_button(T["xlsx"], data=lambda: pending.to_xlsx_bytes(exp, sheet="Expected"),
                       file_name=f"expected-{d_from}-{d_to}.xlsx", on_click="ignore", icon=":material/download:",
                       key="rc_xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.divider()
up = st.file_uploader(T["upload"], type=["csv", "xlsx", "txt"], key="rc_file")
st.caption(T["upload_hint"])
if up is None:
    st.stop()
try:
    raw = recon.read_table(up.getvalue(), up.name)
except recon.ReconFileError as e:
    st.error(ui.say(T["file_error"], err=e))
    st.stop()

store = recon.PresetStore(ui.audit().engine)
presets = store.all()
st.subheader(T["mapping"])
choice = st.selectbox(T["preset"], [T["no_preset"]] + list(presets), key="rc_preset")
base = presets.get(choice) or recon.guess_map(list(raw.columns))
cols = [T["none"]] + list(raw.columns)
mcols = st.columns(len(recon.FIELDS))
picked = {}
for i, f in enumerate(recon.FIELDS):
    cur = getattr(base, f)
    picked[f] = mcols[i].selectbox(T["field_labels"][f], cols, index=cols.index(cur) if cur in cols else 0,
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

try:
    rows = recon.normalize(raw, cmap)
except recon.ReconFileError as e:
    st.error(ui.say(T["file_error"], err=e))
    st.stop()

result = recon.match(rows, ev)
st.subheader(T["results"])
summary = result.summary()
g = st.columns(4)
for i, (_, r) in enumerate(summary.iterrows()):
    g[i].metric(md(r["group"]), f"{r['rows']:,}", help=krw(r["amount"]))
st.dataframe(summary, hide_index=True, key="rc_summary",
             column_config={"amount": st.column_config.NumberColumn("Amount (₩)", format="localized")})
tabs = st.tabs(T["groups"])
for tab, df, key in zip(tabs, (result.matched, result.mismatched, result.file_only, result.import_only),
                        ("rc_matched", "rc_mismatched", "rc_file_only", "rc_import_only")):
    with tab:
        st.dataframe(df, hide_index=True, width="stretch", key=key)
exc = result.exceptions()
st.download_button(T["exceptions"], data=pending.to_csv_bytes(exc), file_name=f"recon-exceptions-{d_from}-{d_to}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:", key="rc_exc")
