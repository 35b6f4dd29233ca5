"""Change one pending virtual account's amount or due date (several at once: app_pages/bulk.py)."""

from datetime import datetime

import pandas as pd
import streamlit as st

from lib.domain import capabilities, rules
from lib.domain import status as person_status
from lib.domain.clock import KST, now_kst
from lib.domain.errors import DeskError
from lib.domain.fmt import duration, krw, kst, time_left
from lib.domain.i18n import _
from lib.domain.names import PG_NAMES
from lib.domain.rules import InvalidInput, Seen
from lib.domain.text import NOTE_MAX, md, parse_won, short, won_text
from lib.ui import inert, keys, language, metrics, open_payment, outcomes, send_once, session

language.entry_guard()

T = {
    "bad_id": _("No payment found: “{q}” cannot name one. {msg}"),
    "title": _("Change a pending virtual account"),
    "intro": _("Change what the customer owes or extend the deadline of a virtual account that has not been paid. "
             "Only changed fields are sent. Times are KST."),
    "lookup": _("imp_uid"), "find": _("Find"), "prompt": _("Enter the imp_uid of a pending virtual account, or select rows "
                                                     "on the Pending accounts page."),
    "not_found": _("No payment “{q}”: “{msg}”"), "error": _("Could not read the payment: {err}"),
    "not_eligible": _("This account cannot be changed here:"),
    "current": _("Current"), "amount": _("Amount"), "due": _("Due (KST)"), "left": _("Time left"), "pg": _("PG"),
    "buyer": _("Buyer"), "merchant_uid": _("merchant_uid"),
    "new_amount": _("New amount (₩)"), "new_due_date": _("New due date (KST)"), "new_due_time": _("New due time (KST)"),
    "note": _("Note for the audit log (optional)"), "review": _("Review changes"),
    "diff": _("Review: before → after"), "field": _("Field"), "before": _("Before"), "after": _("After"), "change": _("Change"),
    "send": _("Send this change…"), "discard": _("Discard"),
    "dialog": _("Confirm the change"), "dialog_body": _("This changes virtual account {imp_uid} in {where}, once."),
    "confirm": _("Confirm and send"), "cancel": _("Cancel"),
    "sending": _("Sending…"),
    "stale": _("The payment changed since you loaded it, so nothing was sent: {changes}. Reload and review again."),
    "busy": _("Nothing was sent: {msg}"), "invalid": _("Nothing was sent:"),
    "audit_link": _("See it in the audit log"),
    "reload": _("Reload the payment"),
    "see_request": _("Open the request"),
    "typed": _("This is a large change: type {value} to confirm it"),
    "typed_bad": _("What you typed does not match."),
    "later_by": _("later by {time}"), "earlier_by": _("earlier by {time}"),
    "reissue_how": _("How it is done: 1. close this account on its payment page (the customer can no longer pay into "
                     "it); 2. issue a new virtual account for the order with the new amount or due date — the desk does "
                     "not issue accounts: your checkout does it (PortOne's payment window) or the PortOne console; 3. "
                     "send the customer the new account number."),
    "reissue_go": _("Go to the payment page to close this account"),
}

st.title(T["title"])
st.caption(T["intro"])
s = session.settings()
where = s.where_label


def show_result(res) -> None:
    outcomes.show_outcome(res, T)


# ================================================================ single mode
q0 = session.query_imp_uid()
with st.form("lookup", border=False):
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    q = c1.text_input(T["lookup"], value=q0)
    if c2.form_submit_button(T["find"], width="stretch", key="upd_find"):
        st.query_params["imp_uid"] = q.strip()
        st.rerun()
if not q0:
    st.info(T["prompt"])
    st.stop()

p, api = open_payment.find(q0, T)

m = st.columns(3)             # three figures that fit at 1280×800; who and which PG in the line below
metrics.row(m[:1], [(T["amount"], p.amount)])
m[1].metric(T["due"], p.vbank_date.astimezone(KST).strftime("%Y-%m-%d %H:%M") if p.vbank_date else "—")
m[2].metric(T["left"], time_left(p.vbank_date) if p.vbank_date else "—")
st.caption(" · ".join([f"{T['buyer']}: {md(short(p.buyer_name or '—', 40))}",
                       f"{T['pg']}: {md(PG_NAMES.get(p.pg_provider, p.pg_provider or '—'))}",
                       f"{T['merchant_uid']}: {md(short(p.merchant_uid))}", f"imp_uid: {md(p.imp_uid)}",
                       md(person_status.name_of(p))]))

if capabilities.offers_change(api, p.pg_provider, s.rules) == capabilities.Capability.CLOSE_AND_REISSUE:
    # PortOne V2 has no endpoint that changes an issued account: never a form that would silently fail.
    st.subheader(capabilities.label(capabilities.Capability.CLOSE_AND_REISSUE), anchor=False)
    st.warning(capabilities.reissue_warning(), icon=":material/warning:")
    st.markdown(T["reissue_how"])
    st.page_link("app_pages/payment.py", label=T["reissue_go"], icon=":material/block:",
                 query_params=open_payment.params(p.imp_uid, api))
    st.stop()

ACTION = f"update:draft:{p.imp_uid}"
pending_action = st.session_state.get(ACTION)
if pending_action and send_once.result(pending_action["id"]) is not None:
    show_result(send_once.result(pending_action["id"]))       # the outcome of what was just sent
    if st.button(T["reload"], key="reload"):
        st.session_state.pop(ACTION, None)
        st.rerun()
    st.stop()

