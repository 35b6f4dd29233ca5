"""Refund wizard for paid virtual-account payments (POST /payments/cancel), with the PG fee impact first.

Longer than 400 lines: four steps of one wizard (payment → amount → account → confirm) sharing one draft in the
session; the rules, the holder check and the write itself live in lib (domain/rules, services/refund).
"""


from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from lib.domain.errors import DeskError
from lib.domain.outcomes import WriteResult
from lib.domain.clock import KST
from lib.domain.i18n import _
from lib.domain import banks, pg_rules
from lib.domain import fees
from lib.reports import refundable as refund
from lib.domain import rules
from lib.ui import present as ui_present
from lib.domain.fmt import digits_only, kst, krw, mask_account, mask_phone
from lib.domain.rules import RefundRequest, Seen
from lib.domain.names import PG_NAMES, pg_name, pg_short
from lib.domain import status as person_status
from lib.domain.text import NOTE_MAX, NAME_MAX, md, parse_won, short, won_text, without_tag
from lib.iamport.errors import ApiError
from lib.ui import inert
from lib.ui import language, metrics
from lib.ui import loaders
from lib.ui import outcomes
from lib.ui import send_once
from lib.ui import keys, session

language.entry_guard()

T = {
    "bad_id": _("No payment found: “{q}” cannot name one. {msg}"),
    "title": _("Refund a virtual-account payment"),
    "intro": _("Virtual-account refunds need the customer's own bank account, use the PG's own bank codes, and the "
             "PG keeps its fees. The wizard shows what the refund costs before any money moves."),
    "steps": [_("Payment"), _("Amount and reason"), _("Refund account"), _("Fee impact"), _("Confirm"), _("Result")],
    "step": _("Step {n} of 6 — {name}"),
    "summary": _("{pg} · imp_uid {imp_uid} · order {merchant_uid} · buyer {buyer} · paid {paid} · {status}"),
    "amount_help": _("Used for a partial refund; a full refund sends the whole refundable balance."),
    "reason_help": _("Sent to the PG as shown, with your note after it (set per reason in vbank-desk.toml)."),
    "bank_placeholder": _("Choose the bank"),
    "reuse": _("This payment was last refunded to {bank} {account} ({holder}) on {when}."),
    "reuse_go": _("Refund to this account again"),
    "typed_account": _("Account number as typed: {digits} ({n} digits)"),
    "no_api_refund": _("{n} paid payments of PGs that do not refund virtual accounts through the API (다날) are not listed: "
                       "refund those customers directly."),
    "cash_receipt": _("A cash receipt was issued for this payment: a partial refund may need the receipt corrected "
                      "(cancelled and issued again for the amount that stays paid) in the PG's console."),
    "account_help": _("Hidden as you type; it is masked everywhere else too."),
    "back": _("Back"), "next": _("Next"),
    "lookup": _("imp_uid or merchant_uid"), "find": _("Find"),
    "or_pick": _("…or pick a paid virtual-account payment (last {days} days, with a refundable balance)"),
    "search": _("Filter by merchant_uid, imp_uid or buyer"),
    "pick_hint": _("Select a row to choose that payment."),
    "not_found": _("No payment found for “{q}”: “{msg}”"), "error": _("Could not read the payment: {err}"),
    "blocked": _("This payment cannot be refunded here:"),
    "amount": _("Amount"), "refunded": _("Refunded so far"), "refundable": _("Refundable"), "pg": _("PG"),
    "history": _("Cancel / refund history"), "no_history": _("No earlier refunds."),
    "full": _("Full refund"), "partial": _("Partial refund"), "kind": _("Refund"),
    "refund_amount": _("Refund amount (₩)"), "reason": _("Reason"), "note": _("Note (optional, sent with the reason)"),
    "tax": _("Tax-free / VAT split (only if the payment was made with one)"), "tax_free": _("Tax-free amount (₩)"),
    "vat": _("VAT amount (₩)"),
    "holder": _("Account holder name"), "bank": _("Customer's bank"), "account": _("Account number (digits, hyphens allowed)"),
    "tel": _("Account holder's phone (required by this PG)"),
    "check": _("Check the holder's name with the bank"), "check_ok": _("The bank says the holder is “{name}”: it matches."),
    "check_bad": _("The bank says the holder is “{name}”, which does not match “{typed}”. Check the name and account."),
    "check_fail": _("The holder check did not work: “{msg}”. Confirm the account with the customer before you go on."),
    "override": _("Why send to this account anyway? (at least {n} characters; kept in the audit log and shown to an "
                  "approver)"),
    "override_needed": _("The bank's check did not confirm the holder's name: correct the details, or write why the "
                         "refund should go to this account (at least {n} characters)."),
    "use_bank_name": _("Use the bank's name"),
    "keep_typed": _("Or keep the name you typed and write below why the refund should go to this account."),
    "check_stale": _("The account details changed since the holder check; check again if you want to be sure."),
    "fee_title": _("What this refund costs you"), "fee_rule": _("Fee schedule for {pg}: issuance {iss}, remittance {rem}{vat}."),
    "vat_on": _(" + 10% VAT on each fee"), "vat_off": _(" (VAT not added)"),
    "confirm_title": _("Everything that will be sent"), "typed": _("Type the refund amount to confirm ({amount})"),
    "typed_first": _("Type the refund amount above first: a refund this large is confirmed by typing it."),
    "typed_bad": _("The typed amount does not match the refund amount."),
    "send": _("Send the refund…"), "dialog": _("Confirm the refund"), "go": _("Refund now"), "cancel": _("Cancel"),
    "sending": _("Sending…"),
    "dialog_body": _("This refunds {amount} to {bank} {account} in {where}, once."),
    "ok": _("Refund registered — the PG pays the customer on the next business day."),
    "new_cancel": _("Refunded total now"), "entry": _("The new cancel history entry"),
    "audit_link": _("See it in the audit log"), "start_over": _("Refund another payment"),
    "stale": _("The payment changed since you started, so nothing was sent: {changes}. Start again from step 1."),
    "busy": _("Nothing was sent: {msg}"), "invalid": _("Nothing was sent:"),
    "needs_approval": _("Refunds above {limit} need a second person's approval: send the request, and an approver "
                      "sends the refund from the Approvals page. No money moves until then."),
    "already_requested": _("A request for this payment is already waiting for approval ({who}, {when})."),
    "request_note": _("Why (for the approver)"), "request": _("Request approval"), "requested":
        _("Request sent — waiting for an approver. Nothing has been refunded yet."),
    "see_request": _("Open the request"),
    "mismatch_accepted": _("Holder name check: the bank says “{name}” — you go on because: {why}"),
    "approval_ahead": _("This refund will need a second person's approval: {why} Who can approve: {who}."),
    "approvers_local": _("a second signed-in person with the approver role (local mode has one identity only)"),
    "approvers_any": _("anyone with the approver role"),
}
st.title(T["title"])
st.caption(T["intro"])
s = session.settings()
where = s.where_label
WRITE_ERRORS = (DeskError,)          # every expected error: shown by lib/ui/outcomes.show_error
K_DRAFT, K_CONFIRM = keys.REFUND_DRAFT, keys.REFUND_CONFIRM

