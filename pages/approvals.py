"""Approvals: large refunds and bulk changes wait here for a second person."""

import pandas as pd
import streamlit as st

from lib import approvals as ap
from lib import rules, ui, ui_present
from lib.fmt import kst, krw
from lib.text import md
from lib.services import Busy, Forbidden, InvalidInput, NeedsApproval, Stale

ui.entry_guard()

T = {
    "title": "Approvals",
    "intro": "Refunds above the four-eyes limit and large bulk changes are sent only after a second person — an "
             "approver who did not make the request — approves them. At approval the payment is read again; if it "
             "changed, nothing is sent.",
    "to_decide": "Waiting for your decision", "mine": "Your requests", "recent": "Recently decided",
    "nothing": "Nothing is waiting for approval.", "none_mine": "You have made no requests.",
    "own": "You made this request: another approver must decide it.",
    "not_approver": "You can follow your requests here; deciding needs the approver role.",
    "requested_by": "Requested by {who} · {when} · expires {exp}",
    "approve": "Approve and send…", "reject": "Reject", "reject_note": "Why it is rejected (required)",
    "dialog": "Approve and send", "go": "Approve and send now", "cancel": "Cancel", "sending": "Sending…",
    "dialog_body": "This sends the request below to {where} once, as {who}.",
    "decided": "Decision recorded: {msg}", "status": "Status",
    "withdraw": "Withdraw this request",
}
st.title(T["title"])
st.caption(T["intro"])
s = ui.settings()
who = ui.operator()
where = "the sandbox" if s.is_sandbox else "the live I'mport API"
ERRORS = (Stale, Busy, InvalidInput, NeedsApproval, Forbidden, ui.ApiError)


def details(r: ap.ApprovalRequest, now: dict) -> None:
    if r.kind == "refund":
        q = r.payload["request"]
        pay = r.payload["payment"]
        fee = r.payload.get("fee_preview") or {}
        rows = {"imp_uid": r.imp_uid, "merchant_uid": pay.get("merchant_uid"), "PG": pay.get("pg_provider"),
                "Payment amount": krw(pay.get("amount")), "Refunded before": krw(pay.get("cancel_amount")),
                "Refund": krw(q["amount"]), "Reason": f"[{q['reason_code']}] {q.get('note') or ''}",
                "Refund account": f"{q['refund_bank']} {q['refund_account']} ({q['refund_holder']})"}   # stored masked
        if fee:
            rows.update({"Costs you (refund + remittance fee)": krw(fee.get("refund_cost")),
                         "Your net for the payment after it": krw(fee.get("net_after"))})
    else:
        rows = {"Accounts": len(r.payload["payments"]),
                "Change": f"+{r.payload['extend_days']} days" if r.payload.get("extend_days") else r.payload["to"],
                "imp_uids": ", ".join(p["imp_uid"] for p in r.payload["payments"][:10])
                            + (" …" if len(r.payload["payments"]) > 10 else "")}
    if r.note:
        rows["Requester's note"] = r.note
    if r.kind == "refund" and r.status == "pending":      # the payment as it is now (read again for this page)
        now_p = now.get(r.imp_uid)
        if isinstance(now_p, str):
            rows["Now"] = now_p
        elif now_p is not None:
            rows["Now: refunded so far"] = krw(now_p.cancel_amount)
            rows["Now: refundable"] = krw(now_p.refundable)
            moved = rules.changes(rules.Seen(**r.payload["seen"]), now_p)
            rows["Changed since the request"] = "; ".join(moved) if moved else "nothing"
    ui.table(pd.DataFrame({"": {k: str(v) for k, v in rows.items()}}))


focus = st.query_params.get("id")
pending = ui.desk().requests(status="pending")
waiting_ids = [r.imp_uid for r in pending if r.kind == "refund"]
try:                                            # one request (100 per call) for every waiting refund's payment
    now_payments: dict = {p.imp_uid: p for p in ui.desk().payments(waiting_ids)} if waiting_ids else {}
