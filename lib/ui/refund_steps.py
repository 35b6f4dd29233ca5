"""The refund wizard's first four steps (app_pages/refund.py composes them): the payment, the amount and reason, the
refund account with the bank's holder check, the fee impact. Each step reads and fills the session's draft
(lib/ui/refund_draft.py); the confirm and result steps are in lib/ui/refund_confirm.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from lib.domain import banks, fees, pg_rules, portone_v2, rules
from lib.domain import status as person_status
from lib.domain.clock import KST
from lib.domain.errors import DeskError
from lib.domain.fmt import digits_only, krw, kst, mask_account
from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.domain.names import PG_NAMES, pg_name, pg_short
from lib.domain.rules import RefundRequest, Seen
from lib.domain.settings import FeeRule
from lib.domain.text import NAME_MAX, NOTE_MAX, md, parse_won, short, without_tag, won_text
from lib.ui import freshness, inert, keys, loaders, metrics, open_payment, outcomes, session
from lib.ui import present as ui_present
from lib.ui.refund_draft import RefundDraft, go

Texts = dict[str, Any]


def payment_summary(p: Payment, T: Texts) -> None:
    m = st.columns(3)             # figures that fit at 1280×800; the PG (a long name for some) in the line below
    metrics.row(m, [(T["amount"], p.amount), (T["refunded"], p.cancel_amount),
                    (T["refundable"], max(0, p.refundable - ui_present.requested_refund(p)) if p.status == "paid"
                     else 0)])     # a V2 refund requested and not yet done is not refundable again
    st.caption(inert.say(T["summary"], pg=PG_NAMES.get(p.pg_provider, p.pg_provider or "—"), imp_uid=p.imp_uid,  # type: ignore[arg-type]  # no PG: .get(None) gives "—"
                      merchant_uid=short(p.merchant_uid), buyer=short(p.buyer_name or "—", 60), paid=kst(p.paid_at),
                      status=ui_present.status_words(p)))


def unknown_panel(imp_uid: str, api: str | None = None) -> bool:
    """A refund with an unknown outcome blocks new refunds of this payment until resolved."""
    return outcomes.unknown_outcome_panel("refund", imp_uid, key="rf_unknown", api=api)


def problems_box(problems: list[str]) -> None:
    st.error("\n".join(f"- {md(x)}" for x in problems))


def approvers_text(T: Texts) -> str:
    return T["approvers_local"] if session.settings().identity_mode == "local" else T["approvers_any"]


# ====================================================================== step 1
def step_payment(d: RefundDraft, T: Texts) -> None:
    with st.form("rf_lookup", border=False):
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        q = c1.text_input(T["lookup"], value=d.imp_uid, key="rf_q")
        found = c2.form_submit_button(T["find"], width="stretch", key="rf_find")
    if found and q.strip():
        d.imp_uid = q.strip()
        st.query_params["imp_uid"] = q.strip()
        if "api" in st.query_params:            # a typed id: its version is found, not the last link's
            del st.query_params["api"]
    if d.imp_uid:
        p, d.api = open_payment.find(d.imp_uid, T)
        payment_summary(p, T)
        st.markdown(f"**{T['history']}**")
        if p.cancel_history:
            st.dataframe(pd.DataFrame([{"at": kst(h.cancelled_at), "amount": h.amount,
                                        "reason": without_tag(h.reason)} for h in p.cancel_history]), hide_index=True,
                         column_config={"at": _("Refunded (KST)"), "reason": _("Reason"),
                                        "amount": st.column_config.NumberColumn(_("Amount (₩)"), format="localized")})
        else:
            st.caption(T["no_history"])
        if unknown_panel(p.imp_uid, d.api):
            st.stop()
        waiting = session.desk().waiting_request(p.imp_uid)
        if waiting:
            st.warning(inert.say(T["already_requested"], who=waiting.requester, when=kst(waiting.created_at)))
            st.page_link("app_pages/approvals.py", label=T["see_request"], query_params={"id": waiting.id})
        blockers = portone_v2.refund_blockers(p) if d.v2 else rules.refund_blockers(p)
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
    except DeskError as e:
        st.error(inert.say(T["error"], err=e))
        st.stop()
    text = st.text_input(T["search"], key="rf_filter").strip().lower()
    view = paid
    if text:
        view = paid[paid["merchant_uid"].str.lower().str.contains(text, regex=False)
                    | paid["imp_uid"].str.lower().str.contains(text, regex=False)
                    | paid["buyer_name"].str.lower().str.contains(text, regex=False)]
    shown = view.assign(pg_provider=view["pg_provider"].map(pg_short),       # PGs by name, not code
                        status=person_status.labels(person_status.column(view.assign(status="paid"))),
                        api=view["api"].map(open_payment.api_words))

    def px(col: str, header: str, fmt: Callable[[Any], object] = str) -> int:        # every amount and id whole at 1280×800
        return ui_present.column_px(header, shown[col], fmt=fmt)
    won = "{:,}".format
    H = {"merchant_uid": _("Order number"), "buyer_name": _("Buyer"), "pg_provider": _("PG"), "vbank_name": _("Bank"),
         "amount": _("Amount (₩)"), "cancel_amount": _("Refunded (₩)"), "refundable": _("Refundable (₩)"),
         "paid_at": _("Paid (KST)")}
    ev = st.dataframe(shown, key="rf_paid_table", hide_index=True, on_select="rerun", selection_mode="single-row",
                      height=300,
                      column_order=["paid_at", "buyer_name", "amount", "refundable", "status", "cancel_amount",
                                    "pg_provider", *(["api"] if open_payment.both() else []),
                                    "vbank_name", "merchant_uid", "imp_uid"],
                      column_config={
                          "imp_uid": st.column_config.TextColumn("imp_uid", width=px("imp_uid", "imp_uid")),
                          "status": st.column_config.TextColumn(_("Status"), width=px("status", _("Status"))),
                          "api": st.column_config.TextColumn(T["api"], width=px("api", T["api"])),
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
    freshness.line(fetched, "rf_refresh", extra=T["pick_hint"])
    if paid.attrs.get("not_refundable_here"):
        st.caption(T["no_api_refund"].format(n=paid.attrs["not_refundable_here"]))
    rows = ev.selection.rows if ev is not None else []
    if rows and rows[0] < len(view):
        chosen, api = view.iloc[rows[0]]["imp_uid"], view.iloc[rows[0]]["api"]   # the row becomes a payment at once
        if chosen != d.imp_uid:
            st.session_state[keys.REFUND_DRAFT] = RefundDraft(imp_uid=chosen, api=api)
            st.query_params.from_dict(open_payment.params(chosen, api))
            st.rerun()


# ====================================================================== step 2
def step_amount(d: RefundDraft, T: Texts, p: Payment) -> None:
    s = session.settings()
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
    if problems or amt is None:
        problems_box(problems)
        return
    d.amount, d.reason_code, d.note, d.tax_free, d.vat_amount = amt, reason, note, draft.tax_free, draft.vat_amount
    d.extra["approval"] = session.desk().approval_needed(p, amt)      # known now, not at the last step
    go(3)
    st.rerun()


# ====================================================================== step 3
def step_account(d: RefundDraft, T: Texts, p: Payment) -> None:
    # V2 refunds to one standard bank list (the enum is the code sent); V1 to the PG's own codes.
    options = portone_v2.refund_banks() if d.v2 else banks.refund_banks(p.pg_provider)
    check_account = portone_v2.validate_refund_account if d.v2 else rules.validate_refund_account
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
        tel = st.text_input(T["tel"], value=d.tel, key="rf_tel") if p.pg_provider in pg_rules.REFUND_TEL_REQUIRED or (
            d.v2 and pg_rules.needs_refund_tel(p.pg_provider)) else ""
        if d.v2:                    # no lookup exists: said, never a name shown as "checked"
            st.caption(T["no_holder_v2"])
        c1, c2 = st.columns(2)
        check = False if d.v2 else c1.form_submit_button(T["check"], key="rf_check")
        nxt = c2.form_submit_button(T["next"], type="primary", key="rf_next3")
    st.button(T["back"], key="rf_back3", on_click=go, args=(2,))
    if check or nxt:
        d.holder, d.bank, d.account, d.tel = holder, bank, account, tel or ""
    current = d.current_check() is not None
    invalid = check_account(p, d.request()) if nxt else []
    if (check or (nxt and not current and not invalid)) and bank and not d.v2:   # Next checks with the bank: never skipped
        d.holder_check = session.desk().holder_check(p, d.request())
    chk = d.holder_check
    if chk:
        if d.current_check() is None:
            st.info(T["check_stale"])
        elif chk.error:
            st.warning(inert.say(T["check_fail"], msg=chk.error))
        elif chk.ok:
            st.success(inert.say(T["check_ok"], name=chk.bank_says))
        else:
            st.error(inert.say(T["check_bad"], name=chk.bank_says, typed=d.holder))
            if chk.bank_says:                    # one click takes the bank's name: that is the name sent
                st.button(T["use_bank_name"], key="rf_use_bank_name", type="primary", icon=":material/sync_alt:",
                          on_click=take_bank_name, args=(d,))
                st.caption(T["keep_typed"])
    needs_reason = d.holder_needs_reason()
    if needs_reason:
        d.holder_override = st.text_area(T["override"].format(n=rules.HOLDER_OVERRIDE_MIN), value=d.holder_override,
                                         key="rf_override", max_chars=NOTE_MAX, height=80)
    reason_ok = not needs_reason or len(d.holder_override.strip()) >= rules.HOLDER_OVERRIDE_MIN
    if nxt and not reason_ok:
        st.error(T["override_needed"].format(n=rules.HOLDER_OVERRIDE_MIN))
    elif nxt:
        problems = check_account(p, d.request())
        if problems:
            problems_box(problems)
        else:
            go(4)
            st.rerun()


def take_bank_name(d: RefundDraft) -> None:
    """The holder becomes the bank's own name for the account: the check that named it now matches, no reason asked."""
    assert d.holder_check is not None
    d.holder_check = d.holder_check.taking_bank_name()
    d.holder = d.holder_check.typed
    st.session_state["rf_holder"] = d.holder
    d.holder_override = ""
    st.session_state.pop("rf_override", None)


# ====================================================================== step 4
def step_fees(d: RefundDraft, T: Texts, p: Payment, rule: FeeRule) -> None:
    impact = fees.fee_impact(p.amount, p.cancel_amount, int(d.amount or 0), rule, previous_refunds=len(p.cancel_history))
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


