"""Sandbox-only controls under /sandbox/ (no token): deposits, faults, reset, the request log, refunds, settlement."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..faults import Fault
from ..http import ApiRefusal, as_int, envelope, error, raw_envelope, read_params  # noqa: F401
from ..seed import SeedPlan, generate
from ..state import SandboxState, ready_vbank, state
from ..store import SORT_SQL, apply_cancel, holder_for, public  # noqa: F401

NINETY_DAYS = 90 * 86400

router = APIRouter()


@router.get("/sandbox/health")
async def health(sb: SandboxState = Depends(state)):
    return {"ok": True}


@router.post("/sandbox/vbanks/{imp_uid}/deposit")
async def deposit(imp_uid: str, sb: SandboxState = Depends(state)):
    t = sb.now()
    with sb.store.lock:
        p = ready_vbank(sb, imp_uid, "입금대기 상태의 가상계좌가 아닙니다.")
        p.update(status="paid", paid_at=t, _updated_at=t)
        sb.store.put(p)
    return envelope(public(p))


@router.post("/sandbox/faults")
async def add_fault(request: Request, sb: SandboxState = Depends(state)):
    body = await request.json()
    rules = body if isinstance(body, list) else [body]
    with sb.faults.lock:
        for r in rules:
            sb.faults.rules.append(Fault(**r))
    return {"faults": len(sb.faults.rules)}


@router.get("/sandbox/faults")
async def list_faults(sb: SandboxState = Depends(state)):
    with sb.faults.lock:
        return {"faults": [dict(vars(r), active=True) for r in sb.faults.rules]
                + [dict(vars(r), active=False) for r in sb.faults.spent]}


@router.delete("/sandbox/faults")
async def clear_faults(sb: SandboxState = Depends(state)):
    with sb.faults.lock:
        sb.faults.rules.clear()
        sb.faults.spent.clear()
    return {"faults": 0}


@router.get("/sandbox/requests")
async def requests_seen(path_prefix: str = "/", method: str | None = None, sb: SandboxState = Depends(state)):
    with sb.log.lock:
        out = [e for e in sb.log.entries if e["path"].startswith(path_prefix)
               and (method is None or e["method"] == method.upper())]
    return {"requests": out}


@router.delete("/sandbox/requests")
async def clear_requests(sb: SandboxState = Depends(state)):
    with sb.log.lock:
        sb.log.entries.clear()
    return {"requests": 0}


@router.get("/sandbox/payments/{imp_uid}/refunds")
async def refunds(imp_uid: str, sb: SandboxState = Depends(state)):
    return {"refunds": sb.store.refunds(imp_uid)}


def _file(request: Request, sb: SandboxState, make, name: str):
    """A generated CSV for ?from=&to= (or, with ?planted=1, its manifest of planted discrepancies)."""
    from datetime import date
    q = request.query_params
    data, planted = make(sb.store.vbank_docs(), date.fromisoformat(q["from"]), date.fromisoformat(q["to"]),
                         seed=int(q.get("seed", sb.cfg.seed)), encoding=q.get("encoding", "cp949"))
    if q.get("planted"):
        return {"planted": planted}
    return Response(data, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-{q["from"]}-{q["to"]}.csv"'})


@router.get("/sandbox/settlement")
async def settlement(request: Request, sb: SandboxState = Depends(state)):
    """The PG settlement file for a date range (as `python -m sandbox settlement` writes it)."""
    from ..settlement import settlement_file
    return _file(request, sb, settlement_file, "settlement")


@router.get("/sandbox/statement")
async def statement(request: Request, sb: SandboxState = Depends(state)):
    """The bank statement of the PG payouts for a date range."""
    from ..settlement import statement_file
    return _file(request, sb, statement_file, "statement")


@router.get("/sandbox/stats")
async def stats(sb: SandboxState = Depends(state)):
    return sb.store.stats()

@router.post("/sandbox/reset")
async def reset(request: Request, sb: SandboxState = Depends(state)):
    raw = await request.body()
    body = json.loads(raw) if raw else {}
    plan = SeedPlan(seed=int(body.get("seed", sb.cfg.seed)), payments=int(body.get("payments", sb.cfg.payments)),
                    anchor=body.get("anchor", sb.cfg.anchor))
    n = sb.store.reset(generate(plan), plan)
    with sb.faults.lock:
        sb.faults.rules.clear()
        sb.faults.spent.clear()
    with sb.log.lock:
        sb.log.entries.clear()
    sb.tokens.clear()
    return {"payments": n, "seed": plan.seed}


@router.post("/sandbox/tokens/expire")
async def expire_tokens(sb: SandboxState = Depends(state)):
    """Make every issued token expired now (tests of 401 re-authentication)."""
    return {"expired": sb.tokens.expire_all(sb.now())}
