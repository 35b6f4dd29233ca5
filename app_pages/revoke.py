"""Cancel several pending virtual accounts at once (가상계좌 발급취소): accounts that will never be paid — e.g. every
account overdue for more than N days. One cancellation per account, each locked, re-read and audited on its own; the
number of accounts is typed to confirm (it cannot be undone); more than the four-eyes count becomes a request."""

import pandas as pd
import streamlit as st

from lib.domain import names, portone_v2
from lib.domain.errors import DeskError
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.kinds import BulkOutcome
from lib.domain.names import pg_name
from lib.domain.outcomes import BulkRow
from lib.domain.rules import revoke_blockers
from lib.reports import pending
from lib.ui import id_list, inert, keys, language, loaders, open_payment, outcomes, send_once, session

language.entry_guard()

T = {
    "title": _("Cancel several virtual accounts"),
    "intro": _("Close accounts that will never be paid (an order cancelled, a customer who ordered twice): the customer "
               "can no longer pay into them. Nothing was paid in, so no money moves; it cannot be undone."),
    "ids": _("imp_uids (one per line)"),
    "overdue_days": _("Overdue for more than (days)"), "pick_overdue": _("Select every account overdue that long"),
    "picked": _("{n} accounts overdue for more than {days} days were selected."),
    "none": _("Paste imp_uids, select rows on the Pending accounts page, or select the overdue accounts above."),
    "too_many": _("At most {n} accounts at once."),
    "bad_ids": _("Line {n} is not an imp_uid (“{v}”): remove it or correct it. Nothing was read."),
    "error": _("Could not read the payments: {err}"),
    "preview": _("Preview"), "none_eligible": _("None of these accounts can be cancelled: the Check column says why."),
    "type": _("Type {n} (the number of accounts) to confirm"), "type_first": _("Type {n} above to enable sending."),
    "send": _("Cancel {n} accounts…"), "dialog": _("Confirm: cancel {n} accounts"),
    "dialog_body": _("This sends {n} cancellations (one per account) to {where}, each once. The customers can no longer "
                     "pay into these accounts."),
    "go": _("Cancel the accounts"), "back": _("Keep them open"), "sending": _("Sending…"),
    "needs_approval": _("Cancelling more than {n} accounts at once needs a second person's approval: send the request, "
                        "and an approver carries it out from the Approvals page."),
    "request": _("Request approval to cancel {n} accounts"), "requested": _("Request sent — waiting for an approver."),
    "see_request": _("Open the request"),
    "summary": _("{ok} of {n} accounts cancelled. Each row below says what happened to it."),
    "again": _("Cancel other accounts"),
    "stale": _("The payment changed since you loaded it, so nothing was sent: {changes}."),
    "busy": _("Nothing was sent: {msg}"), "invalid": _("Nothing was sent:"),
    "v2_approval": _("a V2 (PortOne) account: not part of an approval request — close it on its payment page"),
}
K_ACTION, K_PLAN, K_CONFIRM, K_DONE = keys.REVOKE_ACTION, keys.REVOKE_PLAN, keys.REVOKE_CONFIRM, keys.REVOKE_DONE
ERRORS = (DeskError,)                # every expected error: shown by lib/ui/outcomes.show_error

st.title(T["title"])
st.caption(T["intro"])
s = session.settings()

done = st.session_state.get(K_DONE)
if done and send_once.result(done) is not None:              # what was sent, as sent: every row given
    res = send_once.result(done)
    if not isinstance(res, list):
        outcomes.show(res, T)
    else:
        ok = sum(r.outcome == "succeeded" for r in res)
        st.success(T["summary"].format(ok=ok, n=len(res)))
        st.dataframe(pd.DataFrame([{"imp_uid": r.imp_uid, "merchant_uid": r.merchant_uid,
                                    "outcome": names.outcome_name(r.outcome), "message": r.message,
                                    "audit": f"/audit?correlation_id={r.correlation_id}" if r.correlation_id else None}
                                   for r in res]), hide_index=True, width="stretch", key="revoke_result_df",
                     column_config={"merchant_uid": _("Order number"), "outcome": _("Outcome"),
                                    "message": st.column_config.TextColumn(_("Message (full reason)"), width="large"),
                                    "audit": st.column_config.LinkColumn(_("Audit"), display_text=_("audit log"))})

    def start_over() -> None:
        for k in (K_DONE, keys.BULK_SELECTION, "revoke_ids"):
            st.session_state.pop(k, None)
    st.button(T["again"], key="revoke_again", on_click=start_over)
    st.stop()

c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
over = c1.number_input(T["overdue_days"], min_value=1, max_value=365, value=30, step=1, key="revoke_over")
if c2.button(T["pick_overdue"], key="revoke_pick"):
    try:
        df, _fetched = loaders.load_pending(90)
    except DeskError as e:
        st.error(inert.say(T["error"], err=e))
        st.stop()
    picked = pending.overdue_for(df, int(over))[: s.rules.bulk_extend_max_rows]
    st.session_state["revoke_ids"] = "\n".join(picked)
    st.info(T["picked"].format(n=len(picked), days=int(over)))
