"""Four-eyes approval requests: the SQL store (no HTTP; the approval *flow* is in lib/services/).

* One pending request per payment: ``pending_key`` is unique while a request is open (NULL after).
* Requests expire after ``rules.approval_expiry_hours``.
* ``claim`` is one conditional UPDATE that both checks and takes a request: it must exist, be pending, not
  expired, of this kind, for this payment and amount, for exactly this refund (``request_hash``), and the
  approver must not be the requester. One approver wins across app instances; a made-up id claims nothing.
* The stored payload masks the refund account and phone like the audit does; the full numbers the PG needs
  are kept apart (``sealed``) only while the request is open and erased when it is decided.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from lib.db.audit import AuditStore, mask_request
from lib.db.schema import approval_requests
from lib.domain.clock import KST
from lib.domain.errors import DeskError
from lib.domain.fmt import kst
from lib.domain.i18n import _
from lib.domain.identity import Actor, Forbidden
from lib.domain.kinds import Action, Outcome, RequestKind, RequestStatus, WriteKind
from lib.domain.names import request_status


class ApprovalProblem(DeskError):
    """Why a request cannot be made, decided or claimed (``busy``: someone else got there first)."""

    def __init__(self, message: str, *, busy: bool = False):
        super().__init__(message)
        self.busy = busy






SEALED_FIELDS = ("refund_account", "refund_tel")


def request_hash(kind: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"kind": kind, **content}, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()


@dataclass(frozen=True)
class ApprovalRequest:
    id: str
    kind: str
    imp_uid: str | None
    amount: int | None
    payload: dict[str, Any]
    requester: str
    note: str | None
    created_at: datetime
    expires_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    result: dict[str, Any] | None

    @property
    def expired(self) -> bool:
        return self.status == RequestStatus.PENDING and self.expires_at.timestamp() <= time.time()


def _row(r: Any) -> ApprovalRequest:
    def ts(v: float | None) -> Any:
        return datetime.fromtimestamp(v, KST) if v else None
    return ApprovalRequest(r["id"], r["kind"], r["imp_uid"], r["amount"], json.loads(r["payload"]), r["requester"],
                           r["note"], ts(r["created_at"]), ts(r["expires_at"]), r["status"], r["decided_by"],
                           ts(r["decided_at"]), r["decision_note"], json.loads(r["result"]) if r["result"] else None)


class ApprovalStore:
    def __init__(self, audit: AuditStore):
        self.audit = audit
        self.engine = audit.engine

    def get(self, request_id: str) -> ApprovalRequest:
        self.expire_due()
        with self.engine.connect() as c:
            r = c.execute(select(approval_requests).where(approval_requests.c.id == request_id)).mappings().first()
        if r is None:
            raise ApprovalProblem(_("There is no approval request {request_id}.").format(request_id=request_id))
        return _row(r)

    def list(self, *, status: str | None = None, requester: str | None = None, limit: int = 500) -> list[ApprovalRequest]:
        self.expire_due()
        q = select(approval_requests).order_by(approval_requests.c.created_at.desc()).limit(limit)
        if status:
            q = q.where(approval_requests.c.status == status)
        if requester:
            q = q.where(approval_requests.c.requester == requester)
        with self.engine.connect() as c:
            return [_row(r) for r in c.execute(q).mappings()]

    def changed_since(self, t: float, limit: int = 5_000) -> builtins.list[ApprovalRequest]:
        """Requests made or decided at ``t`` or later (the watcher's read: what happened since its last pass)."""
        self.expire_due()
        q = (select(approval_requests)
             .where(or_(approval_requests.c.created_at >= t, approval_requests.c.decided_at >= t))
             .order_by(approval_requests.c.created_at).limit(limit))
        with self.engine.connect() as c:
            return [_row(r) for r in c.execute(q).mappings()]

    def pending_for(self, imp_uid: str) -> ApprovalRequest | None:
        self.expire_due()
        with self.engine.connect() as c:
            r = c.execute(select(approval_requests).where(approval_requests.c.pending_key == WriteKind.REFUND.lock_key(imp_uid))
                          ).mappings().first()
        return _row(r) if r else None

    def expire_due(self) -> int:
        """Pending requests past their expiry become ``expired`` (and free their payment)."""
        now = time.time()
        expired = []
        due_q = select(approval_requests.c.id, approval_requests.c.imp_uid, approval_requests.c.requester) \
            .where(approval_requests.c.status == RequestStatus.PENDING, approval_requests.c.expires_at <= now)
        with self.engine.connect() as c:           # every page view reads; only due requests are written
            if not c.execute(due_q.limit(1)).first():
                return 0
        with self.engine.begin() as c:
            due = c.execute(due_q).all()
            for rid, imp_uid, requester in due:
                n = c.execute(update(approval_requests).where(approval_requests.c.id == rid,
                                                           approval_requests.c.status == RequestStatus.PENDING)
                              .values(status=RequestStatus.EXPIRED, pending_key=None, decided_at=now, sealed=None)).rowcount
                if n:                       # only the instance that flipped it records it
                    expired.append((rid, imp_uid, requester))
        for rid, imp_uid, requester in expired:
            self.audit.record(operator="system", action=Action.APPROVAL, outcome=Outcome.EXPIRED, correlation_id=rid,
                              imp_uid=imp_uid, detail={"requester": requester})
        return len(expired)

        # ------------------------------------------------------------- requests
    def insert(self, *, kind: str, pending_key: str, imp_uid: str | None, amount: int | None, payload: dict[str, Any],
               content: dict[str, Any], requester: Actor, note: str | None, expiry_hours: float) -> ApprovalRequest:
        """A new pending request. ``content`` is exactly what will be sent (full numbers): its hash is what an
        approval must match; its account and phone numbers are kept sealed, the payload shows them masked."""
        rid = uuid.uuid4().hex
        now = time.time()
        sealed = {k: content[k] for k in SEALED_FIELDS if content.get(k)}
        try:
            with self.engine.begin() as c:
                c.execute(insert(approval_requests).values(
                    id=rid, kind=kind, pending_key=pending_key, imp_uid=imp_uid, amount=amount,
                    payload=json.dumps(_masked(payload), ensure_ascii=False, default=str), requester=requester.email,
                    note=note, created_at=now, expires_at=now + expiry_hours * 3600, status=RequestStatus.PENDING,
                    request_hash=request_hash(kind, content), sealed=json.dumps(sealed) if sealed else None))
        except IntegrityError:
            with self.engine.connect() as c:
                other = c.execute(select(approval_requests).where(approval_requests.c.pending_key == pending_key)
                                  ).mappings().first()
            who = _(" by {requester} at {created_at}").format(
                requester=other["requester"], created_at=kst(datetime.fromtimestamp(other['created_at'], KST))) if other else ""
            raise ApprovalProblem(_("A request for this payment is already waiting for approval{who}.").format(who=who),
                                  busy=True) from None
        self.audit.record(operator=requester.email, action=f"{kind}_request", outcome=Outcome.REQUESTED, correlation_id=rid,
                          imp_uid=imp_uid, request=payload.get("request"),
                          detail={"amount": amount, "note": note, "expires_in_hours": expiry_hours})
        return self.get(rid)

    def sealed(self, request_id: str) -> dict[str, Any]:
        with self.engine.connect() as c:
            v = c.execute(select(approval_requests.c.sealed).where(approval_requests.c.id == request_id)).scalar()
        return json.loads(v) if v else {}

    # ------------------------------------------------------------ decisions
    def claim(self, request_id: str, *, approver: Actor, kind: str, imp_uid: str | None, amount: int | None,
              content: dict[str, Any], note: str | None = None) -> None:
        """Check and take an approved request in one conditional UPDATE (pending → approving). Raises
        ``ApprovalProblem`` with the reason when nothing was claimed: no such request, another kind, payment,
        amount or content, the approver's own request, expired, or already decided."""
        approver.require("approve_refund")
        now = time.time()
        t = approval_requests
        with self.engine.begin() as c:
            n = c.execute(update(t).where(
                t.c.id == request_id, t.c.status == RequestStatus.PENDING, t.c.expires_at > now, t.c.kind == kind,
                (t.c.imp_uid == imp_uid) if imp_uid is not None else t.c.imp_uid.is_(None),
                t.c.amount == amount, t.c.request_hash == request_hash(kind, content),
                func.lower(func.trim(t.c.requester)) != approver.email.strip().lower(),
            ).values(status=RequestStatus.APPROVING, decided_by=approver.email, decided_at=now, decision_note=note)).rowcount
        if n == 1:
            return
        with self.engine.connect() as c:
            r = c.execute(select(t).where(t.c.id == request_id)).mappings().first()
        if r is None:
            raise ApprovalProblem(_("There is no approval request {request_id}: nothing was sent.").format(
                request_id=request_id))
        if r["requester"].strip().lower() == approver.email.strip().lower():
            raise Forbidden(_("You cannot approve or reject your own request: a second person must."))
        if r["status"] == RequestStatus.EXPIRED or (r["status"] == RequestStatus.PENDING and r["expires_at"] <= now):
            raise ApprovalProblem(_("This request has expired; ask the requester to make a new one."))
        if r["status"] != RequestStatus.PENDING:
            raise ApprovalProblem(_("This request was already decided ({status} by {who}).").format(
                status=request_status(r["status"]), who=r["decided_by"] or "—"),
                                  busy=True)
        raise ApprovalProblem(_("The approved request does not match what would be sent (another payment, amount, "
                              "account or change): nothing was sent."))

    def carrying(self, request_id: str, *, approver: Actor, kind: str, imp_uid: str) -> ApprovalRequest:
        """The approved request an approver is carrying out right now, row by row (a bulk change claimed by
        ``claim``: "approving", by this approver), of this ``kind`` and naming this payment. Anything else — an id
        nobody issued, another kind, another payment, someone else's claim, a request still waiting, or one already
        carried out (spent) — raises ``ApprovalProblem``: an approval id is never permission by itself."""
        approver.require("approve_refund")
        try:
            req = self.get(request_id)
        except ApprovalProblem:
            raise ApprovalProblem(_("There is no approval request {request_id}: nothing was sent.").format(
                request_id=request_id)) from None
        names = {str(p.get("imp_uid")) for p in req.payload.get("payments", [])} if req.imp_uid is None \
            else {req.imp_uid}
        if req.status != "approving" or (req.decided_by or "").strip().lower() != approver.email.strip().lower() \
                or req.kind != kind or imp_uid not in names:
            raise ApprovalProblem(_("Approval request {request_id} does not cover this change of {imp_uid}: nothing "
                                    "was sent.").format(request_id=request_id, imp_uid=imp_uid))
        return req

    def decide(self, request_id: str, *, approver: Actor, status: str, note: str | None) -> ApprovalRequest:
        """Reject (or withdraw): pending → ``status``, one winner."""
        req = self.get(request_id)
        now = time.time()
        with self.engine.begin() as c:
            n = c.execute(update(approval_requests).where(approval_requests.c.id == request_id,
                                                       approval_requests.c.status == RequestStatus.PENDING)
                          .values(status=status, decided_by=approver.email, decided_at=now, decision_note=note,
                                  pending_key=None, sealed=None)).rowcount
        if n != 1:
            cur = self.get(request_id)
            raise ApprovalProblem(_("This request was already decided ({status} by {who}).").format(
                status=request_status(cur.status), who=cur.decided_by or "—"),
                                  busy=True)
        self.audit.record(operator=approver.email, action=f"{req.kind}_request", outcome=status,
                          correlation_id=req.id, imp_uid=req.imp_uid, detail={"note": note,
                                                                              "requester": req.requester})
        return self.get(request_id)

    def unfinished(self, imp_uid: str, kind: str = RequestKind.REFUND) -> builtins.list[ApprovalRequest]:
        """Requests of this payment approved and being sent (``approving``) or ended ``unknown``: what a settled
        lock must finish too."""
        with self.engine.connect() as c:
            ids = [r[0] for r in c.execute(select(approval_requests.c.id).where(
                approval_requests.c.imp_uid == imp_uid, approval_requests.c.kind == kind,
                approval_requests.c.status.in_((RequestStatus.APPROVING, RequestStatus.UNKNOWN))))]
        return [self.get(i) for i in ids]

    def finish(self, request_id: str, status: str, result: dict[str, Any], *, only_if: str | None = None) -> bool:
        """Record how a claimed (or, with ``only_if=PENDING``, a still-open) request ended; erase its sealed
        numbers and free its payment."""
        q = update(approval_requests).where(approval_requests.c.id == request_id)
        if only_if:
            q = q.where(approval_requests.c.status == only_if)
        with self.engine.begin() as c:
            n = c.execute(q.values(status=status, pending_key=None, sealed=None,
                                   result=json.dumps(result, ensure_ascii=False, default=str))).rowcount
        return n == 1


def _masked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored: the refund's fields (its ``request`` and the planned ``body``) with account and phone
    numbers masked; the full ones are sealed apart."""
    out = dict(payload)
    for key in ("request", "body"):
        if isinstance(out.get(key), dict):
            out[key] = mask_request(out[key])
    return out
