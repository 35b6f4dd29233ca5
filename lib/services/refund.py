"""POST /payments/cancel: a paid virtual account's refund, once (lib/services/write.py), with the bank's holder
check and the four-eyes limits checked by lib itself right before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lib.db.appdb import AppDb
from lib.db.approvals import ApprovalProblem, ApprovalRequest, ApprovalStore
from lib.domain import banks, pg_rules, portone_v2
from lib.domain.clock import KST
from lib.domain.fmt import krw
from lib.domain.holder_check import HolderCheck, holder_check_key
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import REQUEST_STATUS_OF, Action, Outcome, RequestKind, RequestStatus, WriteKind
from lib.domain.models import Payment
from lib.domain.outcomes import WriteResult
from lib.domain.refusals import Busy, NeedsApproval, Refusal
from lib.domain.rules import InvalidInput, RefundRequest, Seen, holder_matches, validate_refund
from lib.domain.settings import Rules
from lib.domain.text import ascii_digits, clean, write_tag
from lib.iamport.errors import ApiError
from lib.iamport.v2.client import DeskClient, version_of
from lib.services.write import Write


def holder_check(client: DeskClient, pg_provider: str | None, request: RefundRequest) -> HolderCheck:
    """The bank's account-holder name for the refund account (GET /vbanks/holder), compared with the name typed. Made
    by the wizard when the operator asks, and by lib itself right before a refund is sent or requested, so it cannot
    be skipped."""
    bank = banks.bank_by_code(pg_provider, request.refund_bank)
    typed = clean(request.refund_holder)
    key = holder_check_key(request.refund_bank, request.refund_account, request.refund_holder)
    label = bank.label if bank else request.refund_bank
    if version_of(client) == portone_v2.V2:        # V2 has no holder lookup: told, passed, and kept in the audit
        return HolderCheck(key, portone_v2.bank_label(request.refund_bank), typed,
                           error=_("PortOne V2 offers no account-holder lookup"), available=False)
    if bank is None or not bank.kftc:
        return HolderCheck(key, label, typed, error=_("this bank offers no holder lookup"), available=False)
    try:
        name = client.holder(bank.kftc, ascii_digits(request.refund_account))
    except ApiError as e:
        return HolderCheck(key, label, typed, error=e.message)
    return HolderCheck(key, label, typed, bank_says=name, ok=holder_matches(typed, name))


@dataclass(frozen=True)
class RefundPlan:
    """One refund as planned, built once (``plan_refund``): what the wizard's confirm step shows, what an approval
    request carries, what ``refund_vbank`` sends — its ``checksum`` (the refundable balance re-read right before
    sending) and the write's proof tag added then. ``holder_check``: the check the operator saw (lib checks again
    right before sending); ``approval_needed``: why a second person must approve (None: no approval needed);
    ``problems``: why it cannot be sent as it is (sentences)."""

    request: RefundRequest
    seen: Seen
    body: dict[str, Any]
    holder_check: HolderCheck | None
    approval_needed: str | None
    problems: list[str]


def refund_body(p: Payment, request: RefundRequest, rules: Rules) -> dict[str, Any]:
    """POST /payments/cancel's fields for this refund of ``p`` (the checksum is the refundable balance as read)."""
    content = request.content()
    body: dict[str, Any] = {"imp_uid": request.imp_uid, "amount": request.amount, "checksum": p.refundable,
                            "reason": request.reason_text(rules), "refund_holder": content["refund_holder"],
                            "refund_bank": request.refund_bank, "refund_account": content["refund_account"]}
    if pg_rules.needs_refund_tel(p.pg_provider) or content["refund_tel"]:
        body["refund_tel"] = content["refund_tel"]
    if request.tax_free is not None:
        body["tax_free"] = request.tax_free
    if request.vat_amount is not None and pg_rules.takes_vat_amount(p.pg_provider):
        body["vat_amount"] = request.vat_amount
    return body


def validate_for(p: Payment, request: RefundRequest, rules: Rules) -> list[str]:
    """``validate_refund`` by the payment's API: V2 refunds to the standard bank list (lib/domain/portone_v2.py)."""
    v2 = portone_v2.api_version(p) == portone_v2.V2
    return (portone_v2.validate_refund if v2 else validate_refund)(p, request, rules)