if outcomes.unknown_outcome_panel("update_vbank", p.imp_uid, key="upd_unknown"):
    st.stop()

blockers = rules.update_blockers(p, s.rules)
armed = bool(pending_action) and st.session_state.get(keys.UPDATE_CONFIRM) == pending_action["id"]
if blockers and not armed:       # an armed send goes on: the service re-checks and reports what changed
    st.warning(T["not_eligible"] + "\n\n" + "\n".join(f"- {md(b)}" for b in blockers))
    st.stop()

with st.form("change", enter_to_submit=False):        # Enter never opens the review or sends
    cur_due = p.vbank_date.astimezone(KST) if p.vbank_date else now_kst()
    a = st.text_input(T["new_amount"], value=won_text(p.amount), key="new_amount", max_chars=20)
    c1, c2 = st.columns(2)
    d = c1.date_input(T["new_due_date"], value=cur_due.date(), key="new_due_date")
    shown_time = cur_due.time().replace(second=0, microsecond=0)       # the widget works in minutes
    t = c2.time_input(T["new_due_time"], value=shown_time, key="new_due_time", step=60)
    note = st.text_input(T["note"], key="note", max_chars=NOTE_MAX)
    if st.form_submit_button(T["review"], type="primary", key="upd_review"):
        # Untouched date and time mean "keep the due", not "move it to the minute shown".
        # An untouched time keeps the current seconds (a due of 23:59:59 stays 23:59:59 on its new date).
        t_full = cur_due.time().replace(microsecond=0) if t == shown_time else t
        new_due = None if (d, t) == (cur_due.date(), shown_time) else datetime.combine(d, t_full, KST)
        new_amount, why = parse_won(a, what=_("The new amount"))
        new_amount = p.amount if new_amount is None and not why else new_amount
        problems = [why] if why else rules.validate_update(p, new_amount=new_amount, new_due=new_due,
                                                            rules=s.rules)
        if problems:
            st.session_state.pop(ACTION, None)
            show_result(InvalidInput(problems))
        else:
            st.session_state[ACTION] = {
                "id": send_once.new_action(), "seen": Seen.of(p),
                "new_amount": new_amount if new_amount != p.amount else None,
                "new_due": new_due if new_due and int(new_due.timestamp()) != int(p.vbank_date.timestamp()) else None,
                "note": note}
        pending_action = st.session_state.get(ACTION)


def send(action: dict, imp_uid: str, typed: str | None):
    return session.desk().update(imp_uid, action["seen"], new_amount=action["new_amount"], new_due=action["new_due"],
                            note=action["note"] or None, typed_confirmation=typed, action_key=action["id"])


WRITE_ERRORS = (DeskError,)          # every expected error: shown by lib/ui/outcomes.show_error

if pending_action:
    aid = pending_action["id"]
    seen: Seen = pending_action["seen"]
    rows = []
    if pending_action["new_amount"] is not None:
        diff = pending_action["new_amount"] - seen.amount
        rows.append({T["field"]: T["amount"], T["before"]: krw(seen.amount),
                     T["after"]: krw(pending_action["new_amount"]),
                     T["change"]: ("+" if diff > 0 else "") + krw(diff)})
    if pending_action["new_due"] is not None:
        old = datetime.fromtimestamp(seen.vbank_due, KST)
        moved = pending_action["new_due"] - old
        rows.append({T["field"]: T["due"], T["before"]: kst(old), T["after"]: kst(pending_action["new_due"]),
                     T["change"]: (T["later_by"] if moved.total_seconds() > 0 else T["earlier_by"]).format(
                         time=duration(moved))})
    st.subheader(T["diff"])
    inert.table(pd.DataFrame(rows).set_index(T["field"]))
    b1, b2 = st.columns([1, 4])
    if b1.button(T["send"], type="primary", key="upd_send"):
        st.session_state[keys.UPDATE_CONFIRM] = aid
    if b2.button(T["discard"], key="upd_discard"):
        st.session_state.pop(ACTION, None)
        st.session_state.pop(keys.UPDATE_CONFIRM, None)
        st.rerun()

    need = rules.update_confirmation(seen, new_amount=pending_action["new_amount"],
                                        new_due=pending_action["new_due"], rules=s.rules)
    if st.session_state.get(keys.UPDATE_CONFIRM) == aid:
        @st.dialog(T["dialog"], dismissible=False)
        def confirm():
            st.write(inert.say(T["dialog_body"], imp_uid=p.imp_uid, where=where))
            inert.table(pd.DataFrame(rows).set_index(T["field"]))
            typed = None
            if need:
                typed = st.text_input(T["typed"].format(value=need), key="upd_typed")
                if typed and typed.replace(",", "").strip() != need.replace(",", ""):
                    st.error(T["typed_bad"])
            ok = need is None or (typed or "").replace(",", "").strip() == need.replace(",", "")
            send_once.confirm_and_send(aid, open_key=keys.UPDATE_CONFIRM, key="upd_go", confirm_label=T["confirm"],
                                cancel_label=T["cancel"], sending_label=T["sending"], can_confirm=ok,
                                perform=lambda: send(pending_action, p.imp_uid, typed), expected_errors=WRITE_ERRORS)
        confirm()