except ui.ApiError as e:
    now_payments = {i: f"could not read the payment: {e.message}" for i in waiting_ids}
st.subheader(T["to_decide"])
if not pending:
    st.info(T["nothing"])
if pending and not who.can("approve_refund"):
    st.caption(T["not_approver"])
for r in pending:
    with st.container(border=True):
        st.markdown(f"**{md(ui_present.describe(r))}**")
        st.caption(ui.say(T["requested_by"], who=r.requester, when=kst(r.created_at), exp=kst(r.expires_at)))
        details(r, now_payments)
        if r.requester.strip().lower() == who.email.strip().lower():
            st.caption(T["own"])
            if st.button(T["withdraw"], key=f"wd_{r.id}"):
                try:
                    ui.desk().withdraw(r.id)
                    st.session_state["ap_flash"] = ("ok", "withdrawn")
                except ERRORS as e:
                    st.session_state["ap_flash"] = ("err", str(e))
                st.rerun()
            continue
        if not who.can("approve_refund"):
            continue
        c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        if c1.button(T["approve"], type="primary", key=f"ap_{r.id}"):
            st.session_state["ap_confirm"] = st.session_state["ap_last"] = r.id
        note = c2.text_input(T["reject_note"], key=f"rjn_{r.id}")
        if c3.button(T["reject"], key=f"rj_{r.id}"):
            try:
                ui.desk().reject(r.id, note)
                st.session_state["ap_flash"] = ("ok", "rejected")
            except ERRORS as e:
                st.session_state["ap_flash"] = ("err", str(e))
            st.rerun()

flash = st.session_state.pop("ap_flash", None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(ui.say(T["decided"], msg=flash[1]))

last = st.session_state.get("ap_last")
res = st.session_state.get(f"result:ap:{last}") if last else None
if res is not None:                                     # the outcome of the approval just sent
    if hasattr(res, "outcome"):
        {"succeeded": st.success, "failed": st.error, "unknown": st.warning}[res.outcome](md(res.message))
    else:
        st.error(md(str(res) if not isinstance(res, InvalidInput) else " ".join(res.problems)))
cid = st.session_state.get("ap_confirm")
if cid:
    if st.session_state.get(f"result:ap:{cid}") is None:
        target = next((r for r in pending if r.id == cid), None)
        if target is not None:
            @st.dialog(T["dialog"], dismissible=False)
            def confirm():
                st.write(ui.say(T["dialog_body"], where=where, who=who.email))
                st.markdown(f"**{md(ui_present.describe(target))}**")
                ui.confirm_and_send(f"ap:{cid}", open_key="ap_confirm", key="ap_go", confirm_label=T["go"],
                                    cancel_label=T["cancel"], sending_label=T["sending"],
                                    perform=lambda: ui.desk().approve(cid),
                                    expected_errors=ERRORS)
            confirm()

st.subheader(T["mine"])
mine = ui.desk().requests(requester=who.email)
if not mine:
    st.caption(T["none_mine"])
else:
    ui.table(pd.DataFrame([{"Request": ui_present.describe(r), "Status": r.status, "Created (KST)": kst(r.created_at),
                            "Decided by": r.decided_by or "", "Decision note": r.decision_note or "",
                            "Result": (r.result or {}).get("message", "")} for r in mine]).set_index("Request"))

st.subheader(T["recent"])
decided = [r for r in ui.desk().requests() if r.status != "pending"][:50]
if decided:
    st.dataframe(pd.DataFrame([{"Request": ui_present.describe(r), "Requester": r.requester, "Status": r.status,
                                "Decided by": r.decided_by or "", "Decided (KST)": kst(r.decided_at),
                                "Result": (r.result or {}).get("message", "")} for r in decided]),
                 hide_index=True, width="stretch", key="ap_recent")
