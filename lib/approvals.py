"""Four-eyes approval: large refunds (and large bulk due-date changes) become requests that a second
person, an approver who is not the requester, approves or rejects. Enforced here, not only in the UI.

* One pending request per payment: ``pending_key`` is unique while a request is pending (NULL after).
* Requests expire after ``rules.approval_expiry_hours``.
* Approval claims the request atomically (pending → approving, one winner across app instances), then
  sends through the same service as any refund: the payment is re-read and the refund refused if it
  changed since the request (checksum re-validated by the API too).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import services
from .audit import AuditStore, create_tables
from .client import IamportClient
from .fmt import krw, kst
from .identity import Actor, Forbidden
from .models import KST, Payment
from .services import Busy, InvalidInput, RefundRequest, Seen, Stale, WriteResult
from .settings import Rules

_meta = MetaData()
requests_table = Table(
    "approval_requests", _meta,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),               # refund | bulk_extend
    Column("pending_key", String(120), unique=True),          # set while pending: one per payment
    Column("imp_uid", String(64), index=True),
    Column("amount", Integer),
    Column("payload", Text, nullable=False),                  # the wizard state, seen snapshot, fee preview
    Column("requester", String(200), nullable=False, index=True),
    Column("note", Text),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("status", String(20), nullable=False, index=True),  # pending approving executed failed unknown rejected expired
    Column("decided_by", String(200)),
    Column("decided_at", Float),
    Column("decision_note", Text),
    Column("result", Text),
)

OPEN = ("pending",)


@dataclass(frozen=True)
class ApprovalRequest:
    id: str
    kind: str
    imp_uid: str | None
    amount: int | None
    payload: dict
    requester: str
    note: str | None
    created_at: datetime
    expires_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    result: dict | None

    @property
    def expired(self) -> bool:
        return self.status == "pending" and self.expires_at.timestamp() <= time.time()


def _row(r) -> ApprovalRequest:
    ts = lambda v: datetime.fromtimestamp(v, KST) if v else None  # noqa: E731
    return ApprovalRequest(r["id"], r["kind"], r["imp_uid"], r["amount"], json.loads(r["payload"]), r["requester"],
                           r["note"], ts(r["created_at"]), ts(r["expires_at"]), r["status"], r["decided_by"],
                           ts(r["decided_at"]), r["decision_note"], json.loads(r["result"]) if r["result"] else None)


class ApprovalStore:
    def __init__(self, audit: AuditStore):
        self.audit = audit
        self.engine = audit.engine
        create_tables(self.engine, _meta)

    # ---------------------------------------------------------------- reads
    def get(self, request_id: str) -> ApprovalRequest:
        self.expire_due()
        with self.engine.connect() as c:
            r = c.execute(select(requests_table).where(requests_table.c.id == request_id)).mappings().first()
        if r is None:
            raise InvalidInput([f"There is no approval request {request_id}."])
        return _row(r)

    def list(self, *, status: str | None = None, requester: str | None = None, limit: int = 500) -> list[ApprovalRequest]:
        self.expire_due()
        q = select(requests_table).order_by(requests_table.c.created_at.desc()).limit(limit)
        if status:
            q = q.where(requests_table.c.status == status)
        if requester:
            q = q.where(requests_table.c.requester == requester)
        with self.engine.connect() as c:
            return [_row(r) for r in c.execute(q).mappings()]

    def pending_for(self, imp_uid: str) -> ApprovalRequest | None:
        self.expire_due()
        with self.engine.connect() as c:
            r = c.execute(select(requests_table).where(requests_table.c.pending_key == f"refund:{imp_uid}")
                          ).mappings().first()
        return _row(r) if r else None

    def expire_due(self) -> int:
        """Pending requests past their expiry become ``expired`` (and free their payment)."""
        now = time.time()
        expired = []
        due_q = select(requests_table.c.id, requests_table.c.imp_uid, requests_table.c.requester) \
            .where(requests_table.c.status == "pending", requests_table.c.expires_at <= now)
        with self.engine.connect() as c:           # every page view reads; only due requests are written
            if not c.execute(due_q.limit(1)).first():
                return 0
        with self.engine.begin() as c:
            due = c.execute(due_q).all()
            for rid, imp_uid, requester in due:
                n = c.execute(update(requests_table).where(requests_table.c.id == rid,
                                                           requests_table.c.status == "pending")
                              .values(status="expired", pending_key=None, decided_at=now)).rowcount
                if n:                       # only the instance that flipped it records it
                    expired.append((rid, imp_uid, requester))
        for rid, imp_uid, requester in expired:
            self.audit.record(operator="system", action="approval", outcome="expired", correlation_id=rid,
                              imp_uid=imp_uid, detail={"requester": requester})
        return len(expired)

    # ------------------------------------------------------------- requests
    def _insert(self, *, kind: str, pending_key: str, imp_uid: str | None, amount: int | None, payload: dict,
                requester: Actor, note: str | None, rules: Rules) -> ApprovalRequest:
        rid = uuid.uuid4().hex
        now = time.time()
        try:
            with self.engine.begin() as c:
                c.execute(insert(requests_table).values(
                    id=rid, kind=kind, pending_key=pending_key, imp_uid=imp_uid, amount=amount,
                    payload=json.dumps(payload, ensure_ascii=False, default=str), requester=requester.email,
                    note=note, created_at=now, expires_at=now + rules.approval_expiry_hours * 3600, status="pending"))
        except IntegrityError:
            other = None
            with self.engine.connect() as c:
                other = c.execute(select(requests_table).where(requests_table.c.pending_key == pending_key)
                                  ).mappings().first()
            who = f" by {other['requester']} at {kst(datetime.fromtimestamp(other['created_at'], KST))}" if other else ""
            raise Busy(f"A request for this payment is already waiting for approval{who}.") from None
        self.audit.record(operator=requester.email, action=f"{kind}_request", outcome="requested", correlation_id=rid,
                          imp_uid=imp_uid, request=payload.get("request"),
                          detail={"amount": amount, "note": note, "expires_in_hours": rules.approval_expiry_hours})
        return self.get(rid)

    def request_refund(self, client: IamportClient, *, requester: Actor, request: RefundRequest, seen: Seen,
                       rules: Rules, fee_preview: dict | None = None, note: str | None = None) -> ApprovalRequest:
        requester.require("refund")
        self.expire_due()
        p = client.get_payment(request.imp_uid)
        changes = services._changes(seen, p)
        if changes:
            raise Stale(changes, p)
        problems = services.validate_refund(p, request, rules)
        if problems:
            raise InvalidInput(problems)
        held = self.audit.lock(f"refund:{request.imp_uid}")
        if held and held.state == "unknown":
            raise Busy("A refund of this payment has an unknown outcome; resolve it first.")
        payload = {"request": asdict(request), "seen": asdict(seen), "fee_preview": fee_preview or {},
                   "payment": {"merchant_uid": p.merchant_uid, "pg_provider": p.pg_provider, "amount": p.amount,
                               "cancel_amount": p.cancel_amount, "buyer_name": p.buyer_name}}
        return self._insert(kind="refund", pending_key=f"refund:{request.imp_uid}", imp_uid=request.imp_uid,
                            amount=request.amount, payload=payload, requester=requester, note=note, rules=rules)

    def request_bulk_extend(self, *, requester: Actor, payments: list[Payment], extend_days: int | None,
                            to: datetime | None, rules: Rules, note: str | None = None) -> ApprovalRequest:
        requester.require("update_vbank")
        payload = {"payments": [p.model_dump(mode="json") for p in payments], "extend_days": extend_days,
                   "to": to.isoformat() if to else None}
        rid_key = "bulk:" + uuid.uuid4().hex
        return self._insert(kind="bulk_extend", pending_key=rid_key, imp_uid=None, amount=len(payments),
                            payload=payload, requester=requester, note=note, rules=rules)

    # ------------------------------------------------------------ decisions
    def _claim(self, req: ApprovalRequest, approver: Actor, new_status: str, note: str | None) -> None:
        approver.require("approve_refund")
        if req.requester.strip().lower() == approver.email.strip().lower():
            raise Forbidden("You cannot approve or reject your own request: a second person must.")
        now = time.time()
        with self.engine.begin() as c:
            n = c.execute(update(requests_table).where(requests_table.c.id == req.id,
                                                       requests_table.c.status == "pending",
                                                       requests_table.c.expires_at > now)
                          .values(status=new_status, decided_by=approver.email, decided_at=now,
                                  decision_note=note)).rowcount
        if n != 1:
            cur = self.get(req.id)
            if cur.status == "expired" or cur.expired:
                raise InvalidInput(["This request has expired; ask the requester to make a new one."])
            raise Busy(f"This request was already decided ({cur.status} by {cur.decided_by or '—'}).")

    def _finish(self, rid: str, status: str, result: dict) -> None:
        with self.engine.begin() as c:
            c.execute(update(requests_table).where(requests_table.c.id == rid)
                      .values(status=status, pending_key=None, result=json.dumps(result, ensure_ascii=False,
                                                                                   default=str)))

    def reject(self, *, approver: Actor, request_id: str, note: str) -> ApprovalRequest:
        if not (note or "").strip():
            raise InvalidInput(["Say why the request is rejected."])
        req = self.get(request_id)
        self._claim(req, approver, "rejected", note.strip())
        self._finish(req.id, "rejected", {"message": "Rejected: " + note.strip()})
        self.audit.record(operator=approver.email, action=f"{req.kind}_request", outcome="rejected",
                          correlation_id=req.id, imp_uid=req.imp_uid, detail={"note": note.strip(),
                                                                              "requester": req.requester})
        return self.get(req.id)

    def approve(self, client: IamportClient, *, approver: Actor, request_id: str, rules: Rules,
                note: str | None = None) -> WriteResult:
        """Approve and send. The request is claimed first (one approver wins); then the refund goes through
        services.refund_vbank, which re-reads the payment and refuses if it changed since the request."""
        req = self.get(request_id)
        self._claim(req, approver, "approving", note)
        self.audit.record(operator=approver.email, action=f"{req.kind}_request", outcome="approved",
                          correlation_id=req.id, imp_uid=req.imp_uid, detail={"note": note,
                                                                              "requester": req.requester})
        try:
            if req.kind == "refund":
                r = RefundRequest(**req.payload["request"])
                seen = Seen(**req.payload["seen"])
                res = services.refund_vbank(client, self.audit, operator=approver, request=r, seen=seen,
                                            rules=rules, approval_id=req.id)
                self._finish(req.id, {"succeeded": "executed", "failed": "failed", "unknown": "unknown"}[res.outcome],
                             {"message": res.message, "correlation_id": res.correlation_id,
                              "cancel_amount": res.payment.cancel_amount if res.payment else None})
                return res
            rows = services.bulk_extend(client, self.audit, operator=approver,
                                        payments=[Payment.model_validate(p) for p in req.payload["payments"]],
                                        extend_days=req.payload["extend_days"],
                                        to=datetime.fromisoformat(req.payload["to"]) if req.payload["to"] else None,
                                        rules=rules, approval_id=req.id)
            ok = sum(r.outcome == "succeeded" for r in rows)
            self._finish(req.id, "executed", {"rows": [asdict(r) for r in rows],
                                              "message": f"{ok} of {len(rows)} accounts extended."})
            return WriteResult("succeeded" if ok == len(rows) else "failed", f"{ok} of {len(rows)} accounts extended.",
                               req.id, extra={"rows": rows})
        except Stale as e:
            msg = "The payment changed since the request, so nothing was sent: " + "; ".join(e.changes)
            self._finish(req.id, "failed", {"message": msg})
            self.audit.record(operator=approver.email, action=f"{req.kind}_request", outcome="refused",
                              correlation_id=req.id, imp_uid=req.imp_uid, api_message=msg)
            raise
        except (Busy, InvalidInput, services.ApiError) as e:
            self._finish(req.id, "failed", {"message": str(e)})
            raise
        except BaseException as e:
            self._finish(req.id, "unknown", {"message": f"Interrupted: {type(e).__name__}"})
            raise


def describe(req: ApprovalRequest) -> str:
    if req.kind == "refund":
        r = req.payload["request"]
        return f"Refund {krw(r['amount'])} of {req.imp_uid} ({req.payload['payment'].get('merchant_uid', '')})"
    n = len(req.payload["payments"])
    how = f"by {req.payload['extend_days']} days" if req.payload.get("extend_days") else f"to {req.payload['to']}"
    return f"Extend the due dates of {n} virtual accounts {how}"
