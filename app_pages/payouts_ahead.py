"""입금 예정 — payouts ahead: per business day and PG, what each PG should pay into the bank account (settlement cycle
D+N per PG, fees per PG, weekends and Korean holidays skipped), what a matched bank statement already shows, and what
is late. A bank statement matched here is kept (its PG deposits per day only) so the page and the watcher can tell a
late payout; without one, nothing is claimed. The journal entries (회계 전표) are one click away."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from lib.domain.clock import now_kst
from lib.domain.digest import count_amount, day_name
from lib.domain.fmt import krw
from lib.domain.i18n import _
from lib.iamport.errors import ApiError
from lib.reports import ahead as report
from lib.reports import export
from lib.reports.recon import grid as recon_grid
from lib.reports.recon import payouts as recon_payouts
from lib.ui import ahead as data
from lib.ui import inert, language, loaders, session

language.entry_guard()

T = {"title": _("Payouts ahead"),
     "intro": _("What each PG should pay into the bank account on each business day: the day's deposits less "
                "refunds, fees and their VAT, paid D+{n} business days later (per PG in vbank-desk.toml; weekends and "
                "Korean public holidays skipped). Days are KST."),
     "error": _("Could not read the payments: {err}"),
     "statement": _("Bank statement to check received payouts (거래일시, 적요, 입금액)"),
     "statement_help": _("Only the PGs' deposits per day are kept (no personal transfers, no account numbers), so "
                         "the page and the watcher can tell a payout that is late."),
     "not_sure": _("The statement's layout was not recognised with certainty: map it on the Reconciliation page "
                   "first, or check the days below."),
     "file_error": _("The file could not be used: {err}"),
     "not_kept": _("Checked for this view only: keeping a bank statement for the team and the watcher needs the "
                   "operator role."),
     "saved": _("Bank statement matched: {first} – {last}. Payouts of those days are checked against it."),
     "none_stored": _("No bank statement has been matched yet: what was received and what is late cannot be told. "
                      "Upload one above."),
     "stored": _("Bank statements matched so far cover {first} – {last}."),
     "late": _("Late payouts: {late}."),
     "empty": _("No payout is expected from {first} to {last}."),
     "csv": _("Download (CSV)"), "xlsx": _("Download (Excel)"),
     "journal": _("Journal entries for the accountant"),
     "total": _("Expected from today on")}
COLS = {"day": _("Payout day (KST)"), "pgs": _("PG"), "expected": _("Expected (KRW)"),
        "received": _("Received (KRW)"), "status": _("Status"), "transaction_days": _("Transaction days")}

st.title(T["title"])
rules = session.settings().rules
st.caption(T["intro"].format(n=rules.settlement_days_default))
today = now_kst().date()

session_only: str | None = None
bank = st.file_uploader(T["statement"], type=["csv", "xlsx", "xls", "txt"], key="pa_bank", help=T["statement_help"])
if bank is not None:
    try:
        bdigest = loaders.upload_digest(bank)
        table = loaders.read_upload(bdigest, bank.name, None, bank.getvalue())
        # read by what its cells hold (the balance proves money in and out; the sender column is the one naming PGs)
        reading = loaders.bank_reading(bdigest, None, table.sheet, (), ("payouts_ahead",), rules.model_dump_json(),
                                       table.df, recon_payouts.expected_payouts(pd.DataFrame(), rules))
        if reading.stop:
            raise recon_grid.ReconFileError(reading.stop)
        mapping = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in reading.mapping.items()))
        statement = loaders.statement_rows(bdigest, mapping, table.df)
    except recon_grid.ReconFileError as e:
        st.error(inert.say(T["file_error"], err=e))
    else:
        if not reading.mapping.get("sender"):
            st.warning(T["not_sure"])
        merged = report.remember(data.stored_statement(), statement, rules) if len(statement) else None
        kept = f"pa_kept_{bdigest[:16]}"
        if merged and session.operator().can("save_settings"):          # kept for the team and the watcher
            if kept not in st.session_state:
                data.remember_statement(merged)
                st.session_state[kept] = True
        elif merged:
            session_only = merged                                      # a viewer: this view only, nothing kept
            st.caption(T["not_kept"])
        days = [d for d in statement["date"]] if len(statement) else []
        if days:
            st.success(inert.say(T["saved"], first=day_name(min(days)), last=day_name(max(days))))

try:
    with st.spinner():
        payments, _fetched = data.vbank_payments()
except ApiError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()
stored = report.load(session_only or data.stored_statement())
f = report.frame(payments, today, rules, stored)
a = report.summary(f, today, stored)
if stored is None or stored.first is None or stored.last is None:
    st.info(T["none_stored"])
else:
    st.caption(inert.say(T["stored"], first=day_name(stored.first), last=day_name(stored.last)))
    if a.late:
        st.warning(inert.say(T["late"], late=count_amount(a.late, a.late_amount)))

if f.empty:
    st.write(inert.say(T["empty"], first=day_name(today - timedelta(days=report.BACK_DAYS)),
                       last=day_name(today + timedelta(days=10))))
else:
    upcoming = int(f[(f["day"] >= today) & (f["expected"] > 0)]["expected"].sum())
    st.metric(T["total"], krw(upcoming))
    view = f.assign(status=f["status"].map(lambda s: _(report.STATUS_WORDS[s])),
                    day=f["day"].map(day_name))[list(COLS)]
    # What needs someone first (late, short, due today), then the days ahead, then the days already past.
    urgent = f["status"].isin([report.LATE, report.SHORT, report.WAITING])
    key = [(0 if u else 1 if d >= today else 2, (d - today).days if d >= today else (today - d).days)
           for u, d in zip(urgent, f["day"])]
    view = view.iloc[sorted(range(len(view)), key=lambda i: key[i])]
    out = view.rename(columns=COLS)
    shown = out.assign(**{COLS["received"]: view["received"].map(lambda v: "—" if pd.isna(v) else krw(int(v))),
                          COLS["expected"]: view["expected"].map(lambda v: krw(int(v)))})
    st.dataframe(shown, hide_index=True, width="stretch", key="pa_table",
                 column_config={COLS["day"]: st.column_config.TextColumn(width=115),
                                COLS["pgs"]: st.column_config.TextColumn(width=265),
                                COLS["expected"]: st.column_config.TextColumn(width=115),
                                COLS["received"]: st.column_config.TextColumn(width=115),
                                COLS["status"]: st.column_config.TextColumn(width=215)})
    c1, c2 = st.columns(2)
    c1.download_button(T["xlsx"], data=language.later(lambda: export.to_xlsx_book([(T["title"], out)])),
                       file_name=f"payouts-ahead-{today:%Y%m%d}.xlsx", on_click="ignore", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="pa_xlsx")
    c2.download_button(T["csv"], data=language.later(lambda: export.to_csv_bytes(out)), mime="text/csv",
                       file_name=f"payouts-ahead-{today:%Y%m%d}.csv", on_click="ignore", icon=":material/download:",
                       key="pa_csv")
st.page_link("app_pages/journal.py", label=T["journal"], icon=":material/menu_book:")
