"""Approvals: large refunds and bulk changes wait here for a second person."""

import pandas as pd
import streamlit as st

from lib.domain import names, rules
from lib.domain.banks import bank_label
from lib.domain.errors import DeskError
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.names import pg_name
from lib.domain.outcomes import WriteResult
from lib.domain.text import md
from lib.ui import inert, keys, language, outcomes, reveal, send_once, session
from lib.ui import present as ui_present

language.entry_guard()

T = {
    "title": _("Approvals"),
    "intro": _("Refunds above the four-eyes limit and large bulk changes are sent only after a second person — an "
             "approver who did not make the request — approves them. At approval the payment is read again; if it "
             "changed, nothing is sent."),
    "to_decide": _("Waiting for your decision"), "mine": _("Your requests"), "recent": _("Recently decided"),
    "nothing": _("Nothing is waiting for approval."), "none_mine": _("You have made no requests."),
    "own": _("You made this request: another approver must decide it."),
    "not_approver": _("You can follow your requests here; deciding needs the approver role."),
    "requested_by": _("Requested by {who} · {when} · expires {exp}"),
    "approve": _("Approve and send…"), "reject": _("Reject"), "reject_note": _("Why it is rejected (required)"),
    "dialog": _("Approve and send"), "go": _("Approve and send now"), "cancel": _("Cancel"), "sending": _("Sending…"),
    "dialog_body": _("This sends the request below to {where} once, as {who}."),
    "decided": _("Decision recorded: {msg}"), "status": _("Status"),
    "stuck_title": _("Approved refunds without a recorded outcome"),
    "stuck_intro": _("The app that sent these stopped, or their outcome is unknown. Check the payment again: a "
                     "re-read finishes the request (sent, not sent, or still unknown until the PG console is "
                     "checked on the payment page)."),
    "stuck_row": _("{what} — {status}, approved by {who}"),
    "stuck_check": _("Check the payment again"),
    "reveal": _("Show the full account number (recorded in the audit log)"),
    "withdraw": _("Withdraw this request"),
    "holder_differs": _("The bank says this account belongs to “{bank}”, not “{typed}” as typed. The refund goes to "
                        "the account with the typed name. The requester's reason: {why}"),
    "holder_unchecked": _("The bank did not confirm the holder “{typed}” ({how}). The requester's reason: {why}"),
}
st.title(T["title"])
st.caption(T["intro"])
s = session.settings()
who = session.operator()
where = s.where_label
ERRORS = (DeskError,)                # every expected error: shown by lib/ui/outcomes.show_error


def holder_warning(r) -> None:
    """A refund whose holder the bank did not confirm: said first on the card, with both names and the reason."""
    chk = (r.payload or {}).get("holder_check") if r.kind == "refund" else None
    if not chk or chk.get("ok"):
        return
    why = chk.get("override") or "—"
    if chk.get("bank_says"):
        st.warning(inert.say(T["holder_differs"], bank=chk["bank_says"], typed=chk.get("typed") or "—", why=why),
                   icon=":material/person_alert:")
    else:
        st.warning(inert.say(T["holder_unchecked"], typed=chk.get("typed") or "—",
                             how=(_("lookup failed: {msg}").format(msg=chk.get("error") or "") if chk.get("available")
                                  else _("no lookup for this bank")), why=why), icon=":material/person_alert:")


