"""Change a pending virtual account's amount or due date (PUT /vbanks/{imp_uid}), one or many."""

import uuid
from datetime import datetime, time as dtime

import pandas as pd
import streamlit as st

from lib import services, ui
from lib.fmt import duration, krw, kst, now_kst, time_left
from lib.clock import KST
from lib.services import Busy, Forbidden, InvalidInput, NeedsApproval, Seen, Stale
from lib.text import NOTE_MAX, lookup_problem, md, parse_won, short, won_text

ui.entry_guard()

T = {
    "bad_id": "No payment found: “{q}” cannot name one. {msg}",
    "title": "Change a pending virtual account",
    "intro": "Change what the customer owes or extend the deadline of a virtual account that has not been paid. "
             "Only changed fields are sent. Times are KST.",
    "lookup": "imp_uid", "find": "Find", "prompt": "Enter the imp_uid of a pending virtual account, or select rows "
                                                     "on the Pending accounts page.",
    "not_found": "No payment “{q}”: “{msg}”", "error": "Could not read the payment: {err}",
    "not_eligible": "This account cannot be changed here:",
    "current": "Current", "amount": "Amount", "due": "Due (KST)", "left": "Time left", "pg": "PG",
    "buyer": "Buyer", "merchant_uid": "merchant_uid",
    "new_amount": "New amount (₩)", "new_due_date": "New due date (KST)", "new_due_time": "New due time (KST)",
    "note": "Note for the audit log (optional)", "review": "Review changes",
    "diff": "Review: before → after", "field": "Field", "before": "Before", "after": "After", "change": "Change",
    "send": "Send this change…", "discard": "Discard",
    "dialog": "Confirm the change", "dialog_body": "This sends PUT /vbanks/{imp_uid} to {where} once.",
    "confirm": "Confirm and send", "cancel": "Cancel",
    "sending": "Sending…",
    "ok": "Done: {msg}", "failed": "{msg}", "unknown": "{msg}",
    "stale": "The payment changed since you loaded it, so nothing was sent: {changes}. Reload and review again.",
    "busy": "Nothing was sent: {msg}", "invalid": "Nothing was sent:",
    "audit_link": "See it in the audit log",
    "reload": "Reload the payment",
    "bulk_title": "Extend due dates of several accounts",
    "bulk_ids": "imp_uids (one per line)", "bulk_mode": "How", "bulk_by": "Extend by N days",
    "bulk_to": "Set a new due date", "bulk_days": "Days", "bulk_preview": "Preview",
    "bulk_send": "Extend {n} accounts…", "bulk_confirm": "Confirm: extend {n} accounts",
    "bulk_result": "Result per account", "bulk_none": "Select rows on the Pending accounts page or paste imp_uids.",
    "bulk_too_many": "At most {n} accounts at once.",
    "bulk_needs_approval": "Changing more than {n} accounts at once needs a second person's approval: send the "
                           "request, and an approver carries it out from the Approvals page.",
    "bulk_request": "Request approval for {n} accounts", "requested": "Request sent — waiting for an approver.",
    "see_request": "Open the request",
    "typed": "This is a large change: type {value} to confirm it",
    "typed_bad": "What you typed does not match.",
    "bulk_bad_ids": "Line {n} is not an imp_uid (“{v}”): remove it or correct it. Nothing was read.",
}
MODES = {"by": T["bulk_by"], "to": T["bulk_to"]}

st.title(T["title"])
st.caption(T["intro"])
s = ui.settings()
where = "the sandbox" if s.is_sandbox else "the live I'mport API"


def show_result(res) -> None:
    if isinstance(res, services.WriteResult):
        box = {"succeeded": st.success, "failed": st.error, "unknown": st.warning}[res.outcome]
        box(ui.say(T["ok"], msg=res.message) if res.ok else md(res.message))
        if res.correlation_id:
            st.page_link("pages/audit.py", label=T["audit_link"], icon=":material/receipt_long:",
                         query_params={"correlation_id": res.correlation_id})
    else:
        ui.show_refusal(res, T)


