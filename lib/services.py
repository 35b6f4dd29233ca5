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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from . import banks, pg_rules
from .approvals import ApprovalProblem, ApprovalRequest, ApprovalStore
from .audit import AuditStore, new_correlation_id
from .client import ApiError, ApiUnavailable, IamportClient, OutcomeUnknown, Refused  # noqa: F401
from .clock import KST, to_unix
from .fmt import krw, kst
from .i18n import _
from .names import request_status
from .identity import Actor, Forbidden  # noqa: F401  (Forbidden re-exported for pages)
from .locks import Lock
from .models import Payment
from .settings import Rules
from .errors import Refusal
from .rules import (InvalidInput, RefundRequest, Seen, bulk_confirmation, changes, check_bulk_plan, holder_matches,  # noqa: F401
                    holder_problem, plan_due,
                    refund_blockers, update_blockers, update_confirmation, validate_refund,
                    validate_refund_account, validate_refund_amount, validate_update)
from .text import NOTE_MAX, WRITE_TAG_RX, ascii_digits, clean, write_tag

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


def holder_check(client: IamportClient, pg_provider: str | None, request: RefundRequest) -> dict:
    """The bank's account-holder name for the refund account (GET /vbanks/holder), compared with the name typed:
    ``{"bank", "typed", "bank_says", "ok", "error", "available"}``. Done by lib itself right before a refund is
    sent or requested, so it cannot be skipped."""
    bank = banks.bank_by_code(pg_provider, request.refund_bank)
    typed = clean(request.refund_holder)
    out = {"bank": bank.label if bank else request.refund_bank, "typed": typed, "bank_says": None, "ok": False,
           "error": None, "available": bool(bank and bank.kftc)}
    if not out["available"]:
        out["error"] = "no holder lookup for this bank"
        return out
    try:
        name = client.holder(bank.kftc, ascii_digits(request.refund_account))
        out["bank_says"], out["ok"] = name, holder_matches(typed, name)
    except ApiError as e:
        out["error"] = e.message
    return out


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


