"""The refund wizard's last steps (app_pages/refund.py composes them): the confirmation — the refund planned once
(``Desk.plan_refund``), shown as it will be sent, then sent once or asked for approval — and the result."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.db.approvals import ApprovalRequest
from lib.domain import banks, fees, portone_v2
from lib.domain.errors import DeskError
from lib.domain.fmt import digits_only, krw, kst, mask_account, mask_phone
from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.domain.outcomes import WriteResult
from lib.domain.settings import FeeRule
from lib.domain.text import md, without_tag
from lib.reports.refundable import typed_amount_ok
from lib.ui import inert, keys, metrics, open_payment, outcomes, send_once, session
from lib.ui import present as ui_present
from lib.ui.refund_draft import RefundDraft, go, restart
from lib.ui.refund_steps import Texts, payment_summary, problems_box, unknown_panel


# ====================================================================== step 5
def step_confirm(d: RefundDraft, T: Texts, p: Payment, rule: FeeRule) -> None:
    s = session.settings()
    if send_once.result(d.action) is not None:        # just sent: its outcome first (an unknown one in full)
        go(6)
        st.rerun()
    if unknown_panel(p.imp_uid, d.api):
        st.stop()
    bank = portone_v2.bank_option(d.bank or "") if d.v2 else banks.bank_by_code(p.pg_provider, d.bank or "")
    desk = session.desk_for(d.api)            # the payment's own API: V2 refunds go through PortOne V2
    # The refund planned once (lib/services/refund.plan_refund): shown here, then sent or carried by a request.
    plan = desk.plan_refund(p, d.request(), d.current_check())
    request, body = plan.request, plan.body
    st.subheader(T["confirm_title"])
    sent = {"imp_uid": body["imp_uid"], _("Refund amount"): krw(body["amount"]),
            (T["checksum_v2"] if d.v2 else _("Refundable balance it is checked against")): krw(body["checksum"]),
            _("Reason sent to the PG"): body["reason"], _("Account holder"): body["refund_holder"],
            _("Bank"): bank.label if bank else "?",
            _("Account number"): mask_account(digits_only(body["refund_account"]))}
    if d.v2:
        sent[T["holder_row"]] = T["holder_v2"]
    if body.get("refund_tel"):
        sent[_("Customer phone")] = mask_phone(body["refund_tel"])
    if body.get("tax_free") is not None:
        sent[_("Tax-free part")] = krw(body["tax_free"])
    if body.get("vat_amount") is not None:
        sent[_("VAT part")] = krw(body["vat_amount"])
    inert.table(pd.DataFrame({_("Value"): sent}))
    if plan.problems:
        problems_box(plan.problems)
        st.button(T["back"], key="rf_back5", on_click=go, args=(4,))
        st.stop()
    if p.cash_receipt_issued:
        st.warning(T["cash_receipt"], icon=":material/receipt_long:")
    mismatch = d.holder_mismatch()
    if d.holder_needs_reason():
        st.warning(inert.say(T["mismatch_accepted"], name=mismatch or "—", why=d.holder_override))
    typed_ok = True
    if request.amount > s.rules.refund_typed_confirm_above:
        typed = st.text_input(T["typed"].format(amount=krw(request.amount)), key="rf_typed")
        typed_ok = typed_amount_ok(typed, request.amount)
        if typed and not typed_ok:
            st.error(T["typed_bad"])
        elif not typed_ok:
            st.caption(T["typed_first"])                 # why the send button below is disabled, as text
    d.action = d.action or send_once.new_action()
    aid = d.action
    b1, b2 = st.columns([1, 5])
    b1.button(T["back"], key="rf_back5", on_click=go, args=(4,))
    waiting = session.desk().waiting_request(p.imp_uid)
    why_approval = plan.approval_needed
    if waiting or why_approval:
        st.info(md(why_approval) if why_approval else T["needs_approval"].format(limit=krw(s.rules.refund_approval_above)))
        if waiting:
            st.warning(inert.say(T["already_requested"], who=waiting.requester, when=kst(waiting.created_at)))
            st.page_link("app_pages/approvals.py", label=T["see_request"], query_params={"id": waiting.id})
            st.stop()
        st.text_input(T["request_note"], key="rf_request_note")     # read in the callback, from session state
        impact = fees.fee_impact(p.amount, p.cancel_amount, request.amount, rule,
                                 previous_refunds=len(p.cancel_history))

        def make_request() -> ApprovalRequest:
            return desk.request_refund(
                plan, note=st.session_state.get("rf_request_note") or None,   # read in the callback
                fee_preview={"settled": impact.settled, "refund_cost": impact.refund_cost,
                             "net_after": impact.net_after, "balance_after": impact.balance_after,
                             "remittance_fee": impact.remittance_fee, "issuance_fee": impact.issuance_fee})

        b2.button(T["request"], type="primary", key="rf_request", disabled=not typed_ok,
                  on_click=send_once.on_click(aid, make_request, (DeskError,), then=lambda: go(6)),
                  help=None if typed_ok else T["typed_first"])
        st.stop()
    if b2.button(T["send"], type="primary", key="rf_send", disabled=not typed_ok,
                 help=None if typed_ok else T["typed_first"]):
        st.session_state[keys.REFUND_CONFIRM] = aid

    def perform() -> WriteResult:   # lib checks the holder again right before sending, and records it
        return desk.refund(plan, action_key=aid)

    if send_once.result(aid) is not None:
        go(6)
        st.rerun()
    if st.session_state.get(keys.REFUND_CONFIRM) == aid and typed_ok:
        @st.dialog(T["dialog"], dismissible=False)
        def confirm() -> None:
            st.write(inert.say(T["dialog_body"], where=s.where_label, amount=krw(request.amount),
                            bank=bank.label if bank else d.bank,
                            account=mask_account(digits_only(request.refund_account))))
            send_once.confirm_and_send(aid, open_key=keys.REFUND_CONFIRM, key="rf_go", confirm_label=T["go"],
                                cancel_label=T["cancel"], sending_label=T["sending"], perform=perform,
                                expected_errors=(DeskError,))
        confirm()


# ====================================================================== step 6
def step_result(d: RefundDraft, T: Texts) -> None:
    res = send_once.result(d.action)
    if isinstance(res, WriteResult):
        requested = res.ok and res.extra.get("cancel_status") == "requested"   # V2, an asynchronous PG: not done yet
        if requested:
            st.info(T["refund_requested"], icon=":material/hourglass_top:")     # it begins “Refund requested: …”
        else:
            {"succeeded": st.success, "failed": st.error, "unknown": st.warning}[res.outcome](
                T["ok"] if res.ok and not res.confirmed_by_reread else md(res.message))
        if res.payment is not None:
            try:                                 # the figures as the API has them now, not as they were
                now_p = open_payment.read(res.payment.imp_uid, d.api)[0]
            except DeskError:
                now_p = res.payment
            payment_summary(now_p, T)
            if requested:
                metrics.row([st], [(T["requested_amount"], ui_present.requested_refund(now_p))])
            elif res.ok:
                metrics.row([st], [(T["new_cancel"], now_p.cancel_amount)])
                entry = now_p.cancel_history[-1] if now_p.cancel_history else None
                if entry:
                    st.markdown(f"**{T['entry']}**")
                    inert.table(pd.DataFrame({_("Value"): {
                        _("Refunded (KST)"): kst(entry.cancelled_at), _("Amount"): krw(entry.amount),
                        _("Reason"): without_tag(entry.reason), _("PG transaction id"): entry.pg_tid,
                        _("Cancellation id"): entry.cancellation_id}}))
        st.page_link("app_pages/audit.py", label=T["audit_link"], icon=":material/receipt_long:",
                     query_params={"correlation_id": res.correlation_id})
    else:
        outcomes.show(res, T)                    # an approval request made, or why nothing was sent
    st.button(T["start_over"], key="rf_restart", on_click=restart)


