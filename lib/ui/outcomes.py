"""How a page shows what an action gave back, one display dispatching on its type (``show``): a write's outcome
(succeeded / failed / unknown, with the audit link), an approval request made, or why nothing was sent; and the
panel of a write whose outcome is unknown, with its two ways out."""

from __future__ import annotations

import streamlit as st

from lib.db.approvals import ApprovalRequest
from lib.domain.errors import DeskError
from lib.domain.fmt import kst
from lib.domain.i18n import N_, _
from lib.domain.i18n import gettext as translate
from lib.domain.names import why
from lib.domain.outcomes import WriteResult
from lib.domain.refusals import Busy, Stale
from lib.domain.rules import InvalidInput
from lib.domain.text import md
from lib.iamport.errors import ApiError
from lib.ui import keys
from lib.ui.session import desk, desk_for

# ------------------------------------------------------------------ outcomes
UNKNOWN_TEXT = {
    "refund": N_("A refund of this payment has an unknown outcome"),
    "update_vbank": N_("A change of this virtual account has an unknown outcome"),
    "revoke_vbank": N_("A cancellation of this virtual account has an unknown outcome"),
    "recheck": N_("Check the payment again"),
    "not_applied": N_("I checked the PG console: it was NOT applied"),
    "resolve_no": N_("Resolve as not applied"),
}


def unknown_outcome_panel(kind: str, imp_uid: str, *, key: str, api: str | None = None) -> bool:
    """At the top of a page: a write of this payment whose outcome is unknown (or whose app process died),
    with the two ways out — re-read the payment (through its own API: ``api``), or resolve as not applied after
    checking the PG console. True while it is unresolved (the page then sends nothing for this payment)."""
    dk = desk_for(api) if api else desk()
    held = dk.open_outcome(kind, imp_uid)
    flash = st.session_state.pop(keys.flash(key), None)
    if flash:
        (st.success if flash[0] != "unknown" else st.info)(md(flash[1]))
    if not held or held.state != "unknown":
        return False
    st.warning(f"**{_(UNKNOWN_TEXT[kind])}** ({md(held.operator)}, {kst(held.since)}): {md(why(held.note))}")
    a, b = st.columns(2)
    confirm_not = b.checkbox(translate(UNKNOWN_TEXT["not_applied"]), key=f"{key}_not_applied")
    if a.button(translate(UNKNOWN_TEXT["recheck"]), key=f"{key}_recheck") or (
            confirm_not and b.button(translate(UNKNOWN_TEXT["resolve_no"]), key=f"{key}_resolve_no")):
        try:
            res = dk.resolve(kind, imp_uid, confirm_not_applied=confirm_not)
            st.session_state[keys.flash(key)] = (res.outcome, res.message)
        except DeskError as e:
            st.session_state[keys.flash(key)] = ("unknown", str(e))
        st.rerun()
    return True


OUTCOME_TEXT = {"audit_link": N_("See it in the audit log"), "requested": N_("Approval requested."),
                "see_request": N_("Open the request")}
BOXES = {"succeeded": st.success, "failed": st.error, "unknown": st.warning}


def show(res: object, text: dict) -> None:
    """Whatever an action gave back (lib/ui/send_once.result), in the page's words (``text``: stale, busy, invalid,
    error; optional audit_link, requested, see_request)."""
    if isinstance(res, WriteResult):
        show_outcome(res, text)
    elif isinstance(res, ApprovalRequest):
        st.success(text.get("requested", translate(OUTCOME_TEXT["requested"])))
        st.page_link("app_pages/approvals.py", label=text.get("see_request", translate(OUTCOME_TEXT["see_request"])),
                     query_params={"id": res.id})
    elif res is not None:
        show_refusal(res, text)


def show_outcome(res: object, text: dict) -> None:
    """What a write did (a WriteResult: succeeded / failed / unknown, with the audit link), or why it was not
    sent (a refusal: ``text`` has the page's stale / busy / invalid / error sentences)."""
    if isinstance(res, WriteResult):
        BOXES[res.outcome](md(res.message))
        if res.correlation_id:
            st.page_link("app_pages/audit.py", label=text.get("audit_link", translate(OUTCOME_TEXT["audit_link"])),
                         icon=":material/receipt_long:", query_params={"correlation_id": res.correlation_id})
    else:
        show_refusal(res, text)


def show_error(err: DeskError, text: dict | None = None) -> None:
    """The one display of an expected error (lib/domain/errors.DeskError), in the page's own words when it has them
    (``text`` keys: stale, busy, invalid, error; each optional). Every value from outside is escaped: it is shown as
    text, never as markdown."""
    text = text or {}
    if isinstance(err, Stale):
        changes = md("; ".join(err.changes))
        st.warning(text["stale"].format(changes=changes) if "stale" in text else changes)
    elif isinstance(err, Busy):
        st.warning(text["busy"].format(msg=md(err)) if "busy" in text else md(err))
        if err.request_id:
            st.page_link("app_pages/approvals.py", label=_("Open the request waiting for approval"),
                         query_params={"id": err.request_id})
    elif isinstance(err, InvalidInput):
        lines = "\n".join(f"- {md(p)}" for p in err.problems)
        st.error(text["invalid"] + "\n\n" + lines if "invalid" in text else lines)
    elif isinstance(err, ApiError) and "error" in text:
        st.error(text["error"].format(err=md(err)))
    else:                            # NeedsApproval, Forbidden, ApprovalProblem, any other DeskError: its sentence
        st.error(md(err))


def show_refusal(err: object, text: dict) -> bool:
    """``show_error`` for whatever an action raised; False when ``err`` is not an expected error (nothing shown)."""
    if not isinstance(err, DeskError):
        return False
    show_error(err, text)
    return True
