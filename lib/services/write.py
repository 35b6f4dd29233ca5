"""The two money-moving writes, each end to end in one function, and the four-eyes flow around them.

Every write: take the in-flight lock (lib/locks.py) → re-read the payment and refuse if it changed →
validate → check the four-eyes rule → claim the send → audit "sent" → send **once** → audit the outcome →
release → tell the caches.

What the operator is told is what the API did:

* ``succeeded`` – the API's envelope said ``code 0``, or a re-read proves the write landed.
* ``failed``    – the API's own envelope refused it (``code != 0``), or it provably never left (no
  connection could be made, no token): nothing moved.
* ``unknown``   – it left and no envelope came back (timeout, cut connection, HTTP 5xx, an HTML page) and a
  re-read does not show it landed. The lock is kept, nothing is resent; it is resolved later by a re-read
  that shows it landed, or by an operator who checked the PG console and says it did not.

A lock whose app process died (or whose lease ran out) is settled by the next writer: if the send was never
claimed, nothing left and the lock is freed; otherwise it becomes ``unknown`` and is resolved by re-reading.

Nothing here imports streamlit: pages call these and show the result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from lib.db.approvals import ApprovalStore
from lib.db.audit import AuditStore, new_correlation_id
from lib.iamport.errors import ApiError, ApiUnavailable, OutcomeUnknown, Refused
from lib.iamport.client import IamportClient
from lib.domain.clock import to_unix
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.db.locks import Lock
from lib.domain.models import Payment
from lib.domain.settings import Rules
from lib.domain.refusals import Refusal
from lib.domain.rules import Seen, changes
from lib.domain.text import WRITE_TAG_RX


# Called after every write that may have changed data (cache invalidation).
WRITE_LISTENERS: list[Callable[[], None]] = []


def _notify() -> None:
    for fn in list(WRITE_LISTENERS):
        fn()


# ================================================================ refusals
class Busy(Refusal):
    """Another write to the same payment is in flight, its outcome is unknown, or a request for it waits
    for approval (``request_id``)."""

    def __init__(self, message: str, *, request_id: str | None = None):
        super().__init__(message)
        self.request_id = request_id


class NeedsApproval(Refusal):
    """Above the four-eyes limits: this must be requested and approved by a second person."""


class Stale(Refusal):
    """The payment changed since the operator looked at it; ``changes`` says how."""

    def __init__(self, changes: list[str], payment: Payment | None):
        super().__init__("; ".join(changes))
        self.changes, self.payment = changes, payment


@dataclass
class WriteResult:
    outcome: str                    # succeeded | failed | unknown
    message: str                    # a sentence for the operator
    correlation_id: str
    payment: Payment | None = None
    api_code: int | None = None
    api_message: str | None = None
    confirmed_by_reread: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "succeeded"


def approvals_of(audit: AuditStore) -> ApprovalStore:
    """The approval requests kept in the same database as this audit log (one store per audit store)."""
    store = getattr(audit, "_approvals", None)
    if store is None:
        store = audit._approvals = ApprovalStore(audit)
    return store


# ============================================================ the write core
KINDS = {"refund": "refund", "vbank": "update_vbank"}        # lock prefix -> audit action


@dataclass
class _Ctx:
    cid: str
    fresh: Payment
    key: str
    lease: float
    sent: bool = False


def _sent_record(audit: AuditStore, correlation_id: str) -> dict | None:
    df = audit.records(correlation_id=correlation_id, outcome="sent")
    if df.empty:
        return None
    row = df.iloc[-1]
    return {"request": json.loads(row["request"] or "{}"), "detail": json.loads(row["detail"] or "{}"),
            "at": row["at"].timestamp()}


def _finish_approvals(audit: AuditStore, kind: str, imp_uid: str, outcome: str, note: str,
                      *, correlation_id: str | None = None) -> None:
    """A write settled here (its app stopped mid-send, or someone resolved its unknown outcome) may have been an
    approved request's: finish that request as the write ended — executed, failed or unknown —, which frees the
    payment for new requests and erases the sealed full numbers. Without this a killed app left the request
    'approving' forever."""
    if kind != "refund":
        return
    status = {"succeeded": "executed", "failed": "failed", "unknown": "unknown"}[outcome]
    store = approvals_of(audit)
    for req in store.unfinished(imp_uid):
        if status == "unknown" and req.status == "unknown":
            continue
        if store.finish(req.id, status, {"message": note, "correlation_id": correlation_id}):
            audit.record(operator="vbank-desk", action="refund_request", outcome=outcome, correlation_id=req.id,
                         imp_uid=imp_uid, detail={"note": note, "write": correlation_id, "request_status": status})


def _landed(kind: str, sent: dict, p: Payment) -> bool:
    """Does the payment as read now prove the write recorded as ``sent`` took effect?"""
    req = sent["request"]
    if kind == "vbank":
        return all(["amount" not in req or p.amount == req["amount"],
                    "vbank_due" not in req or to_unix(p.vbank_date) == req["vbank_due"]])
    if "amount" not in req:
        return False
    # Only our own refund proves it: an entry whose reason carries this write's tag (lib/text.write_tag), of this
    # amount. A refund of the same amount made elsewhere meanwhile (the PG console) has no tag and proves nothing.
    m = WRITE_TAG_RX.search(str(req.get("reason") or ""))
    if not m:
        return False
    tag = f"[vd:{m.group(1)}]"
    return any(e.amount == int(req["amount"]) and tag in (e.reason or "") for e in p.cancel_history)


def _settle_abandoned(client: IamportClient, audit: AuditStore, held: Lock, operator: Actor) -> WriteResult | None:
    """A lock whose app process is gone (or whose lease ran out): free it when provably nothing was sent,
    else make it ``unknown`` and try to resolve it by re-reading the payment. Returns how it ended."""
    action = KINDS.get(held.kind, held.action)
    moved = audit.locks_store.take_over(held, note=_("The app process that held this write stopped before "
                                                   "recording its outcome."))
    if moved is None:
        return None
    sent = _sent_record(audit, held.correlation_id)
    if moved == "freed" or sent is None:
        if moved == "unknown":
            audit.release(held.lock_key, held.correlation_id)
        audit.record(operator=operator.email, action=action, outcome="failed", correlation_id=held.correlation_id,
                     imp_uid=held.imp_uid, detail={"resolution": "abandoned before sending: nothing was sent",
                                                   "lock_owner": held.owner, "locked_by": held.operator})
        _finish_approvals(audit, held.kind, held.imp_uid, "failed", "the app stopped before sending it: nothing "
                          "was sent", correlation_id=held.correlation_id)
        return WriteResult("failed", _("The app stopped before sending it: nothing was sent."), held.correlation_id)
    audit.record(operator=operator.email, action=action, outcome="unknown", correlation_id=held.correlation_id,
                 imp_uid=held.imp_uid, detail={"note": "the app process that sent this stopped before recording "
                                                       "the outcome", "lock_owner": held.owner,
                                               "locked_by": held.operator})
    _finish_approvals(audit, held.kind, held.imp_uid, "unknown", "the app that sent it stopped before recording "
                      "the outcome", correlation_id=held.correlation_id)
    try:
        return _resolve(client, audit, operator=operator, kind=held.kind, imp_uid=held.imp_uid,
                        confirm_not_applied=False)
    except ApiError:
        return None             # stays unknown; resolved later


def _lock_busy_message(held: Lock) -> str:
    if held.state == "unknown":
        return (_("A previous {kind} of this payment by {operator} at {since} has an unknown outcome. Resolve it first "
                  "(check the payment) — nothing will be sent until then.").format(
                      kind=_what(held.kind), operator=held.operator, since=kst(held.since)))
    return _("{operator} is already sending a {kind} for this payment (since {since}).").format(
        operator=held.operator, kind=_what(held.kind), since=kst(held.since))


def _what(kind: str) -> str:
    return _("refund") if kind == "refund" else _("change")


@contextmanager
def _guarded(client: IamportClient, audit: AuditStore, *, operator: Actor, kind: str, imp_uid: str, seen: Seen,
             rules: Rules):
    """The common front of both writes: take the in-flight lock (settling an abandoned one), re-read the
    payment right before sending, refuse if it changed. On an exception the lock is freed if nothing was
    sent, or kept as "unknown" if something was sent without a recorded outcome (never resent blindly)."""
    key = f"{kind}:{imp_uid}"
    cid = new_correlation_id()
    lease = float(rules.lock_lease_seconds)

    def take():
        return audit.acquire(key, correlation_id=cid, operator=operator.email, action=KINDS[kind], lease_s=lease)

    held = take()
    if held is not None and held.abandoned():
        _settle_abandoned(client, audit, held, operator)
        held = take()
    if held is not None:
        raise Busy(_lock_busy_message(held))
    ctx = None
    try:
        fresh = client.get_payment(imp_uid)
        moved = changes(seen, fresh)
        if moved:
            raise Stale(moved, fresh)
        ctx = _Ctx(cid, fresh, key, lease)
        yield ctx
    except BaseException as e:
        _release_or_hold(audit, key, cid, bool(ctx and ctx.sent), operator=operator, kind=kind, imp_uid=imp_uid,
                         error=e)
        raise


def _send(ctx: _Ctx, audit: AuditStore, *, operator: Actor, kind: str, imp_uid: str, body: dict, detail: dict,
          call: Callable[[], Payment]) -> Payment:
    """Claim the send, record "sent", then make the one HTTP call. No retry, ever."""
    if not audit.locks_store.claim_send(ctx.key, ctx.cid, lease_s=ctx.lease):
        raise Busy(_("This write waited so long that its lock was judged abandoned and settled by someone else; "
                   "nothing was sent. Look at the payment again."))
    audit.record(operator=operator.email, action=KINDS[kind], outcome="sent", correlation_id=ctx.cid,
                 imp_uid=imp_uid, merchant_uid=ctx.fresh.merchant_uid, request=body, detail=detail)
    ctx.sent = True
    return call()


def _release_or_hold(audit: AuditStore, key: str, cid: str, sent: bool, *, operator: Actor, kind: str,
                     imp_uid: str, error: BaseException) -> None:
    """On an exception: free the lock if nothing was sent; if something was sent and no outcome was
    recorded, keep the payment locked as "unknown" so it is never resent blindly."""
    lock = audit.lock(key)
    if not lock or lock.correlation_id != cid:
        return
    if not sent:
        audit.release(key, cid)
    elif lock.state in ("in_flight", "sending"):
        note = _("Interrupted after sending ({name}); the outcome was not recorded.").format(name=type(error).__name__)
        audit.mark_unknown(key, cid, note)
        try:
            audit.record(operator=operator.email, action=KINDS[kind], outcome="unknown", correlation_id=cid,
                         imp_uid=imp_uid, api_message=note)
        except Exception:          # the lock already says "unknown"; the audit can be written later
            pass


def _after_send(client: IamportClient, audit: AuditStore, ctx: _Ctx, *, operator: Actor, kind: str, imp_uid: str,
                body: dict, err: ApiError, what: str) -> WriteResult:
    """The request left and no envelope came back (or we could not read it). Re-read to learn what happened;
    never resend. Landed → succeeded. Otherwise → unknown, lock kept: a timeout, a gateway's 504 or a cut
    connection says nothing about whether the API applied it (it may still be working on it)."""
    action = KINDS[kind]
    sent = {"request": body, "detail": {"before": {"cancel_amount": ctx.fresh.cancel_amount}}, "at": time.time() - 1}
    try:
        now_p = client.get_payment(imp_uid)
        reread_error = None
    except ApiError as e2:
        now_p, reread_error = None, e2.message
    if now_p is not None and _landed(kind, sent, now_p):
        audit.record(operator=operator.email, action=action, outcome="succeeded", correlation_id=ctx.cid,
                     imp_uid=imp_uid, merchant_uid=now_p.merchant_uid, request=body, api_message=err.message,
                     detail={"confirmed_by_reread": True, "http_status": err.http_status,
                             "after": _after(kind, now_p)})
        audit.release(ctx.key, ctx.cid)
        _notify()
        return WriteResult("succeeded", _("The API gave no clear reply ({message}), but a re-read shows the {what} "
                                          "took effect. Nothing was resent.").format(
                                              message=err.message, what=what), ctx.cid, now_p, confirmed_by_reread=True,
                           extra={"http_status": err.http_status})
    if now_p is None:
        seen_now = _("the re-read failed too ({reread_error})").format(reread_error=reread_error)
    elif kind == "refund":
        seen_now = (_("a re-read shows the refunded total at {now} (was {was})").format(
            now=krw(now_p.cancel_amount), was=krw(ctx.fresh.cancel_amount)))
    else:
        seen_now = "a re-read does not show the change yet"
    note = (_("No clear reply to the {what} ({message}); {seen_now}. The API may still apply it. Check the payment "
              "again in a moment, or check the PG console; nothing will be sent for this payment until this is resolved.").format(
                  what=what, message=err.message, seen_now=seen_now))
    audit.record(operator=operator.email, action=action, outcome="unknown", correlation_id=ctx.cid, imp_uid=imp_uid,
                 merchant_uid=ctx.fresh.merchant_uid, request=body, api_message=err.message,
                 detail={"note": note, "http_status": err.http_status})
    audit.mark_unknown(ctx.key, ctx.cid, note)
    _notify()
    return WriteResult("unknown", note, ctx.cid, now_p or ctx.fresh, extra={"http_status": err.http_status})


def _after(kind: str, p: Payment) -> dict:
    if kind == "vbank":
        return {"amount": p.amount, "vbank_due": to_unix(p.vbank_date)}
    return {"cancel_amount": p.cancel_amount, "status": p.status}


def _refused(audit: AuditStore, ctx: _Ctx, *, operator: Actor, kind: str, imp_uid: str, body: dict, e: ApiError,
             message: str) -> WriteResult:
    audit.record(operator=operator.email, action=KINDS[kind], outcome="failed", correlation_id=ctx.cid,
                 imp_uid=imp_uid, merchant_uid=ctx.fresh.merchant_uid, request=body, api_code=e.code,
                 api_message=e.message, detail={"http_status": e.http_status,
                                                "proof": "the API's refusal" if isinstance(e, Refused)
                                                else "never sent (no connection or no token)"})
    audit.release(ctx.key, ctx.cid)
    return WriteResult("failed", message, ctx.cid, ctx.fresh, e.code, e.message)


def _write(client, audit, ctx: _Ctx, *, operator: Actor, kind: str, imp_uid: str, body: dict, detail: dict,
           call: Callable[[], Payment], what: str, refused_msg: str) -> tuple[WriteResult, Payment | None]:
    """Send once and classify the answer. Returns (result, payment the API returned or None)."""
    try:
        out = _send(ctx, audit, operator=operator, kind=kind, imp_uid=imp_uid, body=body, detail=detail, call=call)
    except Refused as e:
        return _refused(audit, ctx, operator=operator, kind=kind, imp_uid=imp_uid, body=body, e=e,
                        message=refused_msg.format(msg=e.message)), None
    except OutcomeUnknown as e:
        return _after_send(client, audit, ctx, operator=operator, kind=kind, imp_uid=imp_uid, body=body, err=e,
                           what=what), None
    except ApiUnavailable as e:         # provably never left: no connection, or no token to send it with
        return _refused(audit, ctx, operator=operator, kind=kind, imp_uid=imp_uid, body=body, e=e,
                        message=_("The API could not be reached ({message}); the {what} was not sent. Nothing changed. "
                                  "Try again when the connection is back.").format(message=e.message, what=what)), None
    except ApiError as e:               # anything else after sending: treat as unknown, never as "not sent"
        return _after_send(client, audit, ctx, operator=operator, kind=kind, imp_uid=imp_uid, body=body, err=e,
                           what=what), None
    return None, out   # type: ignore[return-value]


# ============================================================ resolving unknowns
def _resolve(client: IamportClient, audit: AuditStore, *, operator: Actor, kind: str, imp_uid: str,
             confirm_not_applied: bool) -> WriteResult:
    key = f"{kind}:{imp_uid}"
    held = audit.lock(key)
    if held is not None and held.abandoned():
        settled = _settle_abandoned(client, audit, held, operator)
        held = audit.lock(key)
        if settled is not None and (held is None or held.state != "unknown"):
            return settled
    if held is None or held.state != "unknown":
        return WriteResult("succeeded", _("There is no unresolved {kind} for this payment.").format(
            kind=_what(kind)), "", None)
    action = KINDS[kind]
    p = client.get_payment(imp_uid)
    sent = _sent_record(audit, held.correlation_id)
    if sent is not None and _landed(kind, sent, p):
        audit.record(operator=operator.email, action=action, outcome="resolved", correlation_id=held.correlation_id,
                     imp_uid=imp_uid, merchant_uid=p.merchant_uid,
                     detail={"resolution": "applied (re-read)", "after": _after(kind, p)})
        audit.release(key, held.correlation_id)
        _finish_approvals(audit, kind, imp_uid, "succeeded", "a re-read shows it took effect",
                          correlation_id=held.correlation_id)
        _notify()
        return WriteResult("succeeded", _("A re-read shows the {kind} took effect. Resolved.").format(kind=_what(kind)),
                           held.correlation_id, p, confirmed_by_reread=True)
    if sent is None:
        audit.record(operator=operator.email, action=action, outcome="resolved", correlation_id=held.correlation_id,
                     imp_uid=imp_uid, merchant_uid=p.merchant_uid,
                     detail={"resolution": "not applied: no send was recorded for it"})
        audit.release(key, held.correlation_id)
        _finish_approvals(audit, kind, imp_uid, "failed", "nothing was sent for it",
                          correlation_id=held.correlation_id)
        _notify()
        return WriteResult("failed", _("Nothing was sent for it. Resolved."), held.correlation_id, p)
    if not confirm_not_applied:
        return WriteResult("unknown", _("The re-read does not show the {kind} yet. If the PG console confirms it was "
                                        "not registered, resolve it as not applied.").format(
                                            kind=_what(kind)), held.correlation_id, p)
    audit.record(operator=operator.email, action=action, outcome="resolved", correlation_id=held.correlation_id,
                 imp_uid=imp_uid, merchant_uid=p.merchant_uid,
                 detail={"resolution": "not applied (operator checked the PG)", "after": _after(kind, p)})
    audit.release(key, held.correlation_id)
    _finish_approvals(audit, kind, imp_uid, "failed", "not applied (an operator checked the PG)",
                      correlation_id=held.correlation_id)
    _notify()
    return WriteResult("failed", _("Resolved as not applied. A new {kind} can be sent.").format(
        kind=_what(kind)), held.correlation_id, p)


