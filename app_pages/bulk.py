"""Extend the due dates of several pending virtual accounts at once (one change per account, each locked,
re-read and audited on its own); more than the four-eyes count becomes an approval request."""

from datetime import datetime
from datetime import time as dtime

import pandas as pd
import streamlit as st

from lib.domain import names, rules
from lib.domain.clock import KST, now_kst
from lib.domain.errors import DeskError
from lib.domain.fmt import kst
from lib.domain.i18n import _
from lib.domain.names import pg_name
from lib.domain.outcomes import BulkRow
from lib.domain.rules import InvalidInput
from lib.ui import id_list, inert, keys, language, outcomes, send_once, session

language.entry_guard()

T = {
    "title": _("Extend due dates of several accounts"),
    "intro": _("Extend the deadline of several virtual accounts that have not been paid. Each account is checked, "
             "sent and recorded on its own. Times are KST."),
    "none_eligible": _("None of these accounts can be extended: the Check column says why for each."),
    "bulk_ids": _("imp_uids (one per line)"), "bulk_mode": _("How"), "bulk_by": _("Extend by N days"),
    "bulk_to": _("Set a new due date"), "bulk_days": _("Days"), "bulk_preview": _("Preview"),
    "new_due_date": _("New due date (KST)"), "new_due_time": _("New due time (KST)"),
    "bulk_send": _("Extend {n} accounts…"), "bulk_confirm": _("Confirm: extend {n} accounts"),
    "dialog_body": _("This sends {n} changes (one per account) to {where}, each once."),
    "confirm": _("Confirm and send"), "cancel": _("Cancel"), "sending": _("Sending…"),
    "bulk_result": _("Result per account"), "bulk_none": _("Select rows on the Pending accounts page or paste imp_uids."),
    "bulk_too_many": _("At most {n} accounts at once."),
    "bulk_needs_approval": _("Changing more than {n} accounts at once needs a second person's approval: send the "
                           "request, and an approver carries it out from the Approvals page."),
    "bulk_request": _("Request approval for {n} accounts"), "requested": _("Request sent — waiting for an approver."),
    "see_request": _("Open the request"),
    "bulk_bad_ids": _("Line {n} is not an imp_uid (“{v}”): remove it or correct it. Nothing was read."),
    "error": _("Could not read the payments: {err}"),
    "bulk_summary": _("{ok} of {n} accounts extended. Each row below says what happened to it."),
    "again": _("Extend other accounts"),
    "stale": _("The payment changed since you loaded it, so nothing was sent: {changes}."),
    "busy": _("Nothing was sent: {msg}"), "invalid": _("Nothing was sent:"),
    "recent_row": _("Changed at {when} by {who} —"),
    "recent": _("{n} of these accounts were changed in the last 15 minutes (see the Check column). Running the same "
                "extension again would extend them twice."),
    "earlier": _("{n} days earlier"), "later": _("+{n} days"),
    "earlier_warn": _("{n} account(s) would get an earlier due date: this is not an extension."),
    "bulk_send_change": _("Change the due dates of {n} accounts…"),
    "type_to_confirm": _("Some accounts move by more than {days} days or to an earlier date: type {text} to "
                         "confirm"),
    "type_first": _("Type {text} above to enable sending."),
}
MODES = {"by": T["bulk_by"], "to": T["bulk_to"]}
K_ACTION, K_PLAN, K_CONFIRM, K_DONE = keys.BULK_ACTION, keys.BULK_PLAN, keys.BULK_CONFIRM, keys.BULK_DONE

st.title(T["title"])
st.caption(T["intro"])
s = session.settings()
where = s.where_label

done = st.session_state.get(K_DONE)
if done and send_once.result(done) is not None:
    # What was sent, as sent: the accounts are not re-read and re-planned on their new due dates.
    res = send_once.result(done)
    if isinstance(res, InvalidInput):
        outcomes.show_outcome(res, T)
    else:
        counts = pd.Series([r.outcome for r in res]).value_counts()
        st.success(T["bulk_summary"].format(ok=int(counts.get("succeeded", 0)), n=len(res)))
        st.markdown(f"**{T['bulk_result']}**")
        st.dataframe(pd.DataFrame([{"imp_uid": r.imp_uid, "merchant_uid": r.merchant_uid,
                                    "outcome": names.outcome_name(r.outcome), "new_due": kst(r.new_due),
                                    "message": r.message,
                                    "audit": f"/audit?correlation_id={r.correlation_id}" if r.correlation_id else None}
                                   for r in res]),
                     hide_index=True, width="stretch", key="bulk_result_df",
                     column_config={"merchant_uid": _("Order number"), "outcome": _("Outcome"),
                                    "new_due": _("New due (KST)"),
                                    "message": st.column_config.TextColumn(_("Message (full reason)"), width="large"),
                                    "audit": st.column_config.LinkColumn(_("Audit"), display_text=_("audit log"))})

    def start_over() -> None:
        st.session_state.pop(K_DONE, None)
        st.session_state.pop(keys.BULK_SELECTION, None)
        st.session_state.pop("bulk_ids", None)
    st.button(T["again"], key="bulk_again", on_click=start_over)
    st.stop()
default_ids = "\n".join(st.session_state.get(keys.BULK_SELECTION, []))
ids_text = st.text_area(T["bulk_ids"], value=default_ids, key="bulk_ids", height=120)
ids = id_list.imp_uids_or_stop(ids_text, max_rows=s.rules.bulk_extend_max_rows, too_many=T["bulk_too_many"],
                                none=T["bulk_none"], bad=T["bulk_bad_ids"])