# ------------------------------------------------------------------ wizard state
d: refund.RefundDraft = st.session_state.get(K_DRAFT)
if not isinstance(d, refund.RefundDraft):
    d = st.session_state[K_DRAFT] = refund.RefundDraft()
q0 = session.query_imp_uid()
if q0 and d.imp_uid != q0 and d.step < 6:
    d = st.session_state[K_DRAFT] = refund.RefundDraft(imp_uid=q0)


def go(step: int) -> None:
    d.step = step


def restart() -> None:
    st.session_state[K_DRAFT] = refund.RefundDraft()
    st.query_params.clear()


def payment_summary(p) -> None:
    m = st.columns(3)             # figures that fit at 1280×800; the PG (a long name for some) in the line below
    metrics.row(m, [(T["amount"], p.amount), (T["refunded"], p.cancel_amount),
                    (T["refundable"], p.refundable if p.status == "paid" else 0)])
    st.caption(inert.say(T["summary"], pg=PG_NAMES.get(p.pg_provider, p.pg_provider or "—"), imp_uid=p.imp_uid,
                      merchant_uid=short(p.merchant_uid), buyer=short(p.buyer_name or "—", 60), paid=kst(p.paid_at),
                      status=person_status.name_of(p)))


def unknown_panel(imp_uid: str) -> bool:
    """A refund with an unknown outcome blocks new refunds of this payment until resolved."""
    return outcomes.unknown_outcome_panel("refund", imp_uid, key="rf_unknown")