# ================================================================== bulk mode
if st.query_params.get("bulk"):
    st.subheader(T["bulk_title"])
    default_ids = "\n".join(st.session_state.get("bulk_selection", []))
    ids_text = st.text_area(T["bulk_ids"], value=default_ids, key="bulk_ids", height=120)
    lines = ids_text.splitlines()
    if len(lines) > s.rules.bulk_extend_max_rows * 2 or len(ids_text) > 100_000:
        st.error(T["bulk_too_many"].format(n=s.rules.bulk_extend_max_rows))
        st.stop()
    ids = list(dict.fromkeys(x.strip() for x in lines if x.strip()))
    if not ids:
        st.info(T["bulk_none"])
        st.stop()
    if len(ids) > s.rules.bulk_extend_max_rows:
        st.error(T["bulk_too_many"].format(n=s.rules.bulk_extend_max_rows))
        st.stop()
    bad_line = next(((n, x) for n, x in enumerate(ids, start=1)
                     if lookup_problem(x) or not x.startswith("imp_")), None)
    if bad_line:
        st.error(ui.say(T["bulk_bad_ids"], n=bad_line[0], v=short(bad_line[1], 40)))
        st.stop()
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
        current = ui.client().get_payments(ids)
    except ui.ApiError as e:
        st.error(ui.say(T["error"], err=e))
        st.stop()
    by_id = {p.imp_uid: p for p in current}
    preview = []
    for i in ids:
        p = by_id.get(i)
        if p is None:
            preview.append({"imp_uid": i, "merchant_uid": "", "PG": "", "Due now (KST)": "", "New due (KST)": "",
                            "Check": "not found"})
            continue
        new_due = services.plan_due(p.vbank_date, extend_days=days, to=to)
        problems = services.validate_update(p, new_amount=None, new_due=new_due, rules=s.rules) if new_due else \
            ["no due date"]
        preview.append({"imp_uid": i, "merchant_uid": p.merchant_uid, "PG": p.pg_provider,
                        "Due now (KST)": kst(p.vbank_date), "New due (KST)": kst(new_due),
                        "Check": "ok" if not problems else problems[0]})
    st.markdown(f"**{T['bulk_preview']}**")
    st.dataframe(pd.DataFrame(preview), hide_index=True, width="stretch", key="bulk_preview_df")
    eligible = [by_id[r["imp_uid"]] for r in preview if r["Check"] == "ok"]

    plan_key = ("bulk", tuple(p.imp_uid for p in eligible), days, to.isoformat() if to else None)
    if st.session_state.get("bulk_plan_key") != plan_key:
        st.session_state["bulk_plan_key"] = plan_key
        st.session_state["bulk_action"] = uuid.uuid4().hex

    action = st.session_state["bulk_action"]

    def run_bulk():
        return services.bulk_extend(ui.client(), ui.audit(), operator=ui.operator(), payments=eligible,
                                    extend_days=days, to=to, rules=ui.settings().rules)

    res = st.session_state.get(f"result:{action}")
    if res is not None:
        if isinstance(res, InvalidInput):
            show_result(res)
        else:
            st.markdown(f"**{T['bulk_result']}**")
            st.dataframe(pd.DataFrame([{"imp_uid": r.imp_uid, "merchant_uid": r.merchant_uid, "Outcome": r.outcome,
                                        "New due (KST)": kst(r.new_due), "Message": r.message} for r in res]),
                         hide_index=True, width="stretch", key="bulk_result_df")
        st.stop()
    if len(eligible) > s.rules.bulk_approval_above_count:
        st.info(T["bulk_needs_approval"].format(n=s.rules.bulk_approval_above_count))

        def make_request(action_id: str) -> None:
            if st.session_state.get(f"started:{action_id}"):
                return
            st.session_state[f"started:{action_id}"] = True
            try:
                res = services.request_bulk_approval(ui.audit(), requester=ui.operator(), payments=eligible,
                                                     extend_days=days, to=to, rules=ui.settings().rules)
            except (Busy, Forbidden, InvalidInput) as e:
                res = e
            st.session_state[f"request:{action_id}"] = res

        made = st.session_state.get(f"request:{action}")
        if made is not None and hasattr(made, "requester"):
            st.success(T["requested"])
            st.page_link("pages/approvals.py", label=T["see_request"], query_params={"id": made.id})
        elif made is not None:
            show_result(made)
        else:
            st.button(T["bulk_request"].format(n=len(eligible)), type="primary", key="bulk_request",
                      on_click=make_request, args=(action,))
        st.stop()
    if st.button(T["bulk_send"].format(n=len(eligible)), type="primary", disabled=not eligible, key="bulk_send"):
        st.session_state["bulk_confirm"] = action

    if st.session_state.get("bulk_confirm") == action:
        @st.dialog(T["bulk_confirm"].format(n=len(eligible)), dismissible=False)
        def confirm_bulk():
            st.write(T["dialog_body"].format(imp_uid="…", where=where) + f" ({len(eligible)} requests)")
            ui.confirm_and_send(action, open_key="bulk_confirm", key="bulk_go", confirm_label=T["confirm"],
                                cancel_label=T["cancel"], sending_label=T["sending"], perform=run_bulk,
                                expected_errors=(InvalidInput, NeedsApproval, Forbidden))
        confirm_bulk()
    st.stop()

