"""One money-moving write of one payment, as one object that walks its states:

    Write(...) ──claim(seen)──▶ claimed ──send(body, call)──▶ sent ──▶ succeeded | failed | unknown
                  │                                                                  │
                  └─ Busy / Stale (nothing taken, nothing sent)                       └─ resolved later (unknowns.py)

* **claim**: take the in-flight lock ``<kind>:<imp_uid>`` (settling an abandoned one), re-read the payment right
  before sending, refuse if it changed since the operator looked (``Stale``). The caller validates against
  ``write.fresh`` inside the ``with`` block.
* **send**: claim the send on the lock (a conditional update: still ours, still in flight), audit "sent", make the
  **one** HTTP call — never retried — and classify what came back:
  - the API's envelope, ``code 0`` → **succeeded**, audited with the payment after it; lock released;
  - the API's envelope, ``code != 0`` (``Refused``), or provably never left (no connection, no token) → **failed**,
    nothing moved; lock released;
  - anything else (timeout, cut connection, 5xx, an HTML page) → a re-read; if it proves **our own** request took
    effect → succeeded ("confirmed by a re-read"); else **unknown**: audited, the lock kept, nothing resent.
* leaving the ``with`` block by an exception frees the lock if nothing left, or keeps it as unknown if the request
  may have left without a recorded outcome.

Every state change from "sent" on moves the write's row of ``writes`` (lib/db/writes.py) in the same transaction as
its audit record; the row's ``action_key`` (the page's send-once id, else the correlation id) is the write's
idempotency key: an action already sent is refused (``Busy``) before anything leaves.

The three writes (lib/services/update.py, refund.py, revoke.py) are the steps of this object with their own
validation and body; what proves each kind landed lives in lib/services/settle.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lib.db.appdb import AppDb
from lib.db.audit import new_correlation_id
from lib.db.writes import ActionTaken, WriteMove
from lib.domain.clock import KST
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import LockState, Outcome, WriteKind, WriteState
from lib.domain.models import Payment
from lib.domain.outcomes import WriteResult
from lib.domain.refusals import Busy, NeedsApproval, Stale
from lib.domain.rules import Seen, changes
from lib.iamport.errors import ApiError, ApiUnavailable, OutcomeUnknown, Refused
from lib.iamport.v2.client import DeskClient
from lib.services.settle import SPECS, notify
from lib.services.unknowns import lock_busy_message, settle_abandoned, what

if TYPE_CHECKING:
    from lib.db.approvals import ApprovalRequest
    from lib.db.locks import Lock


def approved_row(db: AppDb, approval_id: str, *, operator: Actor, kind: str, imp_uid: str) -> ApprovalRequest:
    """The approved request ``approval_id`` when ``operator`` is carrying it out now and it covers this payment;
    else ``NeedsApproval`` (nothing is sent). An approval id is never permission by itself: made-up, foreign (another
    kind or payment, someone else's) and spent (carried out already) ids are all refused."""
    from lib.db.approvals import ApprovalProblem
    try:
        return db.approvals.carrying(approval_id, approver=operator, kind=kind, imp_uid=imp_uid)
    except ApprovalProblem as e:
        raise NeedsApproval(str(e)) from None


def _action_taken(row: dict) -> str:
    return _("This action was already sent by {operator} at {at}: it is not sent twice. Look at the payment again "
             "to see what it did.").format(operator=row["operator"], at=kst(datetime.fromtimestamp(row["sent_at"], KST)))


class Write:
    """One write of one payment by one person (see the module's docstring)."""

    def __init__(self, client: DeskClient, db: AppDb, *, operator: Actor, kind: WriteKind, imp_uid: str,
                 lease_s: float, action_key: str | None = None):
        self.client, self.db, self.locks = client, db, db.locks
        self.writes = db.writes
        self.operator, self.kind, self.imp_uid, self.lease_s = operator, kind, imp_uid, lease_s
        self.key = kind.lock_key(imp_uid)
        self.cid = new_correlation_id()
        # The idempotency key: the page's send-once id for this action (one row of ``writes`` per key, ever).
        self.action_key = action_key or self.cid
        self.state = WriteState.NEW
        self.fresh: Payment | None = None            # the payment as re-read right before sending
        self.body: dict | None = None                # what was sent
        self.before: dict = {}                       # the payment's figures before, kept in the audit

    # ------------------------------------------------------------------ claim
    @contextmanager
    def claim(self, seen: Seen) -> Iterator[Write]:
        """Lock, re-read, refuse if changed; on an exception inside, free or hold the lock (see the docstring)."""
        taken = self.writes.by_action_key(self.action_key)
        if taken is not None:
            raise Busy(_action_taken(taken))
        held = self._acquire()
        if held is not None and held.abandoned():
            settle_abandoned(self.client, self.db, held, self.operator)
            held = self._acquire()
        if held is not None:
            raise Busy(lock_busy_message(held))
        try:
            self.fresh = self.client.get_payment(self.imp_uid)
            moved = changes(seen, self.fresh)
            if moved:
                raise Stale(moved, self.fresh)
            self.state = WriteState.CLAIMED
            yield self
        except BaseException as e:
            self._interrupted(e)
            raise

    def _acquire(self) -> Lock | None:
        return self.locks.acquire(self.key, correlation_id=self.cid, operator=self.operator.email, action=self.kind,
                                  lease_s=self.lease_s)

    def _interrupted(self, error: BaseException) -> None:
        lock = self.locks.get(self.key)
        if not lock or lock.correlation_id != self.cid:
            return
        if self.state in (WriteState.NEW, WriteState.CLAIMED):
            self.locks.release(self.key, self.cid)
        elif self.state == WriteState.SENT and lock.state in (LockState.IN_FLIGHT, LockState.SENDING):
            self.locks.mark_unknown(self.key, self.cid, "interrupted")
            try:
                self.db.audit.record(operator=self.operator.email, action=self.kind, outcome=Outcome.UNKNOWN,
                                  correlation_id=self.cid, imp_uid=self.imp_uid,
                                  detail={"why": "interrupted", "error": type(error).__name__},
                                  write=self._move(WriteState.UNKNOWN))
            except Exception:          # the lock already says unknown; the audit can be written later
                pass

    def _move(self, state: WriteState) -> WriteMove:
        return WriteMove(self.cid, state)

    # ------------------------------------------------------------------- send
    def send(self, body: dict, call: Callable[[], Payment], *, detail: dict, refused: str, done: str,
             facts: Callable[[Payment], dict] | None = None) -> WriteResult:
        """Send once and record the outcome. ``refused`` is the sentence for the API's refusal (``{msg}``: the API's
        message), ``done`` the one for success; ``facts`` adds what the reply says to the success record."""
        assert self.state == WriteState.CLAIMED and self.fresh is not None
        if not self.locks.claim_send(self.key, self.cid, lease_s=self.lease_s):
            raise Busy(_("This write waited so long that its lock was judged abandoned and settled by someone else; "
                         "nothing was sent. Look at the payment again."))
        self.body = body
        amount = body.get("amount")
        sent = WriteMove.sent(self.cid, action_key=self.action_key, kind=self.kind, imp_uid=self.imp_uid,
                              amount=amount if isinstance(amount, int) else None, operator=self.operator.email,
                              approval_id=detail.get("approval_id"))
        try:
            self.db.audit.record(operator=self.operator.email, action=self.kind, outcome=Outcome.SENT,
                              correlation_id=self.cid, imp_uid=self.imp_uid, merchant_uid=self.fresh.merchant_uid,
                              request=body, detail={**detail, "before": self.before}, write=sent)
        except ActionTaken as e:            # the same action sent meanwhile (another tab, another instance)
            raise Busy(_action_taken(e.row)) from None
        self.state = WriteState.SENT
        try:
            out = call()
        except Refused as e:
            return self._failed(e, "api_refused", refused.format(msg=e.message))
        except OutcomeUnknown as e:
            return self._unclear(e)
        except ApiUnavailable as e:         # provably never left: no connection, or no token to send it with
            return self._failed(e, "never_sent", _(
                "The API could not be reached ({message}); the {what} was not sent. Nothing changed. Try again when "
                "the connection is back.").format(message=e.message, what=what(self.kind)))
        except ApiError as e:               # anything else after sending: unknown, never "not sent"
            return self._unclear(e)
        return self._succeeded(out, done, **(facts(out) if facts else {}))

    def _succeeded(self, p: Payment, message: str, **extra: Any) -> WriteResult:
        after = SPECS[self.kind].after(p)
        self.db.audit.record(operator=self.operator.email, action=self.kind, outcome=Outcome.SUCCEEDED,
                          correlation_id=self.cid, imp_uid=self.imp_uid, merchant_uid=p.merchant_uid,
                          request=self.body, api_code=0, detail={"before": self.before, "after": after, **extra},
                          write=self._move(WriteState.SUCCEEDED))
        self.locks.release(self.key, self.cid)
        self.state = WriteState.SUCCEEDED
        notify(self.db, [self.imp_uid])
        return WriteResult(Outcome.SUCCEEDED, message, self.cid, p, 0, extra=extra)

    def _failed(self, e: ApiError, proof: str, message: str) -> WriteResult:
        assert self.fresh is not None
        self.db.audit.record(operator=self.operator.email, action=self.kind, outcome=Outcome.FAILED,
                          correlation_id=self.cid, imp_uid=self.imp_uid, merchant_uid=self.fresh.merchant_uid,
                          request=self.body, api_code=e.code, api_message=e.message,
                          detail={"http_status": e.http_status, "why": proof}, write=self._move(WriteState.FAILED))
        self.locks.release(self.key, self.cid)
        self.state = WriteState.FAILED
        return WriteResult(Outcome.FAILED, message, self.cid, self.fresh, e.code, e.message)

    def _unclear(self, err: ApiError) -> WriteResult:
        """The request left and no envelope came back. Re-read to learn what happened; never resend. Our own request
        proven landed → succeeded. Otherwise unknown, lock kept: a timeout, a gateway's 504 or a cut connection says
        nothing about whether the API applied it (it may still be working on it)."""
        assert self.fresh is not None and self.body is not None
        spec = SPECS[self.kind]
        try:
            now_p: Payment | None = self.client.get_payment(self.imp_uid)
            reread_error = None
        except ApiError as e2:
            now_p, reread_error = None, e2.message
        if now_p is not None and spec.landed(self.body, now_p):
            self.db.audit.record(operator=self.operator.email, action=self.kind, outcome=Outcome.SUCCEEDED,
                              correlation_id=self.cid, imp_uid=self.imp_uid, merchant_uid=now_p.merchant_uid,
                              request=self.body, api_message=err.message,
                              detail={"confirmed_by_reread": True, "http_status": err.http_status,
                                      "before": self.before, "after": spec.after(now_p)},
                              write=self._move(WriteState.SUCCEEDED))
            self.locks.release(self.key, self.cid)
            self.state = WriteState.SUCCEEDED
            notify(self.db, [self.imp_uid])
            return WriteResult(Outcome.SUCCEEDED, _(
                "The API gave no clear reply ({message}), but a re-read shows the {what} took effect. Nothing was "
                "resent.").format(message=err.message, what=what(self.kind)), self.cid, now_p,
                confirmed_by_reread=True, extra={"http_status": err.http_status})
        if now_p is None:
            seen_now = _("the re-read failed too ({reread_error})").format(reread_error=reread_error)
        elif self.kind == WriteKind.REFUND:
            seen_now = _("a re-read shows the refunded total at {now} (was {was})").format(
                now=krw(now_p.cancel_amount), was=krw(self.fresh.cancel_amount))
        else:
            seen_now = _("a re-read does not show it yet")
        message = _("No clear reply to the {what} ({message}); {seen_now}. The API may still apply it. Check the "
                    "payment again in a moment, or check the PG console; nothing will be sent for this payment until "
                    "this is resolved.").format(what=what(self.kind), message=err.message, seen_now=seen_now)
        self.db.audit.record(operator=self.operator.email, action=self.kind, outcome=Outcome.UNKNOWN,
                          correlation_id=self.cid, imp_uid=self.imp_uid, merchant_uid=self.fresh.merchant_uid,
                          request=self.body, api_message=err.message,
                          detail={"why": "no_reply", "http_status": err.http_status,
                                  "reread": spec.after(now_p) if now_p is not None else None},
                          write=self._move(WriteState.UNKNOWN))
        self.locks.mark_unknown(self.key, self.cid, "no_reply")
        self.state = WriteState.UNKNOWN
        notify(self.db, [self.imp_uid])
        return WriteResult(Outcome.UNKNOWN, message, self.cid, now_p or self.fresh,
                           extra={"http_status": err.http_status})