def problems_box(problems: list[str]) -> None:
    st.error("\n".join(f"- {md(x)}" for x in problems))


def approvers_text() -> str:
    return T["approvers_local"] if s.identity_mode == "local" else T["approvers_any"]


# ====================================================================== step 1
def step_payment() -> None:
    with st.form("rf_lookup", border=False):
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        q = c1.text_input(T["lookup"], value=d.imp_uid, key="rf_q")
        found = c2.form_submit_button(T["find"], width="stretch", key="rf_find")
    if found and q.strip():
        d.imp_uid = q.strip()
        st.query_params["imp_uid"] = q.strip()
    if d.imp_uid:
        p = session.find_payment(d.imp_uid, T)
        payment_summary(p)
        st.markdown(f"**{T['history']}**")
        if p.cancel_history:
            st.dataframe(pd.DataFrame([{"at": kst(h.cancelled_at), "amount": h.amount,
                                        "reason": without_tag(h.reason)} for h in p.cancel_history]), hide_index=True,
                         column_config={"at": _("Refunded (KST)"), "reason": _("Reason"),
                                        "amount": st.column_config.NumberColumn(_("Amount (₩)"), format="localized")})
        else:
            st.caption(T["no_history"])
        if unknown_panel(p.imp_uid):
            st.stop()
        waiting = session.desk().waiting_request(p.imp_uid)
        if waiting:
            st.warning(inert.say(T["already_requested"], who=waiting.requester, when=kst(waiting.created_at)))
            st.page_link("app_pages/approvals.py", label=T["see_request"], query_params={"id": waiting.id})
        blockers = rules.refund_blockers(p)
        if blockers:
            st.error(T["blocked"] + "\n\n" + "\n".join(f"- {md(b)}" for b in blockers))
        else:
            d.imp_uid, d.seen, d.payment = p.imp_uid, Seen.of(p), p.model_dump(mode="json")
            st.button(T["next"], type="primary", key="rf_next1", on_click=go, args=(2,))
    st.divider()
    days = 90
    st.markdown(T["or_pick"].format(days=days))
    try:
        paid, fetched = loaders.load_paid_vbanks(days)
    except ApiError as e:
        st.error(inert.say(T["error"], err=e))
        st.stop()
    text = st.text_input(T["search"], key="rf_filter").strip().lower()
    view = paid
    if text:
        view = paid[paid["merchant_uid"].str.lower().str.contains(text, regex=False)
                    | paid["imp_uid"].str.lower().str.contains(text, regex=False)
                    | paid["buyer_name"].str.lower().str.contains(text, regex=False)]
    shown = view.assign(pg_provider=view["pg_provider"].map(pg_short),       # PGs by name, not code
                        status=person_status.labels(person_status.column(view.assign(status="paid"))))

    def px(col: str, header: str, fmt=str) -> int:        # every amount and id whole at 1280×800
        return ui_present.column_px(header, shown[col], fmt=fmt)
    won = "{:,}".format
    H = {"merchant_uid": _("Order number"), "buyer_name": _("Buyer"), "pg_provider": _("PG"), "vbank_name": _("Bank"),
         "amount": _("Amount (₩)"), "cancel_amount": _("Refunded (₩)"), "refundable": _("Refundable (₩)"),
         "paid_at": _("Paid (KST)")}
    ev = st.dataframe(shown, key="rf_paid_table", hide_index=True, on_select="rerun", selection_mode="single-row",
                      height=300,
                      column_order=["paid_at", "buyer_name", "amount", "refundable", "status", "cancel_amount",
                                    "pg_provider",
                                    "vbank_name", "merchant_uid", "imp_uid"],
                      column_config={
                          "imp_uid": st.column_config.TextColumn("imp_uid", width=px("imp_uid", "imp_uid")),
                          "status": st.column_config.TextColumn(_("Status"), width=px("status", _("Status"))),
                          "merchant_uid": st.column_config.TextColumn(H["merchant_uid"],
                                                                      width=px("merchant_uid", H["merchant_uid"])),
                          "buyer_name": st.column_config.TextColumn(H["buyer_name"],
                                                                    width=px("buyer_name", H["buyer_name"])),
                          "pg_provider": st.column_config.TextColumn(H["pg_provider"],
                                                                     width=px("pg_provider", H["pg_provider"])),
                          "vbank_name": st.column_config.TextColumn(H["vbank_name"],
                                                                    width=px("vbank_name", H["vbank_name"])),
                          "amount": st.column_config.NumberColumn(H["amount"], format="localized",
                                                                  width=px("amount", H["amount"], won)),
                          "cancel_amount": st.column_config.NumberColumn(H["cancel_amount"], format="localized",
                                                                         width=px("cancel_amount", H["cancel_amount"], won)),
                          "refundable": st.column_config.NumberColumn(H["refundable"], format="localized",
                                                                      width=px("refundable", H["refundable"], won)),
                          "paid_at": st.column_config.DatetimeColumn(H["paid_at"], format="YYYY-MM-DD HH:mm",
                                                                     timezone="Asia/Seoul", width=140)})
    st.caption(session.last_refreshed(fetched) + " · " + T["pick_hint"])
    if paid.attrs.get("not_refundable_here"):
        st.caption(T["no_api_refund"].format(n=paid.attrs["not_refundable_here"]))
    rows = ev.selection.rows if ev is not None else []
    if rows and rows[0] < len(view):
        chosen = view.iloc[rows[0]]["imp_uid"]          # the row position becomes a payment at once
        if chosen != d.imp_uid:
            st.session_state[K_DRAFT] = refund.RefundDraft(imp_uid=chosen)
            st.query_params["imp_uid"] = chosen
            st.rerun()