# ================================================================ single mode
q0 = ui.query_imp_uid()
with st.form("lookup", border=False):
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    q = c1.text_input(T["lookup"], value=q0)
    if c2.form_submit_button(T["find"], width="stretch"):
        st.query_params["imp_uid"] = q.strip()
        st.rerun()
if not q0:
    st.info(T["prompt"])
    st.stop()

bad = lookup_problem(q0)
if bad:
    st.error(ui.say(T["bad_id"], q=short(q0, 60), msg=bad))
    st.stop()
try:
    p = ui.client().get_payment(q0)
except ui.ApiError as e:
    st.error(ui.say(T["not_found"], q=short(q0, 60), msg=e.message) if isinstance(e, ui.NotFound)
             else ui.say(T["error"], err=e))
    st.stop()

m = st.columns([1, 1.6, 1.3, 1, 1])
m[0].metric(T["amount"], krw(p.amount))
m[1].metric(T["due"], p.vbank_date.strftime("%Y-%m-%d %H:%M") if p.vbank_date else "—")
m[2].metric(T["left"], time_left(p.vbank_date) if p.vbank_date else "—")
m[3].metric(T["pg"], md(p.pg_provider or "—"))
m[4].metric(T["buyer"], md(short(p.buyer_name or "—", 40)))
st.caption(f"{T['merchant_uid']}: {md(short(p.merchant_uid))} · imp_uid: {md(p.imp_uid)} · status: {md(p.status)}")

ACTION = f"upd:{p.imp_uid}"
pending_action = st.session_state.get(ACTION)
if pending_action and st.session_state.get(f"result:{pending_action['id']}") is not None:
    show_result(st.session_state[f"result:{pending_action['id']}"])       # the outcome of what was just sent
    if st.button(T["reload"], key="reload"):
        st.session_state.pop(ACTION, None)
        st.rerun()
    st.stop()

if ui.unknown_outcome_panel("vbank", p.imp_uid, key="upd_unknown"):
    st.stop()

blockers = [x for x in services.validate_update(p, new_amount=p.amount + 1, new_due=None, rules=s.rules)
            if "Nothing changed" not in x]
armed = bool(pending_action) and st.session_state.get("upd_confirm") == pending_action["id"]
if blockers and not armed:       # an armed send goes on: the service re-checks and reports what changed
    st.warning(T["not_eligible"] + "\n\n" + "\n".join(f"- {md(b)}" for b in blockers))
    st.stop()

