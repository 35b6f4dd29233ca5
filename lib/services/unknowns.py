"""Writes whose outcome is not known yet, and how they end.

A write is **unknown** when its request left and no envelope came back, or when the app process that sent it
stopped before recording the outcome (its lock is *abandoned*: owner gone or lease run out). Nothing is resent for
that payment until it is settled, by:

* a re-read of the payment that proves **our own** request took effect (``settle.SPECS[kind].landed``) → succeeded;
* the audit showing the send was never claimed → failed, nothing was sent;
* an operator who checked the PG console and confirms it was not applied → failed.

The next writer of the payment settles an abandoned lock first (``settle_abandoned``, called by
lib/services/write.py); a page shows an unknown write with its two ways out (``open_outcome``, ``resolve_unknown``).
"""

from __future__ import annotations

from typing import Any

from lib.db.appdb import AppDb
from lib.db.locks import Lock
from lib.db.writes import WriteMove
from lib.domain.fmt import kst
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import LockState, Outcome, WriteKind, WriteState
from lib.domain.models import Payment
from lib.domain.outcomes import WriteResult
from lib.iamport.errors import ApiError
from lib.iamport.v2.client import DeskClient
from lib.services.settle import SPECS, finish_approvals, notify, sent_record


def what(kind: WriteKind) -> str:
    """The write in words ("refund", "change", "account cancellation"), in the run's language."""
    return _(SPECS[kind].what)


def lock_busy_message(held: Lock) -> str:
    kind = WriteKind.of_lock(held.lock_key) or WriteKind.UPDATE
    if held.state == LockState.UNKNOWN:
        return _("A previous {kind} of this payment by {operator} at {since} has an unknown outcome. Resolve it first "
                 "(check the payment) — nothing will be sent until then.").format(
                     kind=what(kind), operator=held.operator, since=kst(held.since))
    return _("{operator} is already sending a {kind} for this payment (since {since}).").format(
        operator=held.operator, kind=what(kind), since=kst(held.since))


def settle_abandoned(client: DeskClient, db: AppDb, held: Lock, operator: Actor) -> WriteResult | None:
    """A lock whose app process is gone (or whose lease ran out): free it when provably nothing was sent, else make
    it unknown and try to resolve it by re-reading. Returns how it ended (None: someone else settled it first)."""
    kind = WriteKind.of_lock(held.lock_key)
    assert kind is not None, held.lock_key
    moved = db.locks.take_over(held, note="stopped_after_sending")
    if moved is None:
        return None
    sent = sent_record(db, held.correlation_id)
    if moved == "freed" or sent is None:
        if moved == LockState.UNKNOWN:
            db.locks.release(held.lock_key, held.correlation_id)
        db.audit.record(operator=operator.email, action=kind, outcome=Outcome.FAILED, correlation_id=held.correlation_id,
                     imp_uid=held.imp_uid, detail={"why": "stopped_before_sending", "lock_owner": held.owner,
                                                   "locked_by": held.operator})
        finish_approvals(db, kind, held.imp_uid, Outcome.FAILED, "stopped_before_sending",
                         correlation_id=held.correlation_id)
        return WriteResult(Outcome.FAILED, _("The app stopped before sending it: nothing was sent."),
                           held.correlation_id)
    db.audit.record(operator=operator.email, action=kind, outcome=Outcome.UNKNOWN, correlation_id=held.correlation_id,
                 imp_uid=held.imp_uid, detail={"why": "stopped_after_sending", "lock_owner": held.owner,
                                               "locked_by": held.operator},
                 write=WriteMove(held.correlation_id, WriteState.UNKNOWN))
    finish_approvals(db, kind, held.imp_uid, Outcome.UNKNOWN, "stopped_after_sending",
                     correlation_id=held.correlation_id)
    try:
        return resolve(client, db, operator=operator, kind=kind, imp_uid=held.imp_uid, confirm_not_applied=False)
    except ApiError:
        return None             # stays unknown; resolved later