# ====================================================================== step 2
def step_amount(p) -> None:
    with st.form("rf_amount_form", enter_to_submit=False):     # Enter never moves a step
        kind = st.radio(T["kind"], ["full", "partial"], horizontal=True, key="rf_kind",
                        index=0 if (d.amount or p.refundable) == p.refundable else 1,
                        format_func={"full": T["full"], "partial": T["partial"]}.get)
        amount = st.text_input(T["refund_amount"], value=won_text(d.amount or p.refundable), key="rf_amount",
                               max_chars=20,
                               help=T["amount_help"])
        codes = list(s.rules.refund_reasons)
        reason = st.selectbox(T["reason"], codes, format_func=lambda c: s.rules.refund_reasons[c], help=T["reason_help"],
                              index=codes.index(d.reason_code) if d.reason_code in codes else 0, key="rf_reason")
        note = st.text_input(T["note"], value=d.note, max_chars=200, key="rf_note")
        with st.expander(T["tax"]):
            tax_free = st.text_input(T["tax_free"], value=won_text(d.tax_free), key="rf_tax_free", max_chars=20)
            vat = st.text_input(T["vat"], value=won_text(d.vat_amount), key="rf_vat", max_chars=20)
        nxt = st.form_submit_button(T["next"], type="primary", key="rf_next2")
    st.button(T["back"], key="rf_back2", on_click=go, args=(1,))
    if not nxt:
        return
    parsed = {k: parse_won(v, what=w) for k, v, w in (
        ("amount", amount, _("The refund amount")), ("tax_free", tax_free, _("The tax-free amount")),
        ("vat", vat, _("The VAT amount")))}
    typing = [why for _k, why in parsed.values() if why]
    amt = p.refundable if kind == "full" else parsed["amount"][0]
    if kind == "partial" and amt is None and not typing:
        typing.append(_("Enter the refund amount."))
    draft = RefundRequest(imp_uid=p.imp_uid, amount=amt if amt is not None else 0, reason_code=reason, note=note,
                          tax_free=parsed["tax_free"][0], vat_amount=parsed["vat"][0])
    problems = typing or rules.validate_refund_amount(p, draft, s.rules)
    if problems:
        problems_box(problems)
        return
    d.amount, d.reason_code, d.note, d.tax_free, d.vat_amount = amt, reason, note, draft.tax_free, draft.vat_amount
    d.extra["approval"] = session.desk().approval_needed(p, amt)      # known now, not at the last step
    go(3)
    st.rerun()