c1, c2 = st.columns(2)
mode = c1.radio(T["bulk_mode"], list(MODES), format_func=MODES.get, key="bulk_mode", horizontal=True)
if mode == "by":
    days = c2.number_input(T["bulk_days"], min_value=1, max_value=60, value=3, step=1, key="bulk_days")
    to = None
else:
    d = c2.date_input(T["new_due_date"], value=now_kst().date(), key="bulk_date")
    t = c2.time_input(T["new_due_time"], value=dtime(23, 59), key="bulk_time")
    days, to = None, datetime.combine(d, t, KST)
try:
    current = session.desk().payments(ids)
except DeskError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()
by_id = {p.imp_uid: p for p in current}
recent = session.desk().recent_changes(ids)
preview, eligible, left_out = [], [], []
for i in ids:
    p = by_id.get(i)
    if p is None:
        preview.append({"imp_uid": i, "merchant_uid": "", "pg": "", "due_now": "", "new_due": "", "move": "",
                        "check": _("not found")})
        left_out.append(BulkRow(i, "", "refused", _("not found")))
        continue
    new_due = rules.plan_due(p.vbank_date, extend_days=days, to=to)
    problems = rules.validate_update(p, new_amount=None, new_due=new_due, rules=s.rules) if new_due else \
        [_("no due date")]
    if not problems:
        eligible.append(p)
    else:
        left_out.append(BulkRow(i, p.merchant_uid, "refused", problems[0], new_due))
    check = _("ok") if not problems else problems[0]
    if i in recent:
        check = T["recent_row"].format(when=kst(recent[i][0]), who=recent[i][1]) + " " + check
    moved = (new_due - p.vbank_date).days if new_due and p.vbank_date else None
    preview.append({"imp_uid": i, "merchant_uid": p.merchant_uid, "pg": pg_name(p.pg_provider),
                    "due_now": kst(p.vbank_date), "new_due": kst(new_due),
                    "move": "" if moved is None else (T["earlier"].format(n=-moved) if rules.moves_earlier(p, new_due)
                                                      else T["later"].format(n=moved)),
                    "check": check})
must_type = rules.bulk_confirmation(eligible, days, to, s.rules)
earlier = sum(1 for p in eligible if rules.moves_earlier(p, rules.plan_due(p.vbank_date, extend_days=days, to=to)))
if recent:
    st.warning(inert.say(T["recent"], n=len(recent)))
if earlier:
    st.warning(inert.say(T["earlier_warn"], n=earlier))
st.markdown(f"**{T['bulk_preview']}**")
st.dataframe(pd.DataFrame(preview), hide_index=True, width="stretch", key="bulk_preview_df",
             column_config={"merchant_uid": _("Order number"), "pg": _("PG"), "due_now": _("Due now (KST)"),
                            "new_due": _("New due (KST)"), "move": _("Moves by"), "check": _("Check")})

plan_key = ("bulk", tuple(p.imp_uid for p in eligible), days, to.isoformat() if to else None)
if st.session_state.get(K_PLAN) != plan_key:
    st.session_state[K_PLAN] = plan_key
    st.session_state[K_ACTION] = send_once.new_action()

action = st.session_state[K_ACTION]

typed = ""
if must_type:
    typed = st.text_input(inert.say(T["type_to_confirm"], text=must_type, days=s.rules.update_typed_confirm_due_days),
                          key="bulk_typed", max_chars=20)


def run_bulk():
    st.session_state[K_DONE] = action            # the next run shows this result, whatever it re-reads
    rows = session.desk().bulk_extend(eligible, extend_days=days, to=to, typed_confirmation=typed)
    return rows + left_out                       # every row given, refused ones with their reason

if send_once.result(action) is not None:
    st.session_state[K_DONE] = action            # the result replaces the form (next run, before re-planning)
    st.rerun()
if len(eligible) > s.rules.bulk_approval_above_count:
    st.info(T["bulk_needs_approval"].format(n=s.rules.bulk_approval_above_count))

    request_aid = f"{action}:request"           # the request is its own action (its own result)
    made = send_once.result(request_aid)
    if made is not None:
        outcomes.show(made, T)
    else:
        st.button(T["bulk_request"].format(n=len(eligible)), type="primary", key="bulk_request",
                  on_click=send_once.on_click(request_aid, lambda: session.desk().request_bulk(
                      eligible, extend_days=days, to=to, typed_confirmation=typed), (DeskError,)))
    st.stop()
if not eligible:
    st.caption(T["none_eligible"])                       # why the button below is disabled
send_label = (T["bulk_send_change"] if earlier else T["bulk_send"]).format(n=len(eligible))
if must_type and typed.strip() != must_type:
    st.caption(inert.say(T["type_first"], text=must_type))      # why the button below is disabled
if st.button(send_label, type="primary", disabled=not eligible or bool(must_type and typed.strip() != must_type),
             key="bulk_send"):
    st.session_state[K_CONFIRM] = action

if st.session_state.get(K_CONFIRM) == action:
    @st.dialog(T["bulk_confirm"].format(n=len(eligible)), dismissible=False)
    def confirm_bulk():
        st.write(T["dialog_body"].format(n=len(eligible), where=where))
        send_once.confirm_and_send(action, open_key=K_CONFIRM, key="bulk_go", confirm_label=T["confirm"],
                            cancel_label=T["cancel"], sending_label=T["sending"], perform=run_bulk,
                            expected_errors=(DeskError,))
    confirm_bulk()
st.stop()

