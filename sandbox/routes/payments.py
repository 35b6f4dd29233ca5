"""GET /payments/status, /payments, /payments/find, /payments/{imp_uid}."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..http import ApiRefusal, as_int, envelope, error, raw_envelope, read_params  # noqa: F401
from ..seed import new_payment_skeleton  # noqa: F401
from ..state import SandboxState, authorized, state
from ..store import SORT_SQL, apply_cancel, holder_for, public  # noqa: F401

NINETY_DAYS = 90 * 86400

router = APIRouter(dependencies=[Depends(authorized)])


@router.get("/payments/status/{payment_status}")
async def by_status(payment_status: str, request: Request, sb: SandboxState = Depends(state)):
    q = request.query_params
    if payment_status not in ("all", "ready", "paid", "cancelled", "failed"):
        return error(f"지원하지 않는 결제상태입니다: {payment_status}", status=400)
    page = as_int(q.get("page"), "page") or 1
    limit = as_int(q.get("limit"), "limit")
    limit = 20 if limit is None else limit
    if not 1 <= page <= 10**6:
        return error("page는 1 이상 1,000,000 이하여야 합니다.", status=400)
    if not 1 <= limit <= 1000:
        return error("limit은 1 이상 1000 이하여야 합니다.", status=400)
    t_to = as_int(q.get("to"), "to")
    t_to = sb.now() if t_to is None else t_to
    t_from = as_int(q.get("from"), "from")
    t_from = t_to - NINETY_DAYS if t_from is None else t_from
    if t_from > t_to:
        return error("from은 to보다 클 수 없습니다.", status=400)
    if t_to - t_from > NINETY_DAYS:
        return error("검색기간은 최대 90일까지 가능합니다.", status=400)
    sorting = q.get("sorting") or "-started"
    if sorting not in SORT_SQL:
        return error(f"지원하지 않는 정렬기준입니다: {sorting}", status=400)
    total, docs = sb.store.page(payment_status, t_from, t_to, sorting, page, limit)
    nxt = page + 1 if page * limit < total else 0
    head = f'{{"code":0,"message":null,"response":{{"total":{total},"previous":{page - 1},"next":{nxt},"list":['
    return Response(head.encode() + b",".join(docs) + b"]}}", media_type="application/json")


@router.get("/payments")
async def multiple(request: Request, sb: SandboxState = Depends(state)):
    imp_uids = request.query_params.getlist("imp_uid[]")
    merchant_uids = request.query_params.getlist("merchant_uid[]")
    asked = len(imp_uids) + len(merchant_uids)
    if asked == 0:
        return error("imp_uid[] 또는 merchant_uid[] 파라미터가 필요합니다.", code=1)
    if asked > 100:
        return error("한 번에 최대 100건까지 조회할 수 있습니다.", code=1)
    found = sb.store.get_docs(imp_uids)
    found_m = sb.store.get_docs_by_merchant(merchant_uids)
    found_ids = {json.loads(d)["imp_uid"] for d in found}
    docs = found + [d for d in found_m if json.loads(d)["imp_uid"] not in found_ids]
    missing = len(set(imp_uids)) - len(found)
    missing_m = len({m for m in merchant_uids} - {json.loads(d)["merchant_uid"] for d in found_m})
    if not docs:
        return error("존재하지 않는 결제정보입니다.", status=404)
    body = "[" + ",".join(docs) + "]"
    return raw_envelope(body, status=207 if (missing or missing_m) else 200)


@router.get("/payments/find/{merchant_uid}")
@router.get("/payments/find/{merchant_uid}/{payment_status}")
async def find(merchant_uid: str, request: Request, payment_status: str | None = None, sb: SandboxState = Depends(state)):
    if payment_status and payment_status not in ("ready", "paid", "cancelled", "failed"):
        return error(f"지원하지 않는 결제상태입니다: {payment_status}", status=404)
    sorting = request.query_params.get("sorting") or "-started"
    p = sb.store.find_by_merchant(merchant_uid, payment_status, sorting)
    if p is None:
        return error("존재하지 않는 결제정보입니다.", status=404)
    return envelope(public(p))


@router.get("/payments/{imp_uid}")
async def get_one(imp_uid: str, request: Request, sb: SandboxState = Depends(state)):
    p = sb.store.get(imp_uid)
    if p is None:
        return error("존재하지 않는 결제정보입니다.", status=404)
    return envelope(public(p))