# ====================================================================== step 3
def step_account(p) -> None:
    options = banks.refund_banks(p.pg_provider)
    by_code = {b.code: b for b in options}
    codes = list(by_code)
    last = session.desk().last_refund_account(p.imp_uid)
    # The offer has a slot of its own, there whether or not it is shown: taking it does not move the form below, so
    # the browser updates the account fields in place instead of drawing a second set beside stale ones.
    offer = st.container()
    if last is not None and last.bank in by_code and not d.account:
        def reuse() -> None:
            d.holder, d.bank, d.account, d.tel = last.holder, last.bank, last.account, last.tel or ""
            st.session_state.update({"rf_holder": last.holder, "rf_bank": last.bank, "rf_account": last.account,
                                     "rf_tel": last.tel or ""})
        with offer.container(border=True):
            st.markdown(inert.say(T["reuse"], bank=by_code[last.bank].label, account=mask_account(last.account),
                                  holder=last.holder, when=kst(datetime.fromtimestamp(last.at, KST))))
            st.button(T["reuse_go"], key="rf_reuse", on_click=reuse, icon=":material/history:")
    with st.form("rf_account_form", enter_to_submit=False):
        holder = st.text_input(T["holder"], value=d.holder, key="rf_holder", max_chars=NAME_MAX)
        bank = st.selectbox(T["bank"], codes, format_func=lambda c: by_code[c].label,
                            index=codes.index(d.bank) if d.bank in codes else None,
                            placeholder=T["bank_placeholder"], key="rf_bank")
        account = st.text_input(T["account"], value=d.account, key="rf_account", help=T["account_help"])
        if d.account:
            st.caption(inert.say(T["typed_account"], digits=d.account, n=len(digits_only(d.account))))
        tel = st.text_input(T["tel"], value=d.tel, key="rf_tel") if p.pg_provider in pg_rules.REFUND_TEL_REQUIRED else ""
        c1, c2 = st.columns(2)
        check = c1.form_submit_button(T["check"], key="rf_check")
        nxt = c2.form_submit_button(T["next"], type="primary", key="rf_next3")
    st.button(T["back"], key="rf_back3", on_click=go, args=(2,))
    if check or nxt:
        d.holder, d.bank, d.account, d.tel = holder, bank, account, tel or ""
    key_now = refund.holder_check_key(d.bank or "", d.account, d.holder)
    current = d.holder_check and d.holder_check.get("key") == key_now
    invalid = rules.validate_refund_account(p, d.request()) if nxt else []
    if (check or (nxt and not current and not invalid)) and bank:   # Next checks with the bank too: never skipped
        try:
            name = session.desk().holder(by_code[bank].kftc, digits_only(account))
            d.holder_check = {"key": key_now, "name": name, "ok": rules.holder_matches(holder, name)}
        except ApiError as e:
            d.holder_check = {"key": key_now, "name": None, "ok": False, "error": e.message}
    chk = d.holder_check
    if chk:
        if chk["key"] != key_now:
            st.info(T["check_stale"])
        elif chk.get("error"):
            st.warning(inert.say(T["check_fail"], msg=chk["error"]))
        elif chk["ok"]:
            st.success(inert.say(T["check_ok"], name=chk["name"]))
        else:
            st.error(inert.say(T["check_bad"], name=chk["name"], typed=d.holder))
            if chk.get("name"):                  # one click takes the bank's name: that is the name sent
                st.button(T["use_bank_name"], key="rf_use_bank_name", type="primary", icon=":material/sync_alt:",
                          on_click=take_bank_name, args=(chk["name"],))
                st.caption(T["keep_typed"])
    needs_reason = d.holder_needs_reason()
    if needs_reason:
        d.holder_override = st.text_area(T["override"].format(n=rules.HOLDER_OVERRIDE_MIN), value=d.holder_override,
                                         key="rf_override", max_chars=NOTE_MAX, height=80)
    reason_ok = not needs_reason or len(d.holder_override.strip()) >= rules.HOLDER_OVERRIDE_MIN
    if nxt and not reason_ok:
        st.error(T["override_needed"].format(n=rules.HOLDER_OVERRIDE_MIN))
    elif nxt:
        problems = rules.validate_refund_account(p, d.request())
        if problems:
            problems_box(problems)
        else:
            go(4)
            st.rerun()


