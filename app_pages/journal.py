"""회계 전표: journal entries for a period, from the same events reconciliation uses (deposits, refunds, PG fees and
their VAT, payouts to the bank account), in the accounting software's import template (``[journal]`` in
vbank-desk.toml), as Excel or CSV. Every entry balances (debits = credits), checked before anything is offered."""

from datetime import timedelta

import streamlit as st

from lib.domain.clock import now_kst
from lib.domain.digest import count
from lib.domain.fmt import krw
from lib.domain.i18n import _
from lib.iamport.errors import ApiError
from lib.reports import export, journal
from lib.ui import inert, language, loaders, session

language.entry_guard()

T = {"title": _("Journal entries"),
     "intro": _("Journal entries (회계 전표) for the accountant, one per day, PG and kind: sales, refunds, PG fees with "
                "their VAT, and the payouts to the bank account. Columns, account codes and the counterparty per PG "
                "come from [journal] in vbank-desk.toml. Days are KST."),
     "period": _("Period"), "error": _("Could not read the payments: {err}"),
     "template": _("The [journal] template in vbank-desk.toml cannot be used: {err}"),
     "unbalanced": _("An entry does not balance, so nothing is offered for download: {err}"),
     "balanced": _("{entries}, {lines}: debits {debit} = credits {credit}."),
     "empty": _("Nothing moved in this period."),
     "csv": _("Download (CSV)"), "xlsx": _("Download (Excel)"), "lines": _("{n} lines")}

st.title(T["title"])
st.caption(T["intro"])
today = now_kst().date()
first = today.replace(day=1)
default = ((first - timedelta(days=1)).replace(day=1), first - timedelta(days=1)) if today.day <= 10 else (first, today)
period = st.date_input(T["period"], value=default, max_value=today, key="jr_period", format="YYYY-MM-DD")
if not isinstance(period, tuple) or len(period) != 2:
    st.stop()
d_from, d_to = period
rules = session.settings().rules
try:
    with st.spinner():
        payments, _fetched = loaders.load_recon_payments(d_from, d_to)
except ApiError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()
try:
    lines = journal.entries(payments, d_from, d_to, rules)
    out = journal.templated(lines, rules)
except journal.Unbalanced as e:
    st.error(inert.say(T["unbalanced"], err=e))
    st.stop()
except (ValueError, KeyError) as e:
    st.error(inert.say(T["template"], err=e))
    st.stop()
if lines.empty:
    st.info(T["empty"])
    st.stop()
st.success(inert.say(T["balanced"], entries=count(lines["entry_no"].nunique()),
                     lines=T["lines"].format(n=len(lines)), debit=krw(int(lines["debit"].sum())),
                     credit=krw(int(lines["credit"].sum()))))
money = [h for h, f in rules.journal.columns.items() if f in ("debit", "credit")]
st.dataframe(out.assign(**{h: out[h].map(lambda v: krw(int(v))) for h in money}), hide_index=True, width="stretch",
             key="jr_table", column_config={h: st.column_config.TextColumn(width=110) for h in money})
c1, c2 = st.columns(2)
name = f"journal-{d_from:%Y%m%d}-{d_to:%Y%m%d}"
c1.download_button(T["xlsx"], data=language.later(lambda: export.to_xlsx_book([(T["title"], out)],
                                                                                money=tuple(money))),
                   file_name=f"{name}.xlsx", on_click="ignore", icon=":material/download:", key="jr_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
c2.download_button(T["csv"], data=language.later(lambda: export.to_csv_bytes(out)), file_name=f"{name}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:", key="jr_csv")
