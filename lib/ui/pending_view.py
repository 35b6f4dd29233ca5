"""The pending list's texts and its live strip: deposits as they land (an account paid meanwhile leaves the list with a
notice; deposits since this person last looked, each linking to its payment) and the outage sentence, refreshed on
their own timer. The page (app_pages/pending.py) composes them with the list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from lib.domain.clock import KST, now_kst
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.ui import inert, keys, loaders, session

SEEN = "deposits_seen"


def texts() -> dict[str, Any]:
    """The page's texts in the language of this run (made for each run: a module constant would keep the language of
    whoever imported it first)."""
    T = {
        "title": _("Pending virtual accounts"),
        "intro": _("Virtual accounts issued and still waiting for the customer's deposit (입금대기). Times are KST."),
        "refresh": _("Refresh"),
        "filters": _("Filters"),
        "range_days": _("Issued within the last N days"),
        "range_help": _("Ranges longer than 90 days are fetched in 90-day windows."),
        "pg": _("PG"),
        "bank": _("Bank"),
        "due_window": _("Due"),
        "due_labels": {"all": _("Any time"), "overdue": _("Overdue"), "today": _("Due today (KST)"), "next3": _("Next 3 days"),
                       "next7": _("Next 7 days"), "custom": _("Custom range")},
        "due_from": _("Due from"), "due_to": _("Due until"),
        "amount_min": _("Amount at least (₩)"), "amount_max": _("Amount at most (₩)"),
        "search": _("Search merchant_uid, imp_uid or buyer name"),
        "reveal": _("Show full account and phone numbers"),
        "m_count": _("Pending accounts"), "m_total": _("Amount that can still arrive"), "m_overdue": _("Overdue"),
        "m_overdue_amt": _("Overdue amount"), "m_today": _("Due today"),
        "m_count_help": _("{n} of them can still be paid (not yet past their due date)."),
        "m_total_help": _("What customers can still pay in; the overdue amount ({overdue}) can no longer arrive."),
        "overdue_view": _("Show the {n} overdue accounts"), "all_view": _("Show every pending account"),
        "revoke_overdue": _("Cancel these {n} overdue accounts…"),
        "outage": _("I'mport is not answering (since {since}: “{message}”). What you see was read at {at} and is "
                    "read again by itself once I'mport answers."),
        "outage_never": _("I'mport is not answering (since {since}: “{message}”). Deposits could not be read yet; "
                          "they are read again by itself once I'mport answers."),
        "none": _("No pending virtual account matches these filters."),
        "select_hint": _("Select a row to open it; select several to extend their due dates together."),
        "open": _("Open payment detail"), "change": _("Change amount / due"), "bulk": _("Extend due dates of {n} selected"),
        "bulk_revoke": _("Cancel {n} selected accounts"),
        "chart_due": _("Pending amount by due date"), "chart_pg": _("Pending amount by PG"),
        "csv": _("Download CSV"), "xlsx": _("Download Excel"),
        "col": {"imp_uid": _("imp_uid"), "merchant_uid": _("merchant_uid"), "buyer_name": _("Buyer"), "amount": _("Amount (₩)"),
                "vbank_name": _("Bank"), "vbank_num": _("Account number"), "vbank_holder": _("Holder"), "pg_provider": _("PG"),
                "issued_at": _("Issued (KST)"), "due": _("Due (KST)"), "time_left": _("Time left"), "link": _("Detail")},
        "load_error": _("Could not load pending accounts: {err}. Check the connection shown in the sidebar and press "
                        "Refresh."),
        "selected": _("Selected ({n}) — the actions below act on exactly these payments:"),
        "selected_v1": _("Selected ({n}) — the actions below act on the {m} V1 (I'mport) payments among them only:"),
        "dropped": _("{n} selected payment(s) are no longer in the list (paid, cancelled or filtered out) and were "
                   "unselected: {ids}."),
        "clear": _("Clear the selection"),
        "views": _("Saved views"), "no_view": _("(choose a view)"), "apply": _("Apply"), "save_as": _("Save these filters as"),
        "paid_meanwhile": _("Paid meanwhile, so no longer pending: {who}"),
        "new_deposits": _("{n} new deposits since you last looked"), "seen": _("Mark as seen"),
        "more": _("and {n} more"),
        "loaded": _("{n} pending in the last {days} days"), "m_today_help": _("{amount} due today, not yet overdue"),
        "open_short": _("Open"), "amount": _("Amount"), "all": _("All"), "axis_due": _("Due date (KST)"), "axis_state": _("State"),
        "api": _("API"), "api_help": _("Which API the payment was taken through: V1 (I'mport) or V2 (PortOne)."),
        "v2_bulk": _("{n} selected V2 (PortOne) accounts are left out of these bulk actions: close them one by one on "
                     "their payment page (V2 cannot change an issued account)."),
        "save": _("Save view"), "saved": _("Saved view “{name}”."), "no_save": _("Saving views needs the operator role."),
    }
    return T


def due_soonest_first(df: pd.DataFrame) -> pd.DataFrame:
    """What can still be paid first, the soonest due on top; then the overdue ones, the most recently overdue first
    (long-overdue accounts, which can no longer arrive, never push the live ones down)."""
    live = df[~df["overdue"]].sort_values("due", kind="stable")
    late = df[df["overdue"]].sort_values("due", ascending=False, kind="stable")
    return pd.concat([live, late])


def deposit_line(r: dict) -> str:
    return f"{r.get('buyer_name') or '—'} · {krw(r.get('amount') or 0)} · {kst(datetime.fromtimestamp(r['paid_at'], KST))}"


def deposits_as_they_land() -> None:
    """Every refresh interval, without touching the filters or the list: an account on this list paid meanwhile makes
    the list drop it (with a notice); deposits since this person last looked are listed, each linking to its payment."""
    landed = loaders.recent_deposits()
    listed = set(st.session_state.get(keys.PENDING_LISTED, ()))
    read_at = st.session_state.get(keys.PENDING_READ_AT, 0.0)
    # paid after the list was read (the same window the list leaves out: lib/ui/loaders.load_pending)
    gone = [r for r in loaders.paid_since(landed, read_at - loaders.DEPOSIT_OVERLAP_S) if r["imp_uid"] in listed]
    if gone:
        st.session_state[keys.flash("pending:paid")] = ", ".join(deposit_line(r) for r in gone[:5]) + (
            " " + texts()["more"].format(n=len(gone) - 5) if len(gone) > 5 else "")
        st.session_state[keys.PENDING_LISTED] = sorted(listed - {r["imp_uid"] for r in gone})
        st.rerun(scope="app")
    who = session.operator()
    shared = session.db().shared
    mark = shared.mark(who.email, SEEN)
    since = float(mark) if mark else now_kst().timestamp() - 86_400       # first visit: the last day's deposits
    new = loaders.paid_since(landed, since)
    if not new:
        return
    with st.expander(f":material/savings: {texts()['new_deposits'].format(n=len(new))}", expanded=len(new) <= 2):
        st.button(texts()["seen"], key="pending_seen", on_click=shared.advance_mark,
                  args=(who.email, SEEN, max(r["paid_at"] for r in new)))
        for r in new[:5]:
            st.page_link("app_pages/payment.py", label=inert.say("{line}", line=deposit_line(r)),
                         query_params={"imp_uid": r["imp_uid"], **({"api": "v2"} if r.get("api") == "v2" else {})},
                         icon=":material/receipt:")
        if len(new) > 5:
            st.caption(texts()["more"].format(n=len(new) - 5))


def outage_notice(days: int) -> None:
    """One sentence while I'mport does not answer: since when, its own message, and the age of what is shown."""
    out = loaders.api_outage(("pending", days))
    if out is None:
        return
    since, message = out
    at = loaders.deposits_read_at()
    if at is None:
        st.warning(inert.say(texts()["outage_never"], since=kst(since, seconds=True), message=message),
                   icon=":material/cloud_off:")
    else:
        st.warning(inert.say(texts()["outage"], since=kst(since, seconds=True), message=message,
                             at=kst(at, seconds=True)), icon=":material/cloud_off:")


@st.fragment(run_every=timedelta(seconds=session.settings().refresh_seconds))
def live_strip(days: int) -> None:
    """The deposits strip and the outage sentence, refreshed on their own timer (never before the list: a read that
    waits for I'mport must not hold the page)."""
    deposits_as_they_land()
    outage_notice(days)