def take_bank_name(name: str) -> None:
    """The holder becomes the bank's own name for the account: the check that named it now matches, no reason asked."""
    d.holder = name
    st.session_state["rf_holder"] = name
    d.holder_override = ""
    st.session_state.pop("rf_override", None)
    d.holder_check = {"key": refund.holder_check_key(d.bank or "", d.account, name), "name": name, "ok": True}


# ====================================================================== step 4
def step_fees(p, rule) -> None:
    impact = fees.fee_impact(p.amount, p.cancel_amount, d.amount, rule, previous_refunds=len(p.cancel_history))
    st.subheader(T["fee_title"])
    st.caption(inert.say(T["fee_rule"], pg=pg_name(p.pg_provider), iss=krw(rule.issuance_fee), rem=krw(rule.remittance_fee),
                      vat=T["vat_on"] if rule.vat_on_fees else T["vat_off"]))
    c1, c2 = st.columns([1, 1])
    c1.table(pd.DataFrame(ui_present.fee_rows(impact)).set_index(""))
    wf = ui_present.waterfall(impact)
    c2.altair_chart(alt.Chart(wf).mark_bar().encode(
        x=alt.X("step:N", sort=list(wf["step"]), title=None),
        y=alt.Y("start:Q", title="₩", axis=alt.Axis(format=",d")), y2="end:Q",
        color=alt.Color("kind:N", scale=alt.Scale(domain=["total", "cost", "gain"],
                                                   range=["#1f4e79", "#d62728", "#2ca02c"]), legend=None),
        tooltip=["step:N", alt.Tooltip("delta:Q", format=",d")]), width="stretch")
    st.info(ui_present.cost_sentence(impact))
    b1, b2 = st.columns([1, 5])
    b1.button(T["back"], key="rf_back4", on_click=go, args=(3,))
    b2.button(T["next"], type="primary", key="rf_next4", on_click=go, args=(5,))