def _resolved(db: AppDb, held: Lock, kind: WriteKind, operator: Actor, outcome: Outcome, why: str,
              p: Payment, message: str, **detail: Any) -> WriteResult:
    db.audit.record(operator=operator.email, action=kind, outcome=Outcome.RESOLVED, correlation_id=held.correlation_id,
                 imp_uid=held.imp_uid, merchant_uid=p.merchant_uid, detail={"why": why, **detail},
                 write=WriteMove(held.correlation_id, WriteState(outcome), resolved=True))
    db.locks.release(held.lock_key, held.correlation_id)
    finish_approvals(db, kind, held.imp_uid, outcome, why, correlation_id=held.correlation_id)
    notify(db, [held.imp_uid])
    return WriteResult(outcome, message, held.correlation_id, p, confirmed_by_reread=outcome == Outcome.SUCCEEDED)


def resolve(client: DeskClient, db: AppDb, *, operator: Actor, kind: WriteKind, imp_uid: str,
            confirm_not_applied: bool) -> WriteResult:
    key = kind.lock_key(imp_uid)
    held = db.locks.get(key)
    if held is not None and held.abandoned():
        settled = settle_abandoned(client, db, held, operator)
        held = db.locks.get(key)
        if settled is not None and (held is None or held.state != LockState.UNKNOWN):
            return settled
    if held is None or held.state != LockState.UNKNOWN:
        return WriteResult(Outcome.SUCCEEDED, _("There is no unresolved {kind} for this payment.").format(
            kind=what(kind)), "", None)
    p = client.get_payment(imp_uid)
    sent = sent_record(db, held.correlation_id)
    spec = SPECS[kind]
    if sent is not None and spec.landed(sent["request"], p):
        return _resolved(db, held, kind, operator, Outcome.SUCCEEDED, "applied_reread", p,
                         _("A re-read shows the {kind} took effect. Resolved.").format(kind=what(kind)),
                         after=spec.after(p))
    if sent is None:
        return _resolved(db, held, kind, operator, Outcome.FAILED, "nothing_sent", p,
                         _("Nothing was sent for it. Resolved."))
    if not confirm_not_applied:
        return WriteResult(Outcome.UNKNOWN, _("The re-read does not show the {kind} yet. If the PG console confirms it "
                                              "was not registered, resolve it as not applied.").format(
                                                  kind=what(kind)), held.correlation_id, p)
    return _resolved(db, held, kind, operator, Outcome.FAILED, "not_applied_checked", p,
                     _("Resolved as not applied. A new {kind} can be sent.").format(kind=what(kind)),
                     after=spec.after(p))


def resolve_unknown(client: DeskClient, db: AppDb, *, operator: Actor, kind: WriteKind | str,
                    imp_uid: str, operator_confirms_not_applied: bool = False) -> WriteResult:
    """Settle a write whose outcome is unknown: by a re-read that shows it landed, or by an operator who checked the
    PG and confirms it did not. Only then can that payment be written again."""
    kind = WriteKind(kind)
    # The operators who send, and the approvers who may have sent it through a request, may resolve it.
    operator.require(kind if operator.can(kind) or not operator.can("approve_refund") else "approve_refund")
    return resolve(client, db, operator=operator, kind=kind, imp_uid=imp_uid,
                   confirm_not_applied=operator_confirms_not_applied)


def resolve_unknown_refund(client: DeskClient, db: AppDb, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    return resolve_unknown(client, db, operator=operator, kind=WriteKind.REFUND, imp_uid=imp_uid,
                           operator_confirms_not_applied=operator_confirms_not_applied)


def resolve_unknown_update(client: DeskClient, db: AppDb, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    return resolve_unknown(client, db, operator=operator, kind=WriteKind.UPDATE, imp_uid=imp_uid,
                           operator_confirms_not_applied=operator_confirms_not_applied)


def open_outcome(client: DeskClient | None, db: AppDb, *, kind: WriteKind | str, imp_uid: str,
                 operator: Actor | None = None) -> Lock | None:
    """The lock of an unresolved write of this payment, after settling an abandoned one (if an operator is given):
    what a page shows at the top, with the ways to resolve it."""
    key = WriteKind(kind).lock_key(imp_uid)
    held = db.locks.get(key)
    if held is not None and held.abandoned() and operator is not None and client is not None:
        settle_abandoned(client, db, held, operator)
        held = db.locks.get(key)
    return held