if "revoke_ids" not in st.session_state:
    st.session_state["revoke_ids"] = "\n".join(st.session_state.get(keys.BULK_SELECTION, []))
ids_text = st.text_area(T["ids"], key="revoke_ids", height=120)
ids = id_list.imp_uids_or_stop(ids_text, max_rows=s.rules.bulk_extend_max_rows, too_many=T["too_many"],
                                none=T["none"], bad=T["bad_ids"], v2_ids=open_payment.both())
# Each payment read through its own API: imp_… ids are V1's; any other id, with V2 configured, a V2 paymentId.
api_of = {i: "v1" if i.startswith("imp_") else "v2" for i in ids}
try:
    by_id = {p.imp_uid: p for api in ("v1", "v2") if any(a == api for a in api_of.values())
             for p in session.desk_for(api).payments([i for i in ids if api_of[i] == api])}
except DeskError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()

preview, eligible, left_out = [], [], []
for i in ids:
    p = by_id.get(i)
    why = ((portone_v2.revoke_blockers if api_of[i] == "v2" else revoke_blockers)(p)) if p is not None \
        else [_("not found")]
    if not why and api_of[i] == "v2" and len(ids) > s.rules.bulk_approval_above_count:
        why = [T["v2_approval"]]           # an approval is carried out by the approver's V1 desk: V2 stays out
    if p is not None and not why:
        eligible.append(p)
    else:
        left_out.append(BulkRow(i, p.merchant_uid if p else "", BulkOutcome.REFUSED, why[0]))
    preview.append({"imp_uid": i, "merchant_uid": p.merchant_uid if p else "", "buyer": p.buyer_name if p else "",
                    "amount": krw(p.amount) if p else "", "pg": pg_name(p.pg_provider) if p else "",
                    "due": kst(p.vbank_date) if p else "", "check": _("ok") if not why else why[0]})
st.markdown(f"**{T['preview']}**")
st.dataframe(pd.DataFrame(preview), hide_index=True, width="stretch", key="revoke_preview_df",
             column_config={"merchant_uid": _("Order number"), "buyer": _("Buyer"), "amount": _("Amount"),
                            "pg": _("PG"), "due": _("Due (KST)"), "check": _("Check")})
if not eligible:
    st.warning(T["none_eligible"])
    st.stop()

plan = tuple(p.imp_uid for p in eligible)
if st.session_state.get(K_PLAN) != plan:                  # another set of accounts: another action
    st.session_state[K_PLAN] = plan
    st.session_state[K_ACTION] = send_once.new_action()
action = st.session_state[K_ACTION]
n = str(len(eligible))
typed = st.text_input(T["type"].format(n=n), key="revoke_typed", max_chars=10).strip()
if typed != n:
    st.caption(T["type_first"].format(n=n))                # why the button below is disabled

if len(eligible) > s.rules.bulk_approval_above_count:
    st.info(T["needs_approval"].format(n=s.rules.bulk_approval_above_count))
    request_aid = f"{action}:request"
    made = send_once.result(request_aid)
    if made is not None:
        outcomes.show(made, T)
    else:
        st.button(T["request"].format(n=n), type="primary", key="revoke_request", disabled=typed != n,
                  on_click=send_once.on_click(request_aid, lambda: session.desk().request_bulk_revoke(
                      eligible, typed_confirmation=typed), ERRORS))
    st.stop()

if send_once.result(action) is not None:
    st.session_state[K_DONE] = action
    st.rerun()
if st.button(T["send"].format(n=n), type="primary", key="revoke_send", disabled=typed != n):
    st.session_state[K_CONFIRM] = action
def run() -> list[BulkRow]:
    st.session_state[K_DONE] = action            # the next run shows this result, whatever it reads then
    out: list[BulkRow] = []
    for api in ("v1", "v2"):             # each version's accounts through its own API, once the whole number is typed:
        group = [p for p in eligible if api_of[p.imp_uid] == api]      # each part is confirmed by its own number
        if group:
            out += session.desk_for(api).bulk_revoke(group, typed_confirmation=str(len(group)) if typed == n else typed)
    return out + left_out


if st.session_state.get(K_CONFIRM) == action:
    @st.dialog(T["dialog"].format(n=n), dismissible=False)
    def confirm() -> None:
        st.write(T["dialog_body"].format(n=n, where=s.where_label))
        send_once.confirm_and_send(
            action, open_key=K_CONFIRM, key="revoke_go", confirm_label=T["go"], cancel_label=T["back"],
            sending_label=T["sending"], expected_errors=ERRORS,
            perform=run)
    confirm()