# ====================================================================== step 5
def step_confirm(p, rule) -> None:
    if send_once.result(d.action) is not None:        # just sent: its outcome first (an unknown one in full)
        go(6)
        st.rerun()
    if unknown_panel(p.imp_uid):
        st.stop()
    bank = banks.bank_by_code(p.pg_provider, d.bank)
    request = d.request()
    st.subheader(T["confirm_title"])
    sent = {"imp_uid": p.imp_uid, _("Refund amount"): krw(request.amount),
            _("Refundable balance it is checked against"): krw(p.refundable),
            _("Reason sent to the PG"): request.reason_text(s.rules), _("Account holder"): request.refund_holder,
            _("Bank"): bank.label if bank else "?",
            _("Account number"): mask_account(digits_only(request.refund_account))}
    if request.refund_tel:
        sent[_("Customer phone")] = mask_phone(request.refund_tel)
    if request.tax_free is not None:
        sent[_("Tax-free part")] = krw(request.tax_free)
    if request.vat_amount is not None:
        sent[_("VAT part")] = krw(request.vat_amount)
    inert.table(pd.DataFrame({_("Value"): sent}))
    if p.cash_receipt_issued:
        st.warning(T["cash_receipt"], icon=":material/receipt_long:")
    mismatch = d.holder_mismatch()
    if d.holder_needs_reason():
        st.warning(inert.say(T["mismatch_accepted"], name=mismatch or "—", why=d.holder_override))
    typed_ok = True
    if request.amount > s.rules.refund_typed_confirm_above:
        typed = st.text_input(T["typed"].format(amount=krw(request.amount)), key="rf_typed")
        typed_ok = refund.typed_amount_ok(typed, request.amount)
        if typed and not typed_ok:
            st.error(T["typed_bad"])
        elif not typed_ok:
            st.caption(T["typed_first"])                 # why the send button below is disabled, as text
    d.action = d.action or send_once.new_action()
    aid = d.action
    b1, b2 = st.columns([1, 5])
    b1.button(T["back"], key="rf_back5", on_click=go, args=(4,))
    waiting = session.desk().waiting_request(p.imp_uid)
    why_approval = session.desk().approval_needed(p, request.amount)
    if waiting or why_approval:
        st.info(md(why_approval) if why_approval else T["needs_approval"].format(limit=krw(s.rules.refund_approval_above)))
        if waiting:
            st.warning(inert.say(T["already_requested"], who=waiting.requester, when=kst(waiting.created_at)))
            st.page_link("app_pages/approvals.py", label=T["see_request"], query_params={"id": waiting.id})
            st.stop()
        st.text_input(T["request_note"], key="rf_request_note")     # read in the callback, from session state
        impact = fees.fee_impact(p.amount, p.cancel_amount, request.amount, rule,
                                 previous_refunds=len(p.cancel_history))

        def make_request():
            return session.desk().request_refund(
                request, d.seen, note=st.session_state.get("rf_request_note") or None,   # read in the callback
                fee_preview={"settled": impact.settled, "refund_cost": impact.refund_cost,
                             "net_after": impact.net_after, "balance_after": impact.balance_after,
                             "remittance_fee": impact.remittance_fee, "issuance_fee": impact.issuance_fee})

        b2.button(T["request"], type="primary", key="rf_request", disabled=not typed_ok,
                  on_click=send_once.on_click(aid, make_request, WRITE_ERRORS, then=lambda: go(6)),
                  help=None if typed_ok else T["typed_first"])
        st.stop()
    if b2.button(T["send"], type="primary", key="rf_send", disabled=not typed_ok,
                 help=None if typed_ok else T["typed_first"]):
        st.session_state[K_CONFIRM] = aid
    def perform():                  # lib checks the holder again right before sending, and records it
        return session.desk().refund(request, d.seen, action_key=aid)

    if send_once.result(aid) is not None:
        go(6)
        st.rerun()
    if st.session_state.get(K_CONFIRM) == aid and typed_ok:
        @st.dialog(T["dialog"], dismissible=False)
        def confirm():
            st.write(inert.say(T["dialog_body"], where=where, amount=krw(request.amount),
                            bank=bank.label if bank else d.bank,
                            account=mask_account(digits_only(request.refund_account))))
            send_once.confirm_and_send(aid, open_key=K_CONFIRM, key="rf_go", confirm_label=T["go"],
                                cancel_label=T["cancel"], sending_label=T["sending"], perform=perform,
                                expected_errors=WRITE_ERRORS)
        confirm()


# ====================================================================== step 6
def step_result() -> None:
    res = send_once.result(d.action)
    if isinstance(res, WriteResult):
        {"succeeded": st.success, "failed": st.error, "unknown": st.warning}[res.outcome](
            T["ok"] if res.ok and not res.confirmed_by_reread else md(res.message))
        if res.payment is not None:
            try:                                 # the figures as the API has them now, not as they were
                now_p = session.desk().payment(res.payment.imp_uid)
            except ApiError:
                now_p = res.payment
            payment_summary(now_p)
            if res.ok:
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


# ====================================================================== the wizard
st.progress(d.step / 6, text=T["step"].format(n=d.step, name=T["steps"][d.step - 1]))
if d.step == 1:
    step_payment()
    st.stop()
if d.step == 6:
    step_result()
    st.stop()
# Steps 2–5 work on the payment chosen in step 1 (as it was then; the send re-checks it).
chosen = d.chosen()
fee_rule = s.rules.fee_rule(chosen.pg_provider)
payment_summary(chosen)
if d.step > 2 and d.extra.get("approval"):
    st.info(inert.say(T["approval_ahead"], why=d.extra["approval"], who=approvers_text()))
{2: lambda: step_amount(chosen), 3: lambda: step_account(chosen), 4: lambda: step_fees(chosen, fee_rule),
 5: lambda: step_confirm(chosen, fee_rule)}[d.step]()
