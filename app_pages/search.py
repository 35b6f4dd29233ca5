"""결제 찾기: any payment by a name, a phone number in any format, an e-mail, an order number, an imp_uid or an amount,
over a period and the statuses chosen; each result links to its payment page. Personal data masked by role."""

import time
from datetime import timedelta

import pandas as pd
import streamlit as st

from lib.domain import status as person_status
from lib.domain.clock import now_kst
from lib.domain.fmt import krw, kst, mask_email, mask_phone
from lib.domain.i18n import _
from lib.domain.names import pg_name, status_name
from lib.iamport.errors import ApiError
from lib.reports import search
from lib.ui import freshness, inert, language, loaders, open_payment, session
from lib.ui import reveal as ui_reveal

language.entry_guard()

T = {
    "title": _("Find a payment"),
    "intro": _("A name (or part of it), a phone number in any format, an e-mail address, an order number, an imp_uid "
               "or an amount (₩55,000)."),
    "q": _("Search"), "q_help": _("010-1234-5678, 01012345678, +82 10… and the last four digits all find a phone."),
    "period": _("Payments started between (KST)"), "statuses": _("Status"),
    "find": _("Find"), "prompt": _("Type what the customer told you."),
    "too_long": _("Choose a period of at most {days} days."),
    "error": _("Could not read the payments: {err}"),
    "found": _("{n:,} payments found"), "found_cut": _("{n:,} payments found; the newest {shown:,} are shown — narrow the "
                                                       "search or the period."),
    "none": _("No payment matches “{q}” in this period and these statuses."),
    "reveal": _("Show full phone numbers and e-mail addresses"),
    "open": _("open"),
    "open_one": _("Open the payment: {buyer} · {amount} · {status} · order {order}"),
    "masked_only": _("Your role sees phone numbers and e-mail addresses masked, so they are found by what you see — "
                     "the last four digits, the masked e-mail (ab***@example.com) — or when typed whole."),
    "api": _("API"),
    "limited": _("Too many searches narrowing a phone number or an e-mail address in a row: wait {minutes} minutes, "
                 "or ask a colleague who may see personal data. This was recorded in the audit log."),
}


@st.cache_resource(show_spinner=False)
def _narrowing() -> search.NarrowingGuard:
    """Narrowing searches counted per person for every session of this instance."""
    return search.NarrowingGuard()
MAX_DAYS = 366

st.title(T["title"])
st.caption(T["intro"])
today = now_kst().date()
q0 = (st.query_params.get("q") or "")[:100]
with st.form("search", border=False):
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    q = c1.text_input(T["q"], value=q0, help=T["q_help"], key="sr_q", max_chars=100)
    period = c2.date_input(T["period"], value=(today - timedelta(days=89), today), max_value=today, key="sr_period")
    statuses = st.pills(T["statuses"], list(search.STATUSES), selection_mode="multi", default=list(search.STATUSES),
                        format_func=status_name, key="sr_status")
    apis = st.pills(T["api"], ["v1", "v2"], selection_mode="multi", default=["v1", "v2"], key="sr_api",
                    format_func=open_payment.api_words) if open_payment.both() else None
    if st.form_submit_button(T["find"], type="primary", key="sr_find"):
        st.query_params["q"] = q.strip()
        q0 = q.strip()

query = search.parse(q0)
if query is None:
    st.info(T["prompt"])
    st.stop()
d_from, d_to = (period if isinstance(period, tuple) and len(period) == 2 else (today - timedelta(days=89), today))
if (d_to - d_from).days >= MAX_DAYS:
    st.error(T["too_long"].format(days=MAX_DAYS))
    st.stop()
try:
    df, fetched = loaders.load_search_frame(d_from, d_to)
except ApiError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()
who = session.actor()
may_reveal = who is not None and who.can("reveal_personal")
asked = (q0, str(d_from), str(d_to))
checked = st.session_state.get("sr_checked")
if not checked or checked[0] != asked:                   # once per search, not on every rerun of its results
    narrowing, allowed = _narrowing().check(who.email if who else "", query, time.time())
    hidden = search.reaches_hidden(query)
    if not allowed or narrowing or (may_reveal and hidden):
        ui_reveal.record_search(who, query.kind, len(query.value), allowed=allowed, narrowing=narrowing,
                             revealed=bool(may_reveal and hidden))
    st.session_state["sr_checked"] = checked = (asked, allowed)
if not checked[1]:
    st.error(T["limited"].format(minutes=int(search.NARROWING_WINDOW_S // 60)))
    st.stop()
found, n = search.search(df, query, tuple(statuses or search.STATUSES), reveal=may_reveal,
                         apis=tuple(apis) if apis else None)
if not may_reveal and search.reaches_hidden(query):
    st.caption(T["masked_only"])
freshness.line(fetched, "sr_refresh")
if not n:
    st.warning(inert.say(T["none"], q=q0))
    st.stop()
st.success(T["found"].format(n=n) if n == len(found) else T["found_cut"].format(n=n, shown=len(found)))
if n == 1:                                             # the one the caller meant: straight to it
    one = found.iloc[0]
    st.page_link("app_pages/payment.py", icon=":material/receipt:", query_params=open_payment.params(one["imp_uid"],
                                                                                                   one["api"]),
                 label=inert.say(T["open_one"], buyer=one["buyer_name"] or "—", amount=krw(one["amount"]),
                                 status=person_status.labels(person_status.column(found.head(1))).iloc[0],
                                 order=one["merchant_uid"]))     # the same words as the table below
show = ui_reveal.reveal_toggle(T["reveal"], key="reveal_sr", where="search")
table = pd.DataFrame({
    "open": T["open"],
    "started": [kst(t) for t in found["started"]],
    "status": person_status.labels(person_status.column(found)),
    "buyer": found["buyer_name"],
    "phone": found["buyer_tel"] if show else [mask_phone(x) for x in found["buyer_tel"]],
    "email": found["buyer_email"] if show else [mask_email(x) for x in found["buyer_email"]],
    "amount": [krw(x) for x in found["amount"]],
    "merchant_uid": found["merchant_uid"],
    "pg": [pg_name(x) for x in found["pg_provider"]],
    **({"api": [open_payment.api_words(x) for x in found["api"]]} if open_payment.both() else {}),
})
st.dataframe(table, hide_index=True, width="stretch", key="sr_results", selection_mode="single-cell",   # one click opens
             on_select=open_payment.on_select("sr_results", found["imp_uid"].tolist(), apis=found["api"].tolist()),
             column_config={"open": open_payment.column_config(_("Payment")),
                            "started": _("Started (KST)"), "status": _("Status"), "buyer": _("Buyer"),
                            "phone": _("Phone"), "email": _("E-mail"), "amount": _("Amount"),
                            "merchant_uid": _("Order number"), "pg": _("PG"), "api": T["api"]})
open_payment.follow()
