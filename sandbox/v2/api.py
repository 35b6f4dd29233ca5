"""The V2 API paths (api.portone.io) the desk uses, as the official SDK calls them: get, list (page), list by cursor
(payments and payment events), cancel, stop a requested cancellation, close a virtual account. Request bodies,
query parameters, responses and refusals follow the SDK's types and PortOne's OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from . import model as m
from . import queries
from .errors import V2Error, json_response
from .state import V2State, authorized, check_store, request_body, state
from .webhooks import notify

router = APIRouter(dependencies=[Depends(authorized)])


def _payment(sb: V2State, payment_id: str) -> dict:
    p = sb.store.get(payment_id)
    if p is None:
        raise V2Error("PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    return p


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: str, request: Request, sb: V2State = Depends(state)) -> Response:
    check_store(sb, request.query_params.get("storeId"))
    return json_response(m.public(_payment(sb, payment_id)))


@router.get("/payments")
async def get_payments(request: Request, sb: V2State = Depends(state)) -> Response:
    body = await request_body(request)
    return json_response(queries.page(sb.store.all(), body, sb.cfg.store_id, sb.now()))


@router.get("/payments-by-cursor")
async def get_all_payments_by_cursor(request: Request, sb: V2State = Depends(state)) -> Response:
    body = await request_body(request)
    check_store(sb, body.get("storeId"))
    return json_response(queries.payments_by_cursor(sb.store.all(), body, sb.now()))


@router.get("/payment-events-by-cursor")
async def get_all_payment_events_by_cursor(request: Request, sb: V2State = Depends(state)) -> Response:
    body = await request_body(request)
    check_store(sb, body.get("storeId"))
    with sb.store.lock:
        events = list(sb.store.events)
    return json_response(queries.events_by_cursor(events, body, sb.now()))


def _amount(body: dict, name: str, minimum: int = 0) -> int | None:
    v = body.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum or v >= 10**15:
        raise V2Error("INVALID_REQUEST", f"{name}는 {minimum} 이상의 정수여야 합니다.")
    return v


def _refund_account(body: dict, p: dict) -> dict | None:
    acc = body.get("refundAccount")
    if acc is None:
        if p["_method"] == "VIRTUAL_ACCOUNT":
            raise V2Error("INVALID_REQUEST", "가상계좌 결제를 취소하려면 환불 계좌(refundAccount)가 필요합니다.")
        return None
    if not isinstance(acc, dict):
        raise V2Error("INVALID_REQUEST", "refundAccount는 객체여야 합니다.")
    if not isinstance(acc.get("bank"), str) or acc["bank"] not in m.BANKS:
        raise V2Error("INVALID_REQUEST", f"refundAccount.bank가 올바른 은행이 아닙니다: {str(acc.get('bank'))[:30]}")
    number = acc.get("number")
    digits = "".join(ch for ch in number if ch.isdigit()) if isinstance(number, str) else ""
    if not isinstance(number, str) or not 6 <= len(digits) <= 20 or any(c not in "0123456789-" for c in number):
        raise V2Error("INVALID_REQUEST", "refundAccount.number는 숫자(와 -)로 된 계좌번호여야 합니다.")
    if not isinstance(acc.get("holderName"), str) or not acc["holderName"].strip():
        raise V2Error("INVALID_REQUEST", "refundAccount.holderName(예금주)이 필요합니다.")
    if p["channel"]["pgProvider"] == "SMARTRO_V2" and not acc.get("holderPhoneNumber"):
        raise V2Error("INVALID_REQUEST", "스마트로 가상계좌 환불에는 refundAccount.holderPhoneNumber가 필요합니다.")
    return acc


@router.post("/payments/{payment_id}/cancel")
async def cancel_payment(payment_id: str, request: Request, sb: V2State = Depends(state)) -> Response:
    body = await request_body(request)
    check_store(sb, body.get("storeId"))
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise V2Error("INVALID_REQUEST", "취소 사유(reason)가 필요합니다.")
    amount = _amount(body, "amount", 1)
    tax_free = _amount(body, "taxFreeAmount") or 0
    _amount(body, "vatAmount")
    checksum = _amount(body, "currentCancellableAmount")
    now = sb.now()
    with sb.store.lock:
        p = _payment(sb, payment_id)
        if p["status"] == "CANCELLED":
            raise V2Error("PAYMENT_ALREADY_CANCELLED", "이미 취소된 결제 건입니다.")
        if p["status"] not in ("PAID", "PARTIAL_CANCELLED"):
            raise V2Error("PAYMENT_NOT_PAID", "결제가 완료되지 않은 결제 건입니다.")
        _refund_account(body, p)
        left = m.cancellable(p)
        if checksum is not None and checksum != left:
            raise V2Error("CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
                          f"취소 가능 잔액 검증에 실패했습니다. (현재 취소 가능 잔액: {left})")
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            raise V2Error("CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT",
                          f"취소 금액이 취소 가능 금액({left})을 초과합니다.")
        if tax_free > amount:
            raise V2Error("SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT", "면세 금액이 취소 금액을 초과합니다.")
        if tax_free > p["amount"]["taxFree"] - p["amount"]["cancelledTaxFree"]:
            raise V2Error("CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT",
                          "취소 면세 금액이 취소 가능한 면세 금액을 초과합니다.")
        # a virtual account's refund is a bank transfer: with these PGs it stays REQUESTED until the PG reports back
        is_async = p["_method"] == "VIRTUAL_ACCOUNT" and p["channel"]["pgProvider"] in sb.cfg.async_cancel_pgs
        c = m.new_cancellation(p, amount=amount, tax_free=tax_free, reason=reason.strip(), at=now,
                               requested=is_async)
        kind = None if is_async else m.succeed_cancellation(p, c, now)
        sb.store.put(p)
        if kind:
            sb.store.add_event(m.event(p, kind, now, amount, c))
    if not body.get("skipWebhook"):
        hook = "Transaction.CancelPending" if kind is None else (
            "Transaction.Cancelled" if kind == "CANCELLED" else "Transaction.PartialCancelled")
        await notify(sb, hook, p, c["id"])
    return json_response({"cancellation": dict(c)})


@router.post("/payments/{payment_id}/cancellations/{cancellation_id}/stop")
async def stop_payment_cancellation(payment_id: str, cancellation_id: str, request: Request,
                                    sb: V2State = Depends(state)) -> Response:
    body = await request_body(request)
    check_store(sb, body.get("storeId"))
    now = sb.now()
    with sb.store.lock:
        p = _payment(sb, payment_id)
        c = next((c for c in p.get("cancellations", []) if c["id"] == cancellation_id), None)
        if c is None:
            raise V2Error("PAYMENT_CANCELLATION_NOT_FOUND", "결제 취소 내역이 존재하지 않습니다.")
        if c["status"] != "REQUESTED":
            raise V2Error("PAYMENT_CANCELLATION_NOT_PENDING", "결제 취소 내역이 취소 요청 상태가 아닙니다.")
        m.fail_cancellation(p, c, now)
        sb.store.put(p)
    return json_response({"stoppedAt": m.iso(now)})


@router.post("/payments/{payment_id}/virtual-account/close")
async def close_virtual_account(payment_id: str, request: Request, sb: V2State = Depends(state)) -> Response:
    check_store(sb, request.query_params.get("storeId"))
    now = sb.now()
    with sb.store.lock:
        p = _payment(sb, payment_id)
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            raise V2Error("PAYMENT_NOT_WAITING_FOR_DEPOSIT", "결제 건이 입금 대기 상태가 아닙니다.")
        m.close_account(p, now)
        sb.store.put(p)
    # No webhook: V2's Transaction.Cancelled carries a cancellationId, and a close makes no cancellation.
    return json_response({"closedAt": m.iso(now)})