def resolve_unknown(client: IamportClient, audit: AuditStore, *, operator: Actor, kind: str, imp_uid: str,
                    operator_confirms_not_applied: bool = False) -> WriteResult:
    """Settle a write whose outcome is unknown (``kind``: ``refund`` or ``vbank``): by a re-read that shows it
    landed, or by an operator who checked the PG and confirms it did not. Only then can that payment be
    written again."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    perm = "refund" if kind == "refund" else "update_vbank"
    # The operators who send, and the approvers who may have sent it through a request, may resolve it.
    operator.require(perm if operator.can(perm) or not operator.can("approve_refund") else "approve_refund")
    return _resolve(client, audit, operator=operator, kind=kind, imp_uid=imp_uid,
                    confirm_not_applied=operator_confirms_not_applied)


def resolve_unknown_refund(client, audit, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    return resolve_unknown(client, audit, operator=operator, kind="refund", imp_uid=imp_uid,
                           operator_confirms_not_applied=operator_confirms_not_applied)


def resolve_unknown_update(client, audit, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    return resolve_unknown(client, audit, operator=operator, kind="vbank", imp_uid=imp_uid,
                           operator_confirms_not_applied=operator_confirms_not_applied)


def open_outcome(client: IamportClient | None, audit: AuditStore, *, kind: str, imp_uid: str,
                 operator: Actor | None = None) -> Lock | None:
    """The lock of an unresolved write of this payment, after settling an abandoned one (if an operator is
    given): what a page shows at the top, with the ways to resolve it."""
    held = audit.lock(f"{kind}:{imp_uid}")
    if held is not None and held.abandoned() and operator is not None and client is not None:
        _settle_abandoned(client, audit, held, operator)
        held = audit.lock(f"{kind}:{imp_uid}")
    return held


# ================================================================ update vbank
def update_vbank(client: IamportClient, audit: AuditStore, *, operator: Actor, imp_uid: str, seen: Seen,
                 new_amount: int | None = None, new_due: datetime | None = None, rules: Rules,
                 note: str | None = None, typed_confirmation: str | None = None) -> WriteResult:
    """PUT /vbanks/{imp_uid} with only the changed fields, once. A drastic change (``update_confirmation``) is
    sent only with the confirmation typed."""
    operator.require("update_vbank")
    return _update_vbank(client, audit, operator=operator, imp_uid=imp_uid, seen=seen, new_amount=new_amount,
                         new_due=new_due, rules=rules, note=note, typed_confirmation=typed_confirmation or "")


def _update_vbank(client, audit, *, operator: Actor, imp_uid: str, seen: Seen, new_amount, new_due, rules: Rules,
                  note: str | None, approval_id: str | None = None,
                  typed_confirmation: str | None = None) -> WriteResult:
    """``typed_confirmation`` None: a bulk change (confirmed as a whole, or approved); else checked when the
    change is drastic. Checks the role itself (an approver executing an approved bulk request, or an operator)."""
    if not (approval_id and operator.can("approve_refund")):
        operator.require("update_vbank")
    note = clean(note, multiline=True) or None
    if note and len(note) > NOTE_MAX:
        raise InvalidInput([_("The note is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    with _guarded(client, audit, operator=operator, kind="vbank", imp_uid=imp_uid, seen=seen,
                  rules=rules) as ctx:
        fresh = ctx.fresh
        problems = validate_update(fresh, new_amount=new_amount, new_due=new_due, rules=rules)
        if problems:
            raise InvalidInput(problems)
        if typed_confirmation is not None:
            need = update_confirmation(seen, new_amount=new_amount, new_due=new_due, rules=rules)
            if need is not None and typed_confirmation.replace(",", "").strip() != need.replace(",", ""):
                raise InvalidInput([_("This change is large: type “{need}” to confirm it.").format(need=need)])
        body: dict = {}
        if new_amount is not None and new_amount != fresh.amount:
            body["amount"] = new_amount
        if new_due is not None and to_unix(new_due) != to_unix(fresh.vbank_date):
            body["vbank_due"] = to_unix(new_due)
        before = {"amount": fresh.amount, "vbank_due": to_unix(fresh.vbank_date)}
        res, updated = _write(client, audit, ctx, operator=operator, kind="vbank", imp_uid=imp_uid, body=body,
                              detail={"before": before, "note": note, "approval_id": approval_id},
                              call=lambda: client.update_vbank(imp_uid, amount=body.get("amount"),
                                                               vbank_due=body.get("vbank_due")),
                              what=_what("vbank"), refused_msg=_("The API refused the change: “{msg}”. Nothing was "
                                                                 "changed."))
        if res is not None:
            return res
        audit.record(operator=operator.email, action="update_vbank", outcome="succeeded", correlation_id=ctx.cid,
                     imp_uid=imp_uid, merchant_uid=updated.merchant_uid, request=body, api_code=0,
                     detail={"before": before, "after": _after("vbank", updated)})
        audit.release(ctx.key, ctx.cid)
        _notify()
        return WriteResult("succeeded", _("The virtual account was updated."), ctx.cid, updated, 0)


# ====================================================================== refund
# ------------------------------------------------------------------ four eyes
def refunded_by_operator(audit: AuditStore, operator: str, *, hours: int) -> int:
    """What one operator sent as refunds without an approval in the last ``hours`` hours and that did not
    provably fail (sent, succeeded or unknown all count)."""
    since = datetime.now(KST) - timedelta(hours=hours)
    df = audit.records(operator=operator, action="refund", since=since)
    if df.empty:
        return 0
    failed = set(df.loc[df["outcome"] == "failed", "correlation_id"])
    total = 0
    for _i, r in df[df["outcome"] == "sent"].iterrows():
        if r["correlation_id"] in failed:
            continue
        if json.loads(r["detail"] or "{}").get("approval_id"):
            continue
        total += int(json.loads(r["request"] or "{}").get("amount") or 0)
    return total


def approval_needed(audit: AuditStore, p: Payment, amount: int, operator: Actor, rules: Rules) -> str | None:
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
        done = refunded_by_operator(audit, operator.email, hours=rules.refund_operator_window_hours)
        if done + amount > wl:
            return (_("You refunded {done} without approval in the last {hours} hours; with this refund it would be "
                      "{total}, above the {wl} limit per person. Request approval; an approver sends it.").format(
                          done=krw(done), hours=rules.refund_operator_window_hours, total=krw(done + amount), wl=krw(wl)))
    return None


def _waiting_request(store: ApprovalStore, imp_uid: str, *, except_id: str | None = None) -> ApprovalRequest | None:
    r = store.pending_for(imp_uid)
    return r if r is not None and r.id != except_id else None


def refund_vbank(client: IamportClient, audit: AuditStore, *, operator: Actor, request: RefundRequest, seen: Seen,
                 rules: Rules, approval_id: str | None = None, approval_note: str | None = None,
                 context: dict | None = None) -> WriteResult:
    """POST /payments/cancel for a paid virtual account, once, with checksum = the refundable balance just read.

    Without ``approval_id`` the four-eyes rule is checked here (``approval_needed``), and a refund of a payment
    with a request waiting for approval is refused. With ``approval_id`` the request must be pending, for this
    payment, amount and exact refund, made by someone else; it is claimed in the same statement that checks it
    (lib/approvals.py), and its outcome is recorded on it."""
    operator.require("approve_refund" if approval_id else "refund")
    store = approvals_of(audit)
    imp_uid = request.imp_uid
    claimed = False
    try:
        with _guarded(client, audit, operator=operator, kind="refund", imp_uid=imp_uid, seen=seen,
                      rules=rules) as ctx:
            fresh = ctx.fresh
            problems = validate_refund(fresh, request, rules)
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
            why_not = holder_problem(check, request.holder_override)
            if why_not:
                raise InvalidInput([why_not])
            check["override"] = clean(request.holder_override) or None
            if approval_id:
                try:
                    store.claim(approval_id, approver=operator, kind="refund", imp_uid=imp_uid, amount=request.amount,
                                content=request.content(), note=approval_note)
                except ApprovalProblem as e:
                    raise (Busy(str(e)) if e.busy else NeedsApproval(str(e))) from None
                claimed = True
                audit.record(operator=operator.email, action="refund_request", outcome="approved",
                             correlation_id=approval_id, imp_uid=imp_uid, detail={"note": approval_note})
            else:
                why = approval_needed(audit, fresh, request.amount, operator, rules)
                if why:
                    raise NeedsApproval(why)
            content = request.content()
            body = {"imp_uid": imp_uid, "amount": request.amount, "checksum": fresh.refundable,
                    "reason": request.reason_text(rules) + write_tag(ctx.cid),
                    "refund_holder": content["refund_holder"],
                    "refund_bank": request.refund_bank, "refund_account": content["refund_account"]}
            if pg_rules.needs_refund_tel(fresh.pg_provider) or content["refund_tel"]:
                body["refund_tel"] = content["refund_tel"]
            if request.tax_free is not None:
                body["tax_free"] = request.tax_free
            if request.vat_amount is not None and pg_rules.takes_vat_amount(fresh.pg_provider):
                body["vat_amount"] = request.vat_amount
            before = {"amount": fresh.amount, "cancel_amount": fresh.cancel_amount, "refundable": fresh.refundable}
            res, result = _write(client, audit, ctx, operator=operator, kind="refund", imp_uid=imp_uid, body=body,
                                 detail={**(context or {}), "before": before, "approval_id": approval_id,
                                         "holder_check": check},
                                 call=lambda: client.cancel(**body), what=_what("refund"),
                                 refused_msg=_("The API refused the refund: “{msg}”. No money moved."))
            if res is None:
                entry = result.cancel_history[-1].model_dump(mode="json") if result.cancel_history else None
                audit.record(operator=operator.email, action="refund", outcome="succeeded", correlation_id=ctx.cid,
                             imp_uid=imp_uid, merchant_uid=result.merchant_uid, request=body, api_code=0,
                             detail={"before": before, "after": _after("refund", result),
                                     "cancel_history_entry": entry})
                audit.release(ctx.key, ctx.cid)
                _notify()
                res = WriteResult("succeeded", _("Refund registered — the PG pays the customer on the next business "
                                                 "day."),
                                  ctx.cid, result, 0, extra={"cancel_history_entry": entry})
    except BaseException as e:
        if claimed:
            store.finish(approval_id, "failed" if isinstance(e, Refusal) else "unknown",
                         {"message": str(e) or type(e).__name__})
        raise
    if claimed:
        store.finish(approval_id, {"succeeded": "executed", "failed": "failed", "unknown": "unknown"}[res.outcome],
                     {"message": res.message, "correlation_id": res.correlation_id,
                      "cancel_amount": res.payment.cancel_amount if res.payment else None})
    return res


# ------------------------------------------------------------ approval flow
def request_refund_approval(client: IamportClient, audit: AuditStore, *, requester: Actor, request: RefundRequest,
                            seen: Seen, rules: Rules, fee_preview: dict | None = None,
                            note: str | None = None) -> ApprovalRequest:
    """Ask a second person to approve a refund. Validated like the refund itself; one open request per payment."""
    requester.require("refund")
    store = approvals_of(audit)
    store.expire_due()
    note = clean(note, multiline=True) or None
    if note and len(note) > NOTE_MAX:
        raise InvalidInput([_("The note for the approver is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    p = client.get_payment(request.imp_uid)
    moved = changes(seen, p)
    if moved:
        raise Stale(moved, p)
    problems = validate_refund(p, request, rules)
    if problems:
        raise InvalidInput(problems)
    held = audit.lock(f"refund:{request.imp_uid}")
    if held and held.state == "unknown":
        raise Busy(_("A refund of this payment has an unknown outcome; resolve it first."))
    check = holder_check(client, p.pg_provider, request)      # the approver sees what the bank said
    why_not = holder_problem(check, request.holder_override)
    if why_not:
        raise InvalidInput([why_not])
    check["override"] = clean(request.holder_override) or None
    payload = {"request": asdict(request), "seen": asdict(seen), "fee_preview": fee_preview or {},
               "holder_check": check,
               "payment": {"merchant_uid": p.merchant_uid, "pg_provider": p.pg_provider, "amount": p.amount,
                           "cancel_amount": p.cancel_amount, "buyer_name": p.buyer_name}}
    try:
        return store.insert(kind="refund", pending_key=f"refund:{request.imp_uid}", imp_uid=request.imp_uid,
                            amount=request.amount, payload=payload, content=request.content(), requester=requester,
                            note=note, expiry_hours=rules.approval_expiry_hours)
    except ApprovalProblem as e:
        waiting = store.pending_for(request.imp_uid)
        raise Busy(str(e), request_id=waiting.id if waiting else None) from None


def _bulk_content(payments: list[Payment], extend_days: int | None, to: datetime | None) -> dict:
    return {"imp_uids": sorted(p.imp_uid for p in payments), "extend_days": extend_days,
            "to": to.isoformat() if to else None}


def request_bulk_approval(audit: AuditStore, *, requester: Actor, payments: list[Payment], extend_days: int | None,
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
    import uuid
    try:
        return approvals_of(audit).insert(kind="bulk_extend", pending_key="bulk:" + uuid.uuid4().hex, imp_uid=None,
                                          amount=len(payments), payload=payload,
                                          content=_bulk_content(payments, extend_days, to), requester=requester,
                                          note=note, expiry_hours=rules.approval_expiry_hours)
    except ApprovalProblem as e:
        raise Busy(str(e)) from None


def approve(client: IamportClient, audit: AuditStore, *, approver: Actor, request_id: str, rules: Rules,
            note: str | None = None) -> WriteResult:
    """Approve and send. The refund (or bulk change) goes through the same service as any other, which claims
    the request in the statement that checks it, re-reads the payment and refuses if it changed."""
    approver.require("approve_refund")
    store = approvals_of(audit)
    try:
        req = store.get(request_id)
    except ApprovalProblem as e:
        raise InvalidInput([str(e)]) from None
    if req.requester.strip().lower() == approver.email.strip().lower():
        raise Forbidden(_("You cannot approve or reject your own request: a second person must."))
    if req.status == "expired" or req.expired:
        raise InvalidInput([_("This request has expired; ask the requester to make a new one.")])
    if req.status != "pending":
        raise Busy(_("This request was already decided ({status} by {who}).").format(
            status=request_status(req.status), who=req.decided_by or "—"))
    note = clean(note, multiline=True) or None
    if req.kind == "refund":
        r = RefundRequest(**{**req.payload["request"], **store.sealed(req.id)})
        seen = Seen(**req.payload["seen"])
        try:
            return refund_vbank(client, audit, operator=approver, request=r, seen=seen, rules=rules,
                                approval_id=req.id, approval_note=note)
        except Stale as e:
            msg = _("The payment changed since the request, so nothing was sent: ") + "; ".join(e.changes)
            if store.finish(req.id, "failed", {"message": msg}, only_if="pending"):
                audit.record(operator=approver.email, action="refund_request", outcome="refused",
                             correlation_id=req.id, imp_uid=req.imp_uid, api_message=msg)
                raise
            cur = store.get(req.id)          # another approver got there first (and the payment moved)
            raise Busy(_("This request was already decided ({status} by {who}).").format(
                status=request_status(cur.status), who=cur.decided_by or "—")) from None
    payments = [Payment.model_validate(p) for p in req.payload["payments"]]
    to = datetime.fromisoformat(req.payload["to"]) if req.payload["to"] else None
    rows = bulk_extend(client, audit, operator=approver, payments=payments, extend_days=req.payload["extend_days"],
                       to=to, rules=rules, approval_id=req.id, approval_note=note)
    ok = sum(r.outcome == "succeeded" for r in rows)
    msg = _("{ok} of {rows} accounts extended.").format(ok=ok, rows=len(rows))
    store.finish(req.id, "executed", {"rows": [asdict(r) for r in rows], "message": msg})
    return WriteResult("succeeded" if ok == len(rows) else "failed", msg, req.id, extra={"rows": rows})


def reject(audit: AuditStore, *, approver: Actor, request_id: str, note: str) -> ApprovalRequest:
    approver.require("approve_refund")
    note = clean(note, multiline=True)
    if not note:
        raise InvalidInput([_("Say why the request is rejected.")])
    if len(note) > NOTE_MAX:
        raise InvalidInput([_("The note is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    store = approvals_of(audit)
    try:
        req = store.get(request_id)
        if req.requester.strip().lower() == approver.email.strip().lower():
            raise Forbidden(_("You cannot approve or reject your own request: a second person must."))
        return store.decide(request_id, approver=approver, status="rejected", note=note)
    except ApprovalProblem as e:
        raise (Busy(str(e)) if e.busy else InvalidInput([str(e)])) from None


def withdraw(audit: AuditStore, *, requester: Actor, request_id: str) -> ApprovalRequest:
    """The requester takes back a request that is still waiting."""
    store = approvals_of(audit)
    try:
        req = store.get(request_id)
        if req.requester.strip().lower() != requester.email.strip().lower():
            raise Forbidden(_("Only the person who made a request can withdraw it."))
        return store.decide(request_id, approver=requester, status="withdrawn", note=None)
    except ApprovalProblem as e:
        raise (Busy(str(e)) if e.busy else InvalidInput([str(e)])) from None


# =============================================================== bulk extend
@dataclass
class BulkRow:
    imp_uid: str
    merchant_uid: str
    outcome: str            # succeeded | failed | unknown | refused | skipped
    message: str
    new_due: datetime | None = None
    correlation_id: str | None = None


def bulk_extend(client: IamportClient, audit: AuditStore, *, operator: Actor, payments: list[Payment],
                extend_days: int | None = None, to: datetime | None = None, rules: Rules,
                note: str | None = None, approval_id: str | None = None,
                approval_note: str | None = None, typed_confirmation: str | None = None,
                now: datetime | None = None) -> list[BulkRow]:
    """Extend the due dates of several pending accounts: one update per row, each with its own lock, re-read
    and audit records. A row that fails never stops the others. More than ``rules.bulk_approval_above_count``
    rows go through an approved request, claimed here in the statement that checks it."""
    check_bulk_plan(payments, extend_days, to, rules)
    now = now or datetime.now(KST)
    must_type = bulk_confirmation(payments, extend_days, to, rules, now)
    if must_type and not approval_id and (typed_confirmation or "").strip() != must_type:
        raise InvalidInput([_("Some of these accounts would move by more than {days} days or to an earlier date: "
                              "type {text} to confirm. Nothing was sent.").format(
                                  days=rules.update_typed_confirm_due_days, text=must_type)])
    if approval_id:
        try:
            approvals_of(audit).claim(approval_id, approver=operator, kind="bulk_extend", imp_uid=None,
                                      amount=len(payments), content=_bulk_content(payments, extend_days, to),
                                      note=approval_note)
        except ApprovalProblem as e:
            raise (Busy(str(e)) if e.busy else NeedsApproval(str(e))) from None
        audit.record(operator=operator.email, action="bulk_extend_request", outcome="approved",
                     correlation_id=approval_id, detail={"note": approval_note, "accounts": len(payments)})
    else:
        operator.require("update_vbank")
        if len(payments) > rules.bulk_approval_above_count:
            raise NeedsApproval(_("Changing more than {n} accounts at once needs a second person's approval.").format(
                n=rules.bulk_approval_above_count))
    out: list[BulkRow] = []
    for p in payments:
        new_due = plan_due(p.vbank_date, extend_days=extend_days, to=to, now=now)
        if new_due is None:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "skipped", _("This account has no due date to extend.")))
            continue
        try:
            r = _update_vbank(client, audit, operator=operator, imp_uid=p.imp_uid, seen=Seen.of(p), new_due=new_due,
                              new_amount=None, rules=rules, note=note, approval_id=approval_id)
            out.append(BulkRow(p.imp_uid, p.merchant_uid, r.outcome, r.message, new_due, r.correlation_id))
        except InvalidInput as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "refused", " ".join(e.problems), new_due))
        except Stale as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "refused", _("Changed since loaded: ") + "; ".join(e.changes),
                               new_due))
        except Busy as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "refused", str(e), new_due))
        except ApiError as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "failed", f"“{e.message}”", new_due))
    return out


__all__ = ["Busy", "BulkRow", "Forbidden", "InvalidInput", "NeedsApproval", "Refusal", "RefundRequest",
           "Seen", "Stale", "WriteResult", "approval_needed", "approvals_of", "approve", "bulk_extend", "open_outcome",
           "plan_due", "refund_blockers", "refund_vbank", "reject", "request_bulk_approval",
           "request_refund_approval", "resolve_unknown", "resolve_unknown_refund", "resolve_unknown_update",
           "update_vbank", "validate_refund", "validate_update", "withdraw"]