def _refund_facts(p: Payment) -> dict[str, Any]:
    """What the reply says of the refund, for the audit: the entry it made, and on V2 whether it is done or only
    requested (an asynchronous cancel: 환불 요청됨 until its webhook or a re-read says otherwise)."""
    extra = p.model_extra or {}
    status = extra.get("cancel_status")
    if status == "requested":
        entry = next((c for c in extra.get("cancel_requests") or () if c.get("cancellation_id") ==
                      extra.get("cancellation_id")), None)
        return {"cancel_history_entry": entry, "cancel_status": status, "cancellation_id": extra.get("cancellation_id")}
    out: dict[str, Any] = {"cancel_history_entry": p.cancel_history[-1].model_dump(mode="json")
                           if p.cancel_history else None}
    if status:
        out.update(cancel_status=status, cancellation_id=extra.get("cancellation_id"))
    return out


def plan_refund(db: AppDb, p: Payment, request: RefundRequest, operator: Actor, rules: Rules, *,
                holder_check: HolderCheck | None = None) -> RefundPlan:
    """The refund of ``p`` (as the operator saw it) planned once: its body, the holder check given, whether it needs
    approval, what stops it. No API call: the wizard has made its check; the send checks again."""
    problems = validate_for(p, request, rules)
    if holder_check is not None and holder_check.current_for(request.refund_bank, request.refund_account,
                                                             request.refund_holder):
        why_not = holder_check.problem(request.holder_override)
        if why_not:
            problems = [*problems, why_not]
    return RefundPlan(request, Seen.of(p), refund_body(p, request, rules), holder_check,
                      approval_needed(db, p, request.amount, operator, rules), problems)


# ====================================================================== refund
# ------------------------------------------------------------------ four eyes
def refunded_by_operator(db: AppDb, operator: str, *, hours: int) -> int:
    """What one operator sent as refunds without an approval in the last ``hours`` hours and that did not
    provably fail (sent, succeeded or unknown all count): one sum over ``writes`` (lib/db/writes.py)."""
    since = datetime.now(KST) - timedelta(hours=hours)
    return db.writes.refunded_without_approval(operator, since=since.timestamp())


def approval_needed(db: AppDb, p: Payment, amount: int, operator: Actor, rules: Rules) -> str | None:
    """Why a refund of ``amount`` on ``p`` by ``operator`` needs a second person's approval (None: it does
    not). The limit counts what the payment was refunded before, so splitting a refund does not avoid it; a
    second, rolling limit counts what this operator refunded without approval recently."""
    limit = rules.refund_approval_above
    total = p.cancel_amount + amount
    if total > limit:
        before = _(" It was refunded {cancel_amount} before, so this brings it to {total}.").format(
            cancel_amount=krw(p.cancel_amount), total=krw(total)) \
            if p.cancel_amount else ""
        return (_("Refunds above {limit} per payment need a second person's approval.{before} Request it; an approver "
                  "sends it.").format(limit=krw(limit), before=before))
    wl = rules.refund_operator_window_limit
    if wl is not None:
        done = refunded_by_operator(db, operator.email, hours=rules.refund_operator_window_hours)
        if done + amount > wl:
            return (_("You refunded {done} without approval in the last {hours} hours; with this refund it would be "
                      "{total}, above the {wl} limit per person. Request approval; an approver sends it.").format(
                          done=krw(done), hours=rules.refund_operator_window_hours, total=krw(done + amount), wl=krw(wl)))
    return None


def _waiting_request(store: ApprovalStore, imp_uid: str, *, except_id: str | None = None) -> ApprovalRequest | None:
    r = store.pending_for(imp_uid)
    return r if r is not None and r.id != except_id else None