with st.form("change"):
    cur_due = p.vbank_date.astimezone(KST) if p.vbank_date else now_kst()
    a = st.text_input(T["new_amount"], value=won_text(p.amount), key="new_amount", max_chars=20)
    c1, c2 = st.columns(2)
    d = c1.date_input(T["new_due_date"], value=cur_due.date(), key="new_due_date")
    shown_time = cur_due.time().replace(second=0, microsecond=0)       # the widget works in minutes
    t = c2.time_input(T["new_due_time"], value=shown_time, key="new_due_time", step=60)
    note = st.text_input(T["note"], key="note", max_chars=NOTE_MAX)
    if st.form_submit_button(T["review"], type="primary"):
        # Untouched date and time mean "keep the due", not "move it to the minute shown".
        # An untouched time keeps the current seconds (a due of 23:59:59 stays 23:59:59 on its new date).
        t_full = cur_due.time().replace(microsecond=0) if t == shown_time else t
        new_due = None if (d, t) == (cur_due.date(), shown_time) else datetime.combine(d, t_full, KST)
        new_amount, why = parse_won(a, what="The new amount")
        new_amount = p.amount if new_amount is None and not why else new_amount
        problems = [why] if why else services.validate_update(p, new_amount=new_amount, new_due=new_due,
                                                               rules=s.rules)
        if problems:
            st.session_state.pop(ACTION, None)
            show_result(InvalidInput(problems))
        else:
            st.session_state[ACTION] = {
                "id": uuid.uuid4().hex, "seen": Seen.of(p),
                "new_amount": new_amount if new_amount != p.amount else None,
                "new_due": new_due if new_due and int(new_due.timestamp()) != int(p.vbank_date.timestamp()) else None,
                "note": note}
        pending_action = st.session_state.get(ACTION)


def send(action: dict, imp_uid: str, typed: str | None):
    return services.update_vbank(ui.client(), ui.audit(), operator=ui.operator(), imp_uid=imp_uid,
                                 seen=action["seen"], new_amount=action["new_amount"], new_due=action["new_due"],
                                 rules=ui.settings().rules, note=action["note"] or None, typed_confirmation=typed)


WRITE_ERRORS = (Stale, Busy, InvalidInput, NeedsApproval, Forbidden, ui.ApiError)

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
                     T["change"]: ("later by " if moved.total_seconds() > 0 else "earlier by ") + duration(moved)})
    st.subheader(T["diff"])
    ui.table(pd.DataFrame(rows).set_index(T["field"]))
    b1, b2 = st.columns([1, 4])
    if b1.button(T["send"], type="primary", key="upd_send"):
        st.session_state["upd_confirm"] = aid
    if b2.button(T["discard"], key="upd_discard"):
        st.session_state.pop(ACTION, None)
        st.session_state.pop("upd_confirm", None)
        st.rerun()

    need = services.update_confirmation(seen, new_amount=pending_action["new_amount"],
                                        new_due=pending_action["new_due"], rules=s.rules)
    if st.session_state.get("upd_confirm") == aid:
        @st.dialog(T["dialog"], dismissible=False)
        def confirm():
            st.write(ui.say(T["dialog_body"], imp_uid=p.imp_uid, where=where))
            ui.table(pd.DataFrame(rows).set_index(T["field"]))
            typed = None
            if need:
                typed = st.text_input(T["typed"].format(value=need), key="upd_typed")
                if typed and typed.replace(",", "").strip() != need.replace(",", ""):
                    st.error(T["typed_bad"])
            ok = need is None or (typed or "").replace(",", "").strip() == need.replace(",", "")
            ui.confirm_and_send(aid, open_key="upd_confirm", key="upd_go", confirm_label=T["confirm"],
                                cancel_label=T["cancel"], sending_label=T["sending"], can_confirm=ok,
                                perform=lambda: send(pending_action, p.imp_uid, typed), expected_errors=WRITE_ERRORS)
        confirm()
