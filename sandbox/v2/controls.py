"""Sandbox-only controls under ``/sandbox/…`` (no authorization): health, a payment's full state, a deposit into an
issued virtual account, completing or failing a requested cancellation, faults, the request log, a reset to the
seed, and the webhook sender."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..faults import Fault
from . import model as m
from .errors import error_response, json_response
from .seed import SeedPlan, generate
from .state import V2State, request_body, state
from .webhooks import TYPES, deliver, notify, raw_key

router = APIRouter(prefix="/sandbox")


def _full(p: dict) -> dict:
    """The payment as the API shows it, plus what a test needs: its cancellable amount and expiry."""
    return {**m.public(p), "sandbox": {"cancellable": m.cancellable(p), "expires": p.get("_expires"),
                                       "closed": p.get("_closed"), "method": p["_method"]}}


@router.get("/health")
async def health(sb: V2State = Depends(state)) -> dict:
    return {"ok": True, "api": "v2", "storeId": sb.cfg.store_id, "payments": len(sb.store.all())}


@router.get("/payments")
async def payments(status: str | None = None, pg: str | None = None, method: str | None = None,
                   sb: V2State = Depends(state)) -> Response:
    """Every payment (optionally of one status, PG and method), oldest first, with the sandbox's extras."""
    rows = sorted(sb.store.all(), key=lambda p: (p["_requested"], p["_seq"]))
    rows = [p for p in rows if (status is None or p["status"] == status) and (method is None or p["_method"] == method)
            and (pg is None or p["channel"]["pgProvider"] == pg)]
    return json_response({"payments": [_full(p) for p in rows]})


@router.post("/payments")
async def issue(request: Request, sb: V2State = Depends(state)) -> Response:
    """A new order paid by virtual account: a payment issued now (``{"pg", "amount", "dueInDays", "bank",
    "orderName", "paymentId"}``, all optional), and the Transaction.VirtualAccountIssued webhook when a webhook URL
    is configured. The cursor list shows it after every seeded payment."""
    body = await request_body(request)
    pg, amount, days = body.get("pg", "KCP_V2"), body.get("amount", 10_000), body.get("dueInDays", 3)
    bank = body.get("bank", "SHINHAN")
    if not isinstance(pg, str) or not isinstance(bank, str) or pg not in m.PGS or bank not in m.BANKS:
        return error_response("INVALID_REQUEST", f"pg는 {', '.join(m.PGS)} 중 하나, bank는 V2 은행 코드입니다.")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 100 <= amount <= 10**10 \
            or isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 60:
        return error_response("INVALID_REQUEST", "amount는 100 이상의 정수, dueInDays는 0 초과 60 이하입니다.")
    now = sb.now()
    with sb.store.lock:
        seq = max((p["_seq"] for p in sb.store.all()), default=-1) + 1
        pid = body.get("paymentId") or f"order-live-{seq:06d}"
        if not isinstance(pid, str) or sb.store.get(pid) is not None:
            return error_response("INVALID_REQUEST", "paymentId가 이미 있거나 올바르지 않습니다.")
        p = m.new_payment(payment_id=pid, transaction_id=f"00000000-0000-4000-a000-{seq:012d}",
                          store_id=sb.cfg.store_id, pg=pg, method="VIRTUAL_ACCOUNT", amount=amount, requested=now,
                          order_name=str(body.get("orderName") or "샌드박스 주문"),
                          customer={"id": f"customer-live-{seq}", "name": "홍길동", "phoneNumber": "01012345678"},
                          platform="PC", seq=seq)
        m.issue_virtual_account(p, bank=bank, number=f"{90000000000 + seq}", expires=now + days * 86400, at=now)
        sb.store.put(p)
    await notify(sb, "Transaction.VirtualAccountIssued", p, None)
    return json_response(_full(p))


