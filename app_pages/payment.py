"""Payment detail: any imp_uid or merchant_uid, all fields grouped, refundable balance, cancel history."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from lib.domain import capabilities, portone_v2
from lib.domain.errors import DeskError
from lib.domain.fmt import krw, kst, mask_account, mask_email, mask_phone, time_left
from lib.domain.i18n import _
from lib.domain.names import method_name, pg_name
from lib.domain.rules import Seen, refund_blockers, revoke_blockers
from lib.domain.text import md, short, without_tag
from lib.reports import timeline
from lib.ui import inert, keys, language, loaders, metrics, open_payment, outcomes, send_once, session, stores
from lib.ui import present as ui_present
from lib.ui import reveal as ui_reveal

language.entry_guard()
WRITE_ERRORS = (DeskError,)          # every expected error: shown by lib/ui/outcomes.show_error

T = {
    "bad_id": _("No payment found: “{q}” cannot name one. {msg}"),
    "title": _("Payment detail"),
    "lookup": _("imp_uid or merchant_uid"),
    "lookup_help": _("Paste an imp_uid (imp_…) or your order number (merchant_uid)."),
    "find": _("Find"),
    "prompt": _("Enter an imp_uid or merchant_uid to see a payment."),
    "not_found": _("No payment found for “{q}”. The API said: “{msg}”"),
    "error": _("Could not read the payment: {err}"),
    "reveal": _("Show personal data (account, phone, e-mail)"),
    "order": _("Order"), "buyer": _("Buyer"), "vbank": _("Virtual account"), "pg": _("PG"), "times": _("Timestamps (KST)"),
    "money": _("Money"),
    "refundable": _("Refundable balance"),
    "history": _("Cancel / refund history"),
    "no_history": _("No cancellations or refunds."),
    "receipt": _("Receipt"),
    "act_update": _("Change amount / due"), "act_refund": _("Refund this payment"),
    "link": _("Link to this page"),
    "ids": _("imp_uid {imp_uid} · merchant_uid {merchant_uid} · PG {pg}"),
    "timeline": _("What happened (KST)"), "waiting": _("A refund of this payment is waiting for approval ({who}, {when})."),
    "see_request": _("Open the request"),
    "act_revoke": _("Cancel this virtual account…"),
    "revoke_title": _("Cancel the virtual account"),
    "revoke_body": _("The account {bank} {account} for {amount} (order {merchant_uid}) will be closed: the customer can no "
                     "longer pay into it, and the payment reads Cancelled. Nothing was paid in, so no money moves. This "
                     "cannot be undone — a new account would have to be issued. Sent to {where}."),
    "revoke_note": _("Why (kept in the audit log, e.g. order cancelled)"),
    "revoke_go": _("Cancel the account"), "revoke_back": _("Keep it open"), "sending": _("Sending…"),
    "revoke_blocked": _("This account cannot be cancelled here: {why}"),
    "stale": _("The payment changed since it was shown, so nothing was sent: {changes}."),
    "busy": _("Nothing was sent: {msg}"), "invalid": _("Nothing was sent:"),
    "error_send": _("The API could not be reached: {err}"),
    "just_paid": _("The deposit has just landed: this account is paid."),
    "cash_receipt": _("Cash receipt"), "cash_yes": _("issued"), "cash_no": _("not issued"),
    "api": _("API: {api}"), "act_close": _("Close this virtual account…"), "close_title": _("Close the virtual account"),
    "close_go": _("Close the account"), "v2_where": _("PortOne V2"),
    "requested": _("Refund requested: {amount} is being refunded by the PG. PortOne will confirm it (its webhook or a "
                   "re-read of the payment); until then it is not counted as refunded. Do not send it again."),
}

st.title(T["title"])
q0 = session.query_imp_uid() or (st.query_params.get("merchant_uid") or "")
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

p, api = open_payment.find(q0, T)          # through its own API (V1 or V2): the link's ?api=, else found
dk, v2 = session.desk_for(api), api == portone_v2.V2
can = capabilities.actions(api, p.pg_provider, session.settings().rules)
link = open_payment.params(p.imp_uid, api)

if p.status == "ready" and p.is_vbank and not v2:         # the deposit feed reads V1
    @st.fragment(run_every=timedelta(seconds=session.settings().refresh_seconds))
    def watch_deposit() -> None:
        """While the account waits, a deposit that lands shows without pressing anything: the page reads it anew."""
        if any(r["imp_uid"] == p.imp_uid for r in loaders.recent_deposits()):
            st.session_state[keys.flash(f"payment:{p.imp_uid}")] = True
            st.rerun(scope="app")
    watch_deposit()
if st.session_state.pop(keys.flash(f"payment:{p.imp_uid}"), None) and p.status == "paid":
    st.success(T["just_paid"])

reveal = ui_reveal.reveal_toggle(T["reveal"], key="reveal_pd", where="payment", imp_uid=p.imp_uid)
acct = (lambda v: v or "—") if reveal else (lambda v: mask_account(v) or "—")
phone = (lambda v: v or "—") if reveal else (lambda v: mask_phone(v) or "—")
email = (lambda v: v or "—") if reveal else (lambda v: mask_email(v) or "—")

st.subheader(f"{md(short(p.name or p.merchant_uid, 80))} · {md(ui_present.status_words(p))}", anchor=False)
st.caption(inert.say(T["ids"], imp_uid=p.imp_uid, merchant_uid=short(p.merchant_uid), pg=pg_name(p.pg_provider))
           + (" · " + T["api"].format(api=open_payment.api_words(api)) if open_payment.both() else ""))
for kind in ("refund", "update_vbank", "revoke_vbank"):          # a write of this payment with an unknown outcome comes first
    outcomes.unknown_outcome_panel(kind, p.imp_uid, key=f"pd_unknown_{kind}", api=api)
a, b, c, d = st.columns(4)
who = session.operator()
# What shows is the capability matrix's (lib/domain/capabilities.py) and the payment's state: V2 "changes" an account
# by closing it and issuing a new one (the update page says how, with its warning).
if p.is_vbank and p.status == "ready" and who.can("update_vbank") and (
        not v2 or capabilities.offers_change(api, p.pg_provider) == capabilities.Capability.CLOSE_AND_REISSUE):
    a.page_link("app_pages/update.py", label=T["act_update"], icon=":material/edit_calendar:", query_params=link)
if (capabilities.Capability.REFUND in can or not v2) and who.can("refund") and not (
        portone_v2.refund_blockers(p) if v2 else refund_blockers(p)):
    b.page_link("app_pages/refund.py", label=T["act_refund"], icon=":material/undo:", query_params=link)
c.page_link("app_pages/payment.py", label=T["link"], icon=":material/link:", query_params=link)
if ui_present.requested_refund(p):
    st.info(T["requested"].format(amount=krw(ui_present.requested_refund(p))), icon=":material/hourglass_top:")

# 가상계좌 발급취소: one action per payment shown (a new one once this one has an outcome)
REVOKE_ACTION = f"revoke:{p.imp_uid}"
revoke_aid = st.session_state.setdefault(REVOKE_ACTION, send_once.new_action())
revoked = send_once.result(revoke_aid)
if revoked is not None:
    outcomes.show(revoked, T | {"error": T["error_send"]})
    if st.button(_("Done"), key="pd_revoke_done"):
        st.session_state.pop(REVOKE_ACTION, None)
        st.rerun()
elif p.is_vbank and p.status == "ready" and who.can("revoke_vbank") and (capabilities.Capability.REVOKE in can
                                                                         or not v2):
    why_not = portone_v2.revoke_blockers(p) if v2 else revoke_blockers(p)
    if why_not:
        d.caption(inert.say(T["revoke_blocked"], why=" ".join(why_not)))
    elif d.button(T["act_close"] if v2 else T["act_revoke"], icon=":material/block:", key="pd_revoke"):
        st.session_state[keys.REVOKE_CONFIRM] = revoke_aid
    if st.session_state.get(keys.REVOKE_CONFIRM) == revoke_aid and not why_not:
        seen = Seen.of(p)

        @st.dialog(T["close_title"] if v2 else T["revoke_title"], dismissible=False)
        def confirm_revoke():
            st.write(inert.say(T["revoke_body"], bank=p.vbank_name or "", account=mask_account(p.vbank_num),
                               amount=krw(p.amount), merchant_uid=short(p.merchant_uid),
                               where=T["v2_where"] if v2 else session.settings().where_label))
            st.text_input(T["revoke_note"], key="pd_revoke_note", max_chars=200)
            send_once.confirm_and_send(
                revoke_aid, open_key=keys.REVOKE_CONFIRM, key="pd_revoke_go",
                confirm_label=T["close_go"] if v2 else T["revoke_go"],
                cancel_label=T["revoke_back"], sending_label=T["sending"],
                perform=lambda: dk.revoke(p.imp_uid, seen,
                                                      note=st.session_state.get("pd_revoke_note") or None,
                                                      action_key=revoke_aid),
                expected_errors=WRITE_ERRORS)
        confirm_revoke()
waiting = session.desk().waiting_request(p.imp_uid)
if waiting:
    st.warning(inert.say(T["waiting"], who=waiting.requester, when=kst(waiting.created_at)))
    st.page_link("app_pages/approvals.py", label=T["see_request"], query_params={"id": waiting.id})
m = st.columns(4)
metrics.row(m[:3], [(_("Amount"), p.amount), (_("Refunded so far"), p.cancel_amount),
                    (T["refundable"], max(0, p.refundable - ui_present.requested_refund(p)) if p.status == "paid"
                     else 0)])
m[3].metric(_("Status"), md(ui_present.status_words(p)))


def block(title: str, rows: dict) -> None:
    st.markdown(f"**{title}**")
    st.dataframe(pd.DataFrame({_("Field"): list(rows), _("Value"): [str(v) for v in rows.values()]}),
                 hide_index=True, width="stretch")


g1, g2 = st.columns(2)
with g1:
    block(T["order"], {_("imp_uid"): p.imp_uid, _("Order number (merchant_uid)"): p.merchant_uid,
                       _("Product"): p.name or "—", _("Pay method"): method_name(p.pay_method),
                       _("Channel"): p.channel, _("Currency"): p.currency, _("Escrow"): _("yes") if p.escrow else _("no"),
                       _("Custom data"): p.custom_data or "—",
                       T["cash_receipt"]: T["cash_yes"] if p.cash_receipt_issued else T["cash_no"]})
    block(T["buyer"], {_("Name"): p.buyer_name or "—", _("Phone"): phone(p.buyer_tel), _("E-mail"): email(p.buyer_email),
                       _("Address"): p.buyer_addr if reveal else (_("(hidden)") if p.buyer_addr else "—"),
                       _("Postcode"): p.buyer_postcode or "—"})
with g2:
    if p.is_vbank:
        block(T["vbank"], {_("Bank"): f"{p.vbank_name} ({p.vbank_code})", _("Account number"): acct(p.vbank_num),
                           _("Holder"): p.vbank_holder or "—", _("Issued"): kst(p.vbank_issued_at),
                           _("Due"): kst(p.vbank_date),
                           _("Time left"): time_left(p.vbank_date) if p.status == "ready" else "—"})
    block(T["pg"], {_("PG"): pg_name(p.pg_provider), _("PG transaction id"): p.pg_tid or "—",
                    _("PG merchant id"): p.pg_id or "—",
                    _("Card"): p.card_name or "—", _("Bank (transfer)"): p.bank_name or "—"})
    block(T["times"], {_("Started"): kst(p.started_at), _("Paid"): kst(p.paid_at), _("Failed"): kst(p.failed_at),
                       _("Cancelled"): kst(p.cancelled_at), _("Fail reason"): p.fail_reason or "—",
                       _("Cancel reason"): without_tag(p.cancel_reason) or "—"})

st.markdown(f"**{T['history']}**")
if p.cancel_history:
    hist = pd.DataFrame([{"at": kst(h.cancelled_at), "amount": h.amount, "reason": without_tag(h.reason),
                          "pg_tid": h.pg_tid or "", "cancellation_id": h.cancellation_id or "",
                          "receipt": inert.safe_url(h.receipt_url)} for h in p.cancel_history])

    def px(col: str, header: str, fmt=str) -> int:          # every amount and id whole at 1280×800
        return ui_present.column_px(header, hist[col], fmt=fmt)
    st.dataframe(hist, hide_index=True, width="stretch",
                 column_config={"at": st.column_config.TextColumn(_("Refunded (KST)"), width=px("at", _("Refunded (KST)"))),
                                "reason": _("Reason"),
                                "pg_tid": st.column_config.TextColumn(_("PG transaction id"),
                                                                      width=px("pg_tid", _("PG transaction id"))),
                                "cancellation_id": st.column_config.TextColumn(
                                    _("Cancellation id"), width=px("cancellation_id", _("Cancellation id"))),
                                "amount": st.column_config.NumberColumn(_("Amount (₩)"), format="localized",
                                                                        width=px("amount", _("Amount (₩)"), "{:,}".format)),
                                "receipt": st.column_config.LinkColumn(_("Receipt"), display_text=_("receipt"))})
else:
    st.caption(T["no_history"])
if inert.safe_url(p.receipt_url):
    st.link_button(T["receipt"], inert.safe_url(p.receipt_url), icon=":material/receipt:")


st.markdown(f"**{T['timeline']}**")
events = timeline.build(p, stores.audit_log().records(imp_uid=p.imp_uid), session.settings().rules)
st.dataframe(pd.DataFrame([{_("When (KST)"): kst(e.at), _("Event"): e.what, _("Who"): e.who, _("Detail"): e.detail}
                           for e in events]), hide_index=True, width="stretch", key="pd_timeline")
