"""How the reconciliation page shows what it found: its texts, the result tables' columns in the team's words (PG
trade names, kinds and keys in words, money as whole won, nothing internal or empty shown), the expected settlement,
and the month-end workbook. The page (app_pages/reconcile.py) only composes them."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from lib.domain.fmt import number
from lib.domain.i18n import _
from lib.domain.names import pg_short, recon_status
from lib.domain.text import payment_path
from lib.reports import export, pending
from lib.reports.recon import match
from lib.ui import freshness, language, metrics, recon_close, session


def money(label: str) -> ColumnConfig:
    return st.column_config.NumberColumn(label, format="localized")


def texts() -> SimpleNamespace:
    """The page's texts and column headers in the language of this run (made for each run, as a page's texts are:
    a module constant would keep the language of whoever imported it first)."""
    T: dict[str, Any] = {                # the page's texts ("groups" is the list of the result tabs)
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
    RESOLUTION_COLS = {"resolution_state": _("Resolution"), "resolution_memo": _("Memo"),
                       "resolution_owner": _("Owner"), "resolved_at": _("Resolved at (KST)")}
    return SimpleNamespace(T=T, COLS=COLS, MONEY_COLS=MONEY_COLS, COLUMN_CONFIG=COLUMN_CONFIG, KINDS=KINDS, KEYS=KEYS,
                           RESOLUTION_COLS=RESOLUTION_COLS)


def pg_names(value: object) -> str:
    """PG codes as trade names, several joined ("smartro / smartro_v2" → 스마트로: one trade name, two modules)."""
    if not isinstance(value, str) or not value:
        return ""
    return " / ".join(dict.fromkeys(pg_short(p.strip()) for p in value.split("/") if p.strip()))


def named(df: pd.DataFrame) -> pd.DataFrame:
    """PGs by their trade names, kinds and keys in words, as everywhere else (the codes stay underneath); columns the
    file does not have (all empty) left out and empty text cells empty, never "None"."""
    tx = texts()
    KINDS, KEYS = tx.KINDS, tx.KEYS
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
    tx = texts()
    COLS, MONEY_COLS = tx.COLS, tx.MONEY_COLS
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


def month_end_book(result: match.MatchResult, checked: pd.DataFrame | None, file_id: str) -> bytes:
    """The month end as Excel (whole won as numbers, dates as dates, Korean headers and values): a summary sheet
    first with each group's open and closed rows, then every exception and every payout with its resolution (state,
    memo, owner, when)."""
    tx = texts()
    COLS, MONEY_COLS, RESOLUTION_COLS = tx.COLS, tx.MONEY_COLS, tx.RESOLUTION_COLS
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


def show_expected(exp: pd.DataFrame, fetched: datetime, d_from: date, d_to: date) -> None:
    """The expected settlement: metrics, the net per day as a chart and a table, per day and PG, the downloads."""
    tx = texts()
    T, COLS, MONEY_COLS, COLUMN_CONFIG = tx.T, tx.COLS, tx.MONEY_COLS, tx.COLUMN_CONFIG
    st.subheader(T["expected"])
    freshness.line(fetched, "rc_refresh")
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