@router.get("/payments/{payment_id}")
async def payment(payment_id: str, sb: V2State = Depends(state)) -> Response:
    p = sb.store.get(payment_id)
    if p is None:
        return error_response("PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    return json_response(_full(p))


@router.post("/payments/{payment_id}/deposit")
async def deposit(payment_id: str, request: Request, sb: V2State = Depends(state)) -> Response:
    """The customer deposits into the issued virtual account: PAID at once (paidAt now), a PAID event, and the
    Transaction.Paid webhook when a webhook URL is configured. An expired account refuses unless ``{"late": true}``."""
    body = await request_body(request)
    now = sb.now()
    with sb.store.lock:
        p = sb.store.get(payment_id)
        if p is None:
            return error_response("PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            return error_response("PAYMENT_NOT_WAITING_FOR_DEPOSIT", "결제 건이 입금 대기 상태가 아닙니다.")
        if p.get("_expires", now) < now and not body.get("late"):
            return error_response("PAYMENT_NOT_WAITING_FOR_DEPOSIT", "입금 기한이 지난 가상계좌입니다.")
        m.mark_paid(p, now)
        sb.store.put(p)
        sb.store.add_event(m.event(p, "PAID", now, p["amount"]["total"]))
    await notify(sb, "Transaction.Paid", p, None)
    return json_response(_full(p))


async def _settle(sb: V2State, payment_id: str, cancellation_id: str, succeed: bool) -> Response:
    now = sb.now()
    with sb.store.lock:
        p = sb.store.get(payment_id)
        if p is None:
            return error_response("PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        c = next((c for c in p.get("cancellations", []) if c["id"] == cancellation_id), None)
        if c is None:
            return error_response("PAYMENT_CANCELLATION_NOT_FOUND", "결제 취소 내역이 존재하지 않습니다.")
        if c["status"] != "REQUESTED":
            return error_response("PAYMENT_CANCELLATION_NOT_PENDING", "결제 취소 내역이 취소 요청 상태가 아닙니다.")
        kind = None
        if succeed:
            kind = m.succeed_cancellation(p, c, now)
            sb.store.put(p)
            sb.store.add_event(m.event(p, kind, now, c["totalAmount"], c))
        else:
            m.fail_cancellation(p, c, now)
            sb.store.put(p)
    if kind:
        await notify(sb, "Transaction.Cancelled" if kind == "CANCELLED" else "Transaction.PartialCancelled", p, c["id"])
    return json_response(_full(p))


@router.post("/payments/{payment_id}/cancellations/{cancellation_id}/complete")
async def complete_cancellation(payment_id: str, cancellation_id: str, sb: V2State = Depends(state)) -> Response:
    """The PG finishes a REQUESTED cancellation: SUCCEEDED, the payment (partially) cancelled, its webhook."""
    return await _settle(sb, payment_id, cancellation_id, True)


@router.post("/payments/{payment_id}/cancellations/{cancellation_id}/fail")
async def fail_cancellation(payment_id: str, cancellation_id: str, sb: V2State = Depends(state)) -> Response:
    """The PG refuses a REQUESTED cancellation: FAILED, the payment's amounts unchanged."""
    return await _settle(sb, payment_id, cancellation_id, False)


@router.post("/webhooks/send")
async def send_webhook(request: Request, sb: V2State = Depends(state)) -> Response:
    """Sign and post one webhook: ``{"url", "type", "paymentId"[, "cancellationId", "timestamp" (UNIX seconds, to
    send an old one), "secret" (sign with another secret)]}``. Without ``url`` it is only built and returned."""
    body = await request_body(request)
    kind, pid = body.get("type"), body.get("paymentId")
    if kind not in TYPES:
        return error_response("INVALID_REQUEST", f"type은 {', '.join(TYPES)} 중 하나입니다.")
    p = sb.store.get(pid) if isinstance(pid, str) else None
    if p is None:
        return error_response("PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    cid = body.get("cancellationId")
    if cid is None and kind in ("Transaction.Cancelled", "Transaction.PartialCancelled", "Transaction.CancelPending"):
        cid = next((c["id"] for c in reversed(p.get("cancellations", []))), None)
    ts = body.get("timestamp")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int)):
        return error_response("INVALID_REQUEST", "timestamp는 UNIX 초(정수)입니다.")
    secret = body.get("secret")
    try:
        if secret is not None and not isinstance(secret, str):
            raise ValueError
        raw_key(secret or sb.cfg.webhook_secret)
    except ValueError:
        return error_response("INVALID_REQUEST", "webhook secret이 base64(whsec_…)가 아닙니다.")
    url = body.get("url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        return error_response("INVALID_REQUEST", "url은 http(s) 주소입니다.")
    return json_response(await deliver(sb, url, kind, p, cid, timestamp=ts, secret=secret))


@router.get("/webhooks")
async def webhooks_sent(sb: V2State = Depends(state)) -> dict:
    with sb.sent_lock:
        return {"webhooks": list(sb.sent)}


@router.post("/faults", response_model=None)
async def add_fault(request: Request, sb: V2State = Depends(state)) -> dict | Response:
    try:
        body = json.loads(await request.body())
        rules = body if isinstance(body, list) else [body]
        made = [Fault(**r) for r in rules]
    except (TypeError, ValueError) as e:
        return error_response("INVALID_REQUEST", f"fault rule: {e}")
    with sb.faults.lock:
        sb.faults.rules.extend(made)
    return {"faults": len(sb.faults.rules)}


@router.get("/faults")
async def list_faults(sb: V2State = Depends(state)) -> dict:
    with sb.faults.lock:
        return {"faults": [dict(vars(r), active=True) for r in sb.faults.rules]
                + [dict(vars(r), active=False) for r in sb.faults.spent]}


@router.delete("/faults")
async def clear_faults(sb: V2State = Depends(state)) -> dict:
    with sb.faults.lock:
        sb.faults.rules.clear()
        sb.faults.spent.clear()
    return {"faults": 0}


@router.get("/requests")
async def requests_seen(path_prefix: str = "/", method: str | None = None, sb: V2State = Depends(state)) -> dict:
    with sb.log.lock:
        return {"requests": [e for e in sb.log.entries if e["path"].startswith(path_prefix)
                             and (method is None or e["method"] == method.upper())]}


@router.delete("/requests")
async def clear_requests(sb: V2State = Depends(state)) -> dict:
    with sb.log.lock:
        sb.log.entries.clear()
    return {"requests": 0}


def plan_of(cfg, body: dict | None = None) -> SeedPlan:
    body = body or {}
    anchor = body.get("anchor", cfg.anchor)
    plan = SeedPlan(seed=int(body.get("seed", cfg.seed)), payments=int(body.get("payments", cfg.payments)),
                    anchor=None if anchor is None else int(anchor), store_id=cfg.store_id,
                    async_cancel_pgs=cfg.async_cancel_pgs)
    if not 0 <= plan.payments <= 100_000 or not 0 <= (plan.anchor or 0) <= 10**10:
        raise ValueError("payments or anchor out of range")
    return plan


@router.post("/reset", response_model=None)
async def reset(request: Request, sb: V2State = Depends(state)) -> dict | Response:
    """Back to the seed (optionally another ``seed`` / ``payments`` / ``anchor``); faults, log and webhooks cleared."""
    try:
        plan = plan_of(sb.cfg, await request_body(request))
    except (TypeError, ValueError):
        return error_response("INVALID_REQUEST", "seed, payments는 정수, anchor는 UNIX 초입니다.")
    pays, events = generate(plan)
    n = sb.store.reset(pays, events, {"seed": plan.seed, "payments": plan.payments, "anchor": plan.anchor})
    with sb.faults.lock:
        sb.faults.rules.clear()
        sb.faults.spent.clear()
    with sb.log.lock:
        sb.log.entries.clear()
    with sb.sent_lock:
        sb.sent.clear()
    return {"payments": n, "events": len(events), "seed": plan.seed}


@router.get("/stats")
async def stats(sb: V2State = Depends(state)) -> dict:
    counts: dict[str, int] = {}
    for p in sb.store.all():
        key = f"{p['_method']}/{p['status']}"
        counts[key] = counts.get(key, 0) + 1
    with sb.store.lock:
        n_events = len(sb.store.events)
    return {"by_method_status": dict(sorted(counts.items())), "events": n_events}
