"""POST/PUT/DELETE /vbanks, GET /vbanks/holder, GET /banks."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request

from .. import reference as ref
from ..http import ApiRefusal, as_int, envelope, error, raw_envelope, read_params  # noqa: F401
from ..seed import new_payment_skeleton  # noqa: F401
from ..state import SandboxState, authorized, ready_vbank, state
from ..store import SORT_SQL, apply_cancel, holder_for, public  # noqa: F401

NINETY_DAYS = 90 * 86400

router = APIRouter(dependencies=[Depends(authorized)])


@router.post("/vbanks")
async def create_vbank(request: Request, sb: SandboxState = Depends(state)):
    prm = await read_params(request, status=200)
    for f in ("merchant_uid", "amount", "vbank_code", "vbank_due"):
        if prm.get(f) in (None, ""):
            return error(f"{f} 파라미터가 누락되었습니다.", code=1)
    amount = as_int(prm["amount"], "amount", required=True, status=200)
    due = as_int(prm["vbank_due"], "vbank_due", required=True, status=200)
    t = sb.now()
    if amount <= 0:
        return error("amount는 0보다 커야 합니다.", code=1)
    if due <= t:
        return error("vbank_due는 현재 시각 이후여야 합니다.", code=1)
    code = str(prm["vbank_code"])
    if code not in ref.KFTC_BANKS:
        return error(f"지원하지 않는 은행코드입니다: {code}", code=1)
    pg = str(prm.get("pg") or "settle").split(".")[0]
    imp_uid = f"imp_{sb.rng.randint(10**11, 10**12 - 1)}"
    p = new_payment_skeleton(sb.rng, imp_uid, str(prm["merchant_uid"]), pg, "vbank", amount, t)
    p.update(vbank_code=code, vbank_name=ref.KFTC_BANKS[code], vbank_num=str(sb.rng.randint(10**11, 10**14 - 1)),
             vbank_holder=str(prm.get("vbank_holder") or "(주)브이뱅크상점"), vbank_date=due, vbank_issued_at=t,
             name=str(prm.get("name") or p["name"]))
    for f in ("buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "custom_data"):
        if prm.get(f):
            p[f] = str(prm[f])
    p["_updated_at"] = t
    sb.store.put(p)
    return envelope(public(p))


@router.put("/vbanks/{imp_uid}")
async def modify_vbank(imp_uid: str, request: Request, sb: SandboxState = Depends(state)):
    prm = await read_params(request)
    amount = as_int(prm.get("amount"), "amount")
    due = as_int(prm.get("vbank_due"), "vbank_due")
    if amount is None and due is None:
        return error("amount 또는 vbank_due 중 하나는 필요합니다.", status=400, code=1)
    t = sb.now()
    with sb.store.lock:
        p = sb.store.get(imp_uid)
        if p is None:
            return error("존재하지 않는 결제정보입니다.", status=404)
        if p["pay_method"] != "vbank":
            return error("가상계좌 결제건이 아닙니다.", status=400, code=1)
        if p["status"] != "ready":
            return error(f"입금대기 상태의 가상계좌만 수정할 수 있습니다. (status: {p['status']})", status=400, code=1)
        if p["pg_provider"] not in sb.cfg.vbank_update_pgs:
            return error(f"{p['pg_provider']}는 가상계좌 정보 수정을 지원하지 않습니다.", status=400, code=1)
        if amount is not None and amount <= 0:
            return error("amount는 0보다 커야 합니다.", status=400, code=1)
        if due is not None and due <= t:
            return error("vbank_due는 현재 시각 이후여야 합니다.", status=400, code=1)
        if amount is not None:
            p["amount"] = amount
        if due is not None:
            p["vbank_date"] = due
        # The spec's 최종수정시각 moves "결제건 상태변화마다": a changed amount or due date is no status change.
        sb.store.put(p)
    return envelope(public(p))


@router.delete("/vbanks/{imp_uid}")
async def revoke_vbank(imp_uid: str, request: Request, sb: SandboxState = Depends(state)):
    t = sb.now()
    with sb.store.lock:
        p = ready_vbank(sb, imp_uid, "입금대기 상태의 가상계좌만 발급취소할 수 있습니다.")
        p.update(status="cancelled", cancelled_at=t, cancel_reason="가상계좌 발급취소", _updated_at=t)
        sb.store.put(p)
    return envelope(public(p))


@router.get("/vbanks/holder")
async def holder(request: Request, sb: SandboxState = Depends(state)):
    q = request.query_params
    code, num = q.get("bank_code") or "", q.get("bank_num") or ""
    if not code or not num:
        return error("bank_code와 bank_num은 필수입니다.", status=400)
    if code not in ref.KFTC_BANKS:
        return error(f"지원하지 않는 은행코드입니다: {code} (금융결제원 표준코드 3자리)", status=400)
    digits = re.sub(r"\D", "", num)
    if not 6 <= len(digits) <= 20:
        return error("계좌번호 형식이 올바르지 않습니다.", status=400)
    if digits.endswith("0000"):
        return error("예금주 조회에 실패했습니다. 계좌번호를 확인해주세요.", status=404)
    return envelope({"bank_holder": holder_for(code, digits)})


@router.get("/banks")
async def banks(request: Request, sb: SandboxState = Depends(state)):
    return envelope([{"code": c, "name": n} for c, n in ref.KFTC_BANKS.items()])

# ------------------------------------------------------ sandbox-only