def details(r, now: dict) -> None:
    if r.kind == "refund":
        q = r.payload["request"]
        pay = r.payload["payment"]
        fee = r.payload.get("fee_preview") or {}
        reasons = s.rules.refund_reasons
        rows = {"imp_uid": r.imp_uid, _("Order number"): pay.get("merchant_uid"), _("PG"): pg_name(pay.get("pg_provider")),
                _("Payment amount"): krw(pay.get("amount")), _("Refunded before"): krw(pay.get("cancel_amount")),
                _("Refund"): krw(q["amount"]),
                _("Reason"): " — ".join(x for x in (reasons.get(q["reason_code"], q["reason_code"]), q.get("note")) if x),
                _("Refund account"): f"{bank_label(pay.get('pg_provider'), q['refund_bank'])} {q['refund_account']} "
                                     f"({q['refund_holder']})",   # stored masked
                _("Buyer"): pay.get("buyer_name") or "—",
                _("Bank"): bank_label(pay.get("pg_provider"), q["refund_bank"])}
        chk = r.payload.get("holder_check")
        if chk:                                    # what the bank said when the request was made
            rows[_("Holder name typed")] = chk.get("typed") or "—"
            rows[_("Holder name at the bank")] = chk.get("bank_says") or (
                _("lookup failed: {msg}").format(msg=chk.get("error") or "") if chk.get("available")
                else _("no lookup for this bank"))
            rows[_("Holder check")] = _("matches") if chk.get("ok") else _("does not match — see the reason")
            if chk.get("override"):
                rows[_("Why send anyway (requester)")] = chk["override"]
        if r.status == "pending" and reveal.reveal_toggle(T["reveal"], key=f"rv_{r.id}", where="approval",
                                                      imp_uid=r.imp_uid):
            full = session.desk().sealed_numbers(r.id)
            rows[_("Full account number")] = full.get("refund_account") or "—"
        if fee:
            rows.update({_("Costs you (refund + remittance fee)"): krw(fee.get("refund_cost")),
                         _("Your net for the payment after it"): krw(fee.get("net_after"))})
    else:
        rows = {_("Accounts"): len(r.payload["payments"]),
                _("Change"): _("+{n} days").format(n=r.payload["extend_days"]) if r.payload.get("extend_days")
                else r.payload["to"],
                "imp_uid": ", ".join(p["imp_uid"] for p in r.payload["payments"][:10])
                           + (" …" if len(r.payload["payments"]) > 10 else "")}
    if r.note:
        rows[_("Requester's note")] = r.note
    if r.kind == "refund" and r.status == "pending":      # the payment as it is now (read again for this page)
        now_p = now.get(r.imp_uid)
        if isinstance(now_p, str):
            rows[_("Now")] = now_p
        elif now_p is not None:
            rows[_("Now: refunded so far")] = krw(now_p.cancel_amount)
            rows[_("Now: refundable")] = krw(now_p.refundable)
            moved = rules.changes(rules.Seen(**r.payload["seen"]), now_p)
            rows[_("Changed since the request")] = "; ".join(moved) if moved else _("nothing")
    inert.table(pd.DataFrame({"": {k: str(v) for k, v in rows.items()}}))


focus = st.query_params.get("id")
pending = session.desk().requests(status="pending")
waiting_ids = [r.imp_uid for r in pending if r.kind == "refund"]
try:                                            # one request (100 per call) for every waiting refund's payment
    now_payments: dict = {p.imp_uid: p for p in session.desk().payments(waiting_ids)} if waiting_ids else {}
except DeskError as e:
    now_payments = {i: _("could not read the payment: {msg}").format(msg=e.message) for i in waiting_ids}
st.subheader(T["to_decide"])
if not pending:
    st.info(T["nothing"])
if pending and not who.can("approve_refund"):
    st.caption(T["not_approver"])
