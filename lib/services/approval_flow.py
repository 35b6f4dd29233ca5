"""Four eyes: a refund above the limits (or a large bulk change) is requested by one person and approved — and then
sent, through the same write as any other — by a second; rejected or withdrawn otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from lib.db.appdb import AppDb
from lib.db.approvals import ApprovalProblem, ApprovalRequest
from lib.domain.i18n import _
from lib.domain.identity import Actor, Forbidden
from lib.domain.kinds import Action, BulkOutcome, LockState, Outcome, RequestKind, RequestStatus, WriteKind
from lib.domain.models import Payment
from lib.domain.names import request_status
from lib.domain.outcomes import WriteResult
from lib.domain.refusals import Busy, Stale
from lib.domain.rules import (
    InvalidInput,
    RefundRequest,
    Seen,
    bulk_confirmation,
    changes,
    check_bulk_plan,
)
from lib.domain.settings import Rules
from lib.domain.text import NOTE_MAX, clean
from lib.iamport.client import IamportClient
from lib.iamport.v2.client import version_of
from lib.services.bulk import (
    _bulk_content,
    _revoke_content,
    bulk_extend,
    bulk_revoke,
    check_revoke_plan,
    revoke_confirmation,
)
from lib.services.refund import RefundPlan, holder_check, plan_refund, refund_vbank, validate_for


# ------------------------------------------------------------ approval flow
def request_refund_approval(client: IamportClient, db: AppDb, plan: RefundPlan | None = None, *, requester: Actor,
                            rules: Rules, request: RefundRequest | None = None, seen: Seen | None = None,
                            fee_preview: dict | None = None, note: str | None = None) -> ApprovalRequest:
    """Ask a second person to approve a refund: the ``plan`` the requester confirmed (or ``request`` and ``seen``,
    planned here), carried by the request with the holder check the approver sees. Validated like the refund itself;
    one open request per payment."""
    if plan is not None:
        request, seen = plan.request, plan.seen
    assert request is not None and seen is not None, "a plan, or a request and what was seen"
    requester.require(WriteKind.REFUND)
    store = db.approvals
    store.expire_due()
    note = clean(note, multiline=True) or None
    if note and len(note) > NOTE_MAX:
        raise InvalidInput([_("The note for the approver is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    p = client.get_payment(request.imp_uid)
    moved = changes(seen, p)
    if moved:
        raise Stale(moved, p)
    problems = validate_for(p, request, rules)          # by the payment's API (V2: the standard bank list)
    if problems:
        raise InvalidInput(problems)
    held = db.locks.get(WriteKind.REFUND.lock_key(request.imp_uid))
    if held and held.state == LockState.UNKNOWN:
        raise Busy(_("A refund of this payment has an unknown outcome; resolve it first."))
    check = holder_check(client, p.pg_provider, request)      # the approver sees what the bank said
    why_not = check.problem(request.holder_override)
    if why_not:
        raise InvalidInput([why_not])
    planned = plan if plan is not None else plan_refund(db, p, request, requester, rules, holder_check=check)
    payload = {"request": asdict(request), "seen": asdict(seen), "fee_preview": fee_preview or {},
               "api": version_of(client),                     # the approver's desk sends through this API
               "holder_check": check.record(clean(request.holder_override)),
               "body": planned.body,                          # masked when stored; full numbers sealed
               "payment": {"merchant_uid": p.merchant_uid, "pg_provider": p.pg_provider, "amount": p.amount,
                           "cancel_amount": p.cancel_amount, "buyer_name": p.buyer_name}}
    try:
        return store.insert(kind=RequestKind.REFUND, pending_key=WriteKind.REFUND.lock_key(request.imp_uid), imp_uid=request.imp_uid,
                            amount=request.amount, payload=payload, content=request.content(), requester=requester,
                            note=note, expiry_hours=rules.approval_expiry_hours)
    except ApprovalProblem as e:
        waiting = store.pending_for(request.imp_uid)
        raise Busy(str(e), request_id=waiting.id if waiting else None) from None


def request_bulk_approval(db: AppDb, *, requester: Actor, payments: list[Payment], extend_days: int | None,
                          to: datetime | None, rules: Rules, note: str | None = None,
                          typed_confirmation: str | None = None) -> ApprovalRequest:
    """The requester confirms a drastic plan (a row moved by more than the typed-confirmation days, or earlier)
    by typing it, as when sending it; the approver approves what was typed."""
    requester.require("update_vbank")
    check_bulk_plan(payments, extend_days, to, rules)
    must_type = bulk_confirmation(payments, extend_days, to, rules)
    if must_type and (typed_confirmation or "").strip() != must_type:
        raise InvalidInput([_("Some of these accounts would move by more than {days} days or to an earlier date: "
                              "type {text} to confirm. Nothing was sent.").format(
                                  days=rules.update_typed_confirm_due_days, text=must_type)])
    note = clean(note, multiline=True) or None
    payload = {"payments": [p.model_dump(mode="json") for p in payments], "extend_days": extend_days,
               "to": to.isoformat() if to else None}
    try:
        return db.approvals.insert(kind=RequestKind.BULK_EXTEND, pending_key="bulk:" + uuid.uuid4().hex, imp_uid=None,
                                          amount=len(payments), payload=payload,
                                          content=_bulk_content(payments, extend_days, to), requester=requester,
                                          note=note, expiry_hours=rules.approval_expiry_hours)
    except ApprovalProblem as e:
        raise Busy(str(e)) from None


def request_bulk_revoke_approval(db: AppDb, *, requester: Actor, payments: list[Payment], rules: Rules,
                                 note: str | None = None, typed_confirmation: str | None = None) -> ApprovalRequest:
    """Ask a second person to approve cancelling many accounts; the requester types the number of accounts, as when
    sending it."""
    requester.require(WriteKind.REVOKE)
    check_revoke_plan(payments, rules)
    must_type = revoke_confirmation(payments)
    if (typed_confirmation or "").strip() != must_type:
        raise InvalidInput([_("Cancelling accounts cannot be undone: type {text} (the number of accounts) to confirm. "
                              "Nothing was sent.").format(text=must_type)])
    payload = {"payments": [p.model_dump(mode="json") for p in payments], "revoke": True}
    try:
        return db.approvals.insert(kind=RequestKind.BULK_REVOKE, pending_key="bulk:" + uuid.uuid4().hex,
                                         imp_uid=None, amount=len(payments), payload=payload,
                                         content=_revoke_content(payments), requester=requester,
                                         note=clean(note, multiline=True) or None,
                                         expiry_hours=rules.approval_expiry_hours)
    except ApprovalProblem as e:
        raise Busy(str(e)) from None


def approve(client: IamportClient, db: AppDb, *, approver: Actor, request_id: str, rules: Rules,
            note: str | None = None, clients: Callable[[str | None], Any] | None = None) -> WriteResult:
    """Approve and send. The refund (or bulk change) goes through the same service as any other, which claims
    the request in the statement that checks it, re-reads the payment and refuses if it changed."""
    approver.require("approve_refund")
    store = db.approvals
    try:
        req = store.get(request_id)
    except ApprovalProblem as e:
        raise InvalidInput([str(e)]) from None
    if req.requester.strip().lower() == approver.email.strip().lower():
        raise Forbidden(_("You cannot approve or reject your own request: a second person must."))
    if req.status == RequestStatus.EXPIRED or req.expired:
        raise InvalidInput([_("This request has expired; ask the requester to make a new one.")])
    if req.status != RequestStatus.PENDING:
        raise Busy(_("This request was already decided ({status} by {who}).").format(
            status=request_status(req.status), who=req.decided_by or "—"))
    note = clean(note, multiline=True) or None
    if req.kind == RequestKind.REFUND:
        r = RefundRequest(**{**req.payload["request"], **store.sealed(req.id)})
        seen = Seen(**req.payload["seen"])
        api = req.payload.get("api")                 # a request made before versions were kept: V1
        via = clients(api) if clients is not None else client
        if version_of(via) != (api or "v1"):
            raise InvalidInput([_("This request is for a PortOne V2 payment, and this desk is not connected to "
                                  "PortOne V2: nothing was sent.")])
        try:
            return refund_vbank(via, db, operator=approver, request=r, seen=seen, rules=rules,
                                approval_id=req.id, approval_note=note)
        except Stale as e:
            msg = _("The payment changed since the request, so nothing was sent: ") + "; ".join(e.changes)
            if store.finish(req.id, RequestStatus.FAILED, {"message": msg}, only_if=RequestStatus.PENDING):
                db.audit.record(operator=approver.email, action=Action.REFUND_REQUEST, outcome=Outcome.REFUSED,
                             correlation_id=req.id, imp_uid=req.imp_uid, api_message=msg)
                raise
            cur = store.get(req.id)          # another approver got there first (and the payment moved)
            raise Busy(_("This request was already decided ({status} by {who}).").format(
                status=request_status(cur.status), who=cur.decided_by or "—")) from None
    payments = [Payment.model_validate(p) for p in req.payload["payments"]]
    if req.kind == RequestKind.BULK_REVOKE:
        rows = bulk_revoke(client, db, operator=approver, payments=payments, rules=rules, approval_id=req.id,
                           approval_note=note)
        ok = sum(r.outcome == BulkOutcome.SUCCEEDED for r in rows)
        msg = _("{ok} of {rows} accounts cancelled.").format(ok=ok, rows=len(rows))
        store.finish(req.id, RequestStatus.EXECUTED, {"rows": [asdict(r) for r in rows], "message": msg})
        return WriteResult(Outcome.SUCCEEDED if ok == len(rows) else Outcome.FAILED, msg, req.id, extra={"rows": rows})
    to = datetime.fromisoformat(req.payload["to"]) if req.payload["to"] else None
    rows = bulk_extend(client, db, operator=approver, payments=payments, extend_days=req.payload["extend_days"],
                       to=to, rules=rules, approval_id=req.id, approval_note=note)
    ok = sum(r.outcome == BulkOutcome.SUCCEEDED for r in rows)
    msg = _("{ok} of {rows} accounts extended.").format(ok=ok, rows=len(rows))
    store.finish(req.id, RequestStatus.EXECUTED, {"rows": [asdict(r) for r in rows], "message": msg})
    return WriteResult(Outcome.SUCCEEDED if ok == len(rows) else Outcome.FAILED, msg, req.id, extra={"rows": rows})


def reject(db: AppDb, *, approver: Actor, request_id: str, note: str) -> ApprovalRequest:
    approver.require("approve_refund")
    note = clean(note, multiline=True)
    if not note:
        raise InvalidInput([_("Say why the request is rejected.")])
    if len(note) > NOTE_MAX:
        raise InvalidInput([_("The note is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    store = db.approvals
    try:
        req = store.get(request_id)
        if req.requester.strip().lower() == approver.email.strip().lower():
            raise Forbidden(_("You cannot approve or reject your own request: a second person must."))
        return store.decide(request_id, approver=approver, status=RequestStatus.REJECTED, note=note)
    except ApprovalProblem as e:
        raise (Busy(str(e)) if e.busy else InvalidInput([str(e)])) from None


def withdraw(db: AppDb, *, requester: Actor, request_id: str) -> ApprovalRequest:
    """The requester takes back a request that is still waiting."""
    store = db.approvals
    try:
        req = store.get(request_id)
        if req.requester.strip().lower() != requester.email.strip().lower():
            raise Forbidden(_("Only the person who made a request can withdraw it."))
        return store.decide(request_id, approver=requester, status=RequestStatus.WITHDRAWN, note=None)
    except ApprovalProblem as e:
        raise (Busy(str(e)) if e.busy else InvalidInput([str(e)])) from None
