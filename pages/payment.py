"""Payment detail: any imp_uid or merchant_uid, all fields grouped, refundable balance, cancel history."""

import pandas as pd
import streamlit as st

from lib import timeline, ui
from lib.names import STATUS_NAMES, pg_name, status_name
from lib.fmt import kst, krw, mask_account, mask_email, mask_phone, time_left
from lib.services import refund_blockers
from lib.text import md, short

ui.entry_guard()

T = {
    "bad_id": "No payment found: “{q}” cannot name one. {msg}",
    "title": "Payment detail",
    "lookup": "imp_uid or merchant_uid",
    "lookup_help": "Paste an imp_uid (imp_…) or your order number (merchant_uid).",
    "find": "Find",
    "prompt": "Enter an imp_uid or merchant_uid to see a payment.",
    "not_found": "No payment found for “{q}”. The API said: “{msg}”",
    "error": "Could not read the payment: {err}",
    "reveal": "Show personal data (account, phone, e-mail)",
    "order": "Order", "buyer": "Buyer", "vbank": "Virtual account", "pg": "PG", "times": "Timestamps (KST)",
    "money": "Money",
    "refundable": "Refundable balance",
    "history": "Cancel / refund history",
    "no_history": "No cancellations or refunds.",
    "receipt": "Receipt",
    "act_update": "Change amount / due", "act_refund": "Refund this payment",
    "link": "Link to this page",
    "ids": "imp_uid {imp_uid} · merchant_uid {merchant_uid} · PG {pg}",
    "timeline": "What happened (KST)", "waiting": "A refund of this payment is waiting for approval ({who}, {when}).",
    "see_request": "Open the request",
}

st.title(T["title"])
q0 = ui.query_imp_uid() or (st.query_params.get("merchant_uid") or "")
with st.form("lookup", border=False):
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    q = c1.text_input(T["lookup"], value=q0, help=T["lookup_help"])
    if c2.form_submit_button(T["find"], width="stretch", key="pd_find"):
        st.query_params.clear()
        st.query_params["imp_uid" if q.strip().startswith("imp_") else "merchant_uid"] = q.strip()
        st.rerun()
if not q0:
    st.info(T["prompt"])
    st.stop()

p = ui.find_payment(q0, T)

reveal = ui.reveal_toggle(T["reveal"], key="reveal_pd", where="payment", imp_uid=p.imp_uid)
acct = (lambda v: v or "—") if reveal else (lambda v: mask_account(v) or "—")
phone = (lambda v: v or "—") if reveal else (lambda v: mask_phone(v) or "—")
email = (lambda v: v or "—") if reveal else (lambda v: mask_email(v) or "—")

st.subheader(f"{md(short(p.name or p.merchant_uid, 80))} · {md(status_name(p.status))}", anchor=False)
st.caption(ui.say(T["ids"], imp_uid=p.imp_uid, merchant_uid=short(p.merchant_uid), pg=p.pg_provider))
for kind in ("refund", "vbank"):          # a write of this payment with an unknown outcome comes first
    ui.unknown_outcome_panel(kind, p.imp_uid, key=f"pd_unknown_{kind}")
a, b, c = st.columns(3)
who = ui.operator()
if p.is_vbank and p.status == "ready" and who.can("update_vbank"):
    a.page_link("pages/update.py", label=T["act_update"], icon=":material/edit_calendar:", query_params={"imp_uid": p.imp_uid})
if not refund_blockers(p) and who.can("refund"):
    b.page_link("pages/refund.py", label=T["act_refund"], icon=":material/undo:", query_params={"imp_uid": p.imp_uid})
c.page_link("pages/payment.py", label=T["link"], icon=":material/link:", query_params={"imp_uid": p.imp_uid})
waiting = ui.desk().waiting_request(p.imp_uid)
if waiting:
    st.warning(ui.say(T["waiting"], who=waiting.requester, when=kst(waiting.created_at)))
    st.page_link("pages/approvals.py", label=T["see_request"], query_params={"id": waiting.id})
m = st.columns(4)
m[0].metric("Amount", krw(p.amount))
m[1].metric("Refunded so far", krw(p.cancel_amount))
m[2].metric(T["refundable"], krw(p.refundable if p.status == "paid" else 0))
m[3].metric("Status", md(STATUS_NAMES.get(p.status, p.status)), help=md(p.status))


def block(title: str, rows: dict) -> None:
    st.markdown(f"**{title}**")
    st.dataframe(pd.DataFrame({"Field": list(rows), "Value": [str(v) for v in rows.values()]}),
                 hide_index=True, width="stretch")


g1, g2 = st.columns(2)
with g1:
    block(T["order"], {"imp_uid": p.imp_uid, "merchant_uid": p.merchant_uid, "Product": p.name or "—",
                       "Pay method": p.pay_method, "Channel": p.channel, "Currency": p.currency,
                       "Escrow": p.escrow, "Custom data": p.custom_data or "—"})
    block(T["buyer"], {"Name": p.buyer_name or "—", "Phone": phone(p.buyer_tel), "E-mail": email(p.buyer_email),
                       "Address": p.buyer_addr if reveal else ("(hidden)" if p.buyer_addr else "—"),
                       "Postcode": p.buyer_postcode or "—"})
with g2:
    if p.is_vbank:
        block(T["vbank"], {"Bank": f"{p.vbank_name} ({p.vbank_code})", "Account number": acct(p.vbank_num),
                           "Holder": p.vbank_holder or "—", "Issued": kst(p.vbank_issued_at),
                           "Due": kst(p.vbank_date),
                           "Time left": time_left(p.vbank_date) if p.status == "ready" else "—"})
    block(T["pg"], {"PG": pg_name(p.pg_provider), "PG tid": p.pg_tid or "—", "PG MID": p.pg_id or "—",
                    "Card": p.card_name or "—", "Bank (transfer)": p.bank_name or "—"})
    block(T["times"], {"Started": kst(p.started_at), "Paid": kst(p.paid_at), "Failed": kst(p.failed_at),
                       "Cancelled": kst(p.cancelled_at), "Fail reason": p.fail_reason or "—",
                       "Cancel reason": p.cancel_reason or "—"})

st.markdown(f"**{T['history']}**")
if p.cancel_history:
    st.dataframe(pd.DataFrame([{"Cancelled (KST)": kst(h.cancelled_at), "Amount (₩)": h.amount, "Reason": h.reason,
                                "PG tid": h.pg_tid, "Cancellation id": h.cancellation_id,
                                "Receipt": ui.safe_url(h.receipt_url)} for h in p.cancel_history]),
                 hide_index=True, width="stretch",
                 column_config={"Amount (₩)": st.column_config.NumberColumn(format="localized"),
                                "Receipt": st.column_config.LinkColumn(display_text="receipt")})
else:
    st.caption(T["no_history"])
if ui.safe_url(p.receipt_url):
    st.link_button(T["receipt"], ui.safe_url(p.receipt_url), icon=":material/receipt:")


st.markdown(f"**{T['timeline']}**")
events = timeline.build(p, ui.audit().records(imp_uid=p.imp_uid), ui.settings().rules)
st.dataframe(pd.DataFrame([{"When (KST)": kst(e.at), "What": e.what, "Who": e.who, "Detail": e.detail}
                           for e in events]), hide_index=True, width="stretch", key="pd_timeline")
