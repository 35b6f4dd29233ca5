"""오늘의 요약: the morning digest the watcher posts to the team's chat, here too — and as an Excel file. What moved
since the last business day (Monday: the weekend too) beside the same days a week earlier, the pending accounts, the
payouts ahead and what waits for someone."""

import streamlit as st

from lib.domain import since
from lib.domain.clock import now_kst
from lib.domain.digest import LABELS, MOVED_LABELS, count, count_amount, day_name, span_name
from lib.domain.fmt import krw
from lib.domain.i18n import _
from lib.iamport.errors import ApiError
from lib.reports import ahead as ahead_report
from lib.reports import digest, export
from lib.ui import ahead as ahead_data
from lib.ui import freshness, inert, language, metrics, session

language.entry_guard()

T = {"title": _("Today's summary"), "intro": _("What the team looks at first in the morning (the watcher posts the "
                                                 "same to the team's chat every business day)."),
     "error": _("Could not read the payments: {err}"), "as_of": _("As of {day} (KST)"), "xlsx": _("Download as Excel"),
     "since": _("Since the last business day: {span}"),
     "since_help": _("Counted by when the money moved (a deposit by its deposit time, a refund by its refund time), "
                     "so a day's figures do not change once it is over."),
     "week": _("a week earlier {before}"), "pending": _("Pending accounts"),
     "ahead": _("Payouts ahead"), "ahead_none": _("No payout is expected in the next business days."),
     "ahead_day": _("{day}: {amount} from {pgs} PGs"),
     "no_statement": _("No bank statement has been matched yet, so late payouts cannot be told: match one on "
                       "the Payouts ahead page."),
     "late": _("Late payouts: {late} (bank statement up to {day})."),
     "open_ahead": _("Open payouts ahead"), "waiting": _("Waiting for someone")}
st.title(T["title"])
st.caption(T["intro"])
try:
    with st.spinner():
        d, payments, fetched = ahead_data.today()
except ApiError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()
st.caption(T["as_of"].format(day=day_name(d.day)))
freshness.line(fetched, "td_refresh")

st.subheader(T["since"].format(span=span_name(d.span_from, d.span_to)), help=T["since_help"])
cols = st.columns(4)
for c, k in zip(cols, since.KINDS):
    n, n0 = getattr(d.moved, k), getattr(d.week_before, k)
    c.metric(_(MOVED_LABELS[k]), count(n), delta=count(n - n0) if n != n0 else None, delta_color="off",
             help=T["week"].format(before=count_amount(n0, getattr(d.week_before, f"{k}_amount"))))
    c.caption(inert.say("{now} · {before}", now=krw(getattr(d.moved, f"{k}_amount")),
                        before=T["week"].format(before=count_amount(n0, getattr(d.week_before, f"{k}_amount")))))

st.subheader(T["pending"])
c = st.columns(3)
for i, (k, a) in enumerate((("pending_count", "pending_amount"), ("overdue_count", "overdue_amount"),
                            ("due_today_count", "due_today_amount"))):
    c[i].metric(_(LABELS[k]), count(getattr(d, k)))
metrics.row(st.columns(3), [(_(LABELS[a]), getattr(d, a)) for a in ("pending_amount", "overdue_amount",
                                                                     "due_today_amount")])

st.subheader(T["ahead"])
a = d.ahead or ahead_report.summary(ahead_report.frame(payments, d.day, session.settings().rules, None), d.day, None)
if a.days:
    for p in a.days:
        st.write(inert.say(T["ahead_day"], day=day_name(p.day), amount=krw(p.amount), pgs=p.pgs))
else:
    st.write(T["ahead_none"])
if a.statement_to is None:
    st.info(T["no_statement"])
elif a.late:
    st.warning(inert.say(T["late"], late=count_amount(a.late, a.late_amount), day=day_name(a.statement_to)))
st.page_link("app_pages/payouts_ahead.py", label=T["open_ahead"], icon=":material/event_upcoming:")

st.subheader(T["waiting"])
w = st.columns(3)
for i, k in enumerate(("open_approvals", "unknown_outcomes", "open_exceptions")):
    w[i].metric(_(LABELS[k]), count(getattr(d, k)))
st.download_button(T["xlsx"], data=language.later(lambda: export.to_xlsx_book([(T["title"], digest.frame(d))])),
                   file_name=f"today-{now_kst():%Y%m%d}.xlsx", on_click="ignore", icon=":material/download:",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="today_xlsx")
