"""POST /payments/cancel: the rules are sandbox/cancel_rules.py."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from ..cancel_rules import cancel_refusal
from ..http import ApiRefusal, as_int, envelope, error, raw_envelope, read_params  # noqa: F401
from ..state import SandboxState, authorized, state
from ..store import SORT_SQL, apply_cancel, holder_for, public  # noqa: F401

NINETY_DAYS = 90 * 86400

router = APIRouter(dependencies=[Depends(authorized)])


@router.post("/payments/cancel")
async def cancel(request: Request, sb: SandboxState = Depends(state)):
    prm = await read_params(request, status=200)
    imp_uid, merchant_uid = prm.get("imp_uid"), prm.get("merchant_uid")
    if not imp_uid and not merchant_uid:
        return error("imp_uid 또는 merchant_uid 중 하나는 필수입니다.", code=1)
    amount = as_int(prm.get("amount"), "amount", status=200)
    checksum = as_int(prm.get("checksum"), "checksum", status=200)
    t = sb.now()
    with sb.store.lock:
        p = sb.store.get(imp_uid) if imp_uid else sb.store.find_by_merchant(merchant_uid, None, "-started")
        refusal = cancel_refusal(p, prm, amount, checksum)
        if refusal:
            return error(refusal, code=1)
        amount = amount or (p["amount"] - p["cancel_amount"])
        entry = apply_cancel(p, amount, t, str(prm.get("reason") or ""), uuid.uuid4().hex[:12])
        sb.store.put(p)
        if p["pay_method"] == "vbank":
            sb.store.add_refund(p["imp_uid"], entry["cancellation_id"], amount, prm, t)
    return envelope(public(p))