for r in pending:
    with st.container(border=True):
        st.markdown(f"**{md(ui_present.describe(r))}**")
        holder_warning(r)
        st.caption(inert.say(T["requested_by"], who=r.requester, when=kst(r.created_at), exp=kst(r.expires_at)))
        details(r, now_payments)
        if r.requester.strip().lower() == who.email.strip().lower():
            st.caption(T["own"])
            if st.button(T["withdraw"], key=f"wd_{r.id}"):
                try:
                    session.desk().withdraw(r.id)
                    st.session_state[keys.flash("approvals")] = ("ok", _("withdrawn"))
                except ERRORS as e:
                    st.session_state[keys.flash("approvals")] = ("err", str(e))
                st.rerun()
            continue
        if not who.can("approve_refund"):
            continue
        c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        if c1.button(T["approve"], type="primary", key=f"ap_{r.id}"):
            st.session_state[keys.APPROVALS_CONFIRM] = st.session_state[keys.APPROVALS_LAST] = r.id
        note = c2.text_input(T["reject_note"], key=f"rjn_{r.id}")
        if c3.button(T["reject"], key=f"rj_{r.id}"):
            try:
                session.desk().reject(r.id, note)
                st.session_state[keys.flash("approvals")] = ("ok", _("rejected"))
            except ERRORS as e:
                st.session_state[keys.flash("approvals")] = ("err", str(e))
            st.rerun()

flash = st.session_state.pop(keys.flash("approvals"), None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(inert.say(T["decided"], msg=flash[1]))

last = st.session_state.get(keys.APPROVALS_LAST)
res = send_once.result(f"approve:{last}") if last else None
if isinstance(res, WriteResult):                        # the outcome of the approval just sent
    outcomes.BOXES[res.outcome](md(res.message))
elif isinstance(res, DeskError):
    outcomes.show_error(res)
cid = st.session_state.get(keys.APPROVALS_CONFIRM)
if cid:
    if send_once.result(f"approve:{cid}") is None:
        target = next((r for r in pending if r.id == cid), None)
        if target is not None:
            @st.dialog(T["dialog"], dismissible=False)
            def confirm():
                st.write(inert.say(T["dialog_body"], where=where, who=who.email))
                st.markdown(f"**{md(ui_present.describe(target))}**")
                send_once.confirm_and_send(f"approve:{cid}", open_key=keys.APPROVALS_CONFIRM, key="ap_go", confirm_label=T["go"],
                                    cancel_label=T["cancel"], sending_label=T["sending"],
                                    perform=lambda: session.desk().approve(cid),
                                    expected_errors=ERRORS)
            confirm()

stuck = [r for r in session.desk().requests(status="approving") + session.desk().requests(status="unknown")
         if r.kind == "refund" and r.imp_uid]
if stuck:
    st.subheader(T["stuck_title"])
    st.caption(T["stuck_intro"])
    for r in stuck:
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        c1.markdown(inert.say(T["stuck_row"], what=ui_present.describe(r), status=names.request_status(r.status),
                           who=r.decided_by or "—"))
        if c2.button(T["stuck_check"], key=f"stuck_{r.id}"):
            try:
                res = session.desk().resolve("refund", r.imp_uid)
                st.session_state[keys.flash("approvals:stuck")] = res.message
            except DeskError as e:
                st.session_state[keys.flash("approvals:stuck")] = str(e)
            st.rerun()
    flash = st.session_state.pop(keys.flash("approvals:stuck"), None)
    if flash:
        st.info(md(flash))

st.subheader(T["mine"])
mine = session.desk().requests(requester=who.email)
if not mine:
    st.caption(T["none_mine"])
else:
    inert.table(pd.DataFrame([{_("Request"): ui_present.describe(r), _("Status"): names.request_status(r.status),
                            _("Created (KST)"): kst(r.created_at),
                            _("Decided by"): r.decided_by or "", _("Decision note"): r.decision_note or "",
                            _("Result"): (r.result or {}).get("message", "")} for r in mine]).set_index(_("Request")))

st.subheader(T["recent"])
decided = [r for r in session.desk().requests() if r.status != "pending"][:50]
if decided:
    st.dataframe(pd.DataFrame([{_("Request"): ui_present.describe(r), _("Requester"): r.requester,
                                _("Status"): names.request_status(r.status),
                                _("Decided by"): r.decided_by or "", _("Decided (KST)"): kst(r.decided_at),
                                _("Result"): (r.result or {}).get("message", "")} for r in decided]),
                 hide_index=True, width="stretch", key="ap_recent")