def refund_vbank(client: DeskClient, db: AppDb, plan: RefundPlan | None = None, *, operator: Actor, rules: Rules,
                 request: RefundRequest | None = None, seen: Seen | None = None, approval_id: str | None = None,
                 approval_note: str | None = None, context: dict | None = None,
                 action_key: str | None = None) -> WriteResult:
    """POST /payments/cancel for a paid virtual account, once, with checksum = the refundable balance just read.

    Without ``approval_id`` the four-eyes rule is checked here (``approval_needed``), and a refund of a payment
    with a request waiting for approval is refused. With ``approval_id`` the request must be pending, for this
    payment, amount and exact refund, made by someone else; it is claimed in the same statement that checks it
    (lib/db/approvals.py), and its outcome is recorded on it. ``action_key``: the page's send-once id, the write's
    idempotency key (lib/db/writes.py): a second refund under it is refused before anything is sent. ``plan``: the
    refund as planned and confirmed (``plan_refund``); without one, ``request`` and ``seen`` are planned here."""
    if plan is not None:
        request, seen = plan.request, plan.seen
    assert request is not None and seen is not None, "a plan, or a request and what was seen"
    operator.require("approve_refund" if approval_id else WriteKind.REFUND)
    store = db.approvals
    imp_uid = request.imp_uid
    write = Write(client, db, operator=operator, kind=WriteKind.REFUND, imp_uid=imp_uid,
                  lease_s=float(rules.lock_lease_seconds), action_key=action_key)
    claimed = False
    try:
        with write.claim(seen):
            fresh = write.fresh
            assert fresh is not None
            problems = validate_for(fresh, request, rules)
            if problems:
                raise InvalidInput(problems)
            waiting = _waiting_request(store, imp_uid, except_id=approval_id)
            if waiting:
                raise Busy(_("A refund of this payment ({amount}) by {requester} is waiting for approval: it must be "
                             "approved, rejected or withdrawn first.").format(
                                 amount=krw(waiting.amount), requester=waiting.requester), request_id=waiting.id)
            # The bank's account-holder check, by lib itself, right before sending: a mismatch or a failed lookup
            # needs the operator's written reason (kept in the audit with the bank's name and the typed name).
            check = holder_check(client, fresh.pg_provider, request)
            why_not = check.problem(request.holder_override)
            if why_not:
                raise InvalidInput([why_not])
            if approval_id:
                try:
                    store.claim(approval_id, approver=operator, kind=RequestKind.REFUND, imp_uid=imp_uid,
                                amount=request.amount, content=request.content(), note=approval_note)
                except ApprovalProblem as e:
                    raise (Busy(str(e)) if e.busy else NeedsApproval(str(e))) from None
                claimed = True
                db.audit.record(operator=operator.email, action=Action.REFUND_REQUEST, outcome=Outcome.APPROVED,
                             correlation_id=approval_id, imp_uid=imp_uid, detail={"note": approval_note})
            else:
                why = approval_needed(db, fresh, request.amount, operator, rules)
                if why:
                    raise NeedsApproval(why)
            planned = plan if plan is not None else plan_refund(db, fresh, request, operator, rules)
            body = {**planned.body, "checksum": fresh.refundable,     # the balance re-read just now
                    "reason": planned.body["reason"] + write_tag(write.cid)}
            write.before = {"amount": fresh.amount, "cancel_amount": fresh.cancel_amount,
                            "refundable": fresh.refundable}
            res = write.send(body, lambda: client.cancel(**body),
                             detail={**(context or {}), "approval_id": approval_id,
                                     "holder_check": check.record(clean(request.holder_override))},
                             refused=_("The API refused the refund: “{msg}”. No money moved."),
                             done=_("Refund registered — the PG pays the customer on the next business day."),
                             facts=_refund_facts)
            if res.extra.get("cancel_status") == "requested":
                res.message = _("Refund requested: the PG accepted the request and carries it out later. It shows as "
                                "refund requested until PortOne's webhook or a re-read says it is done; do not send it "
                                "again.")
    except BaseException as e:
        if claimed and approval_id:
            store.finish(approval_id, RequestStatus.FAILED if isinstance(e, Refusal) else RequestStatus.UNKNOWN,
                         {"message": str(e) or type(e).__name__})
        raise
    if res.outcome != Outcome.FAILED:        # the account was used: offered again for this payment's next refund
        sealed = request.content()
        db.refund_accounts.remember(imp_uid, bank=request.refund_bank, account=sealed["refund_account"],
                                          holder=sealed["refund_holder"], tel=sealed["refund_tel"] or None,
                                          operator=operator.email)
    if claimed and approval_id:
        store.finish(approval_id, REQUEST_STATUS_OF[res.outcome],
                     {"message": res.message, "correlation_id": res.correlation_id,
                      "cancel_amount": res.payment.cancel_amount if res.payment else None})
    return res
