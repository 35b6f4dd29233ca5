"""POST /users/getToken."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..http import envelope, error, read_params
from ..state import SandboxState, state

router = APIRouter()


@router.post("/users/getToken")
async def get_token(request: Request, sb: SandboxState = Depends(state)):
    p = await read_params(request)
    if p.get("imp_key") != sb.cfg.imp_key or p.get("imp_secret") != sb.cfg.imp_secret:
        return error("imp_key 또는 imp_secret이 올바르지 않습니다.", status=401)
    t = sb.now()
    tok, exp = sb.tokens.issue(sb.cfg.imp_key, t)
    return envelope({"access_token": tok, "expired_at": exp, "now": t})
