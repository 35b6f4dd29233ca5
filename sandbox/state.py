"""What every route needs, injected once: the store, the configuration, the token registry, the faults and the
request log (``request.app.state.sb``), and the API's authorization as a dependency."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from fastapi import Request

from .faults import Faults, RequestLog
from .http import ApiRefusal
from .store import Store
from .tokens import TokenRegistry


@dataclass
class SandboxState:
    store: Store
    cfg: object
    tokens: TokenRegistry
    faults: Faults
    log: RequestLog
    rng: random.Random

    @staticmethod
    def now() -> int:
        return int(time.time())


def state(request: Request) -> SandboxState:
    return request.app.state.sb


def authorized(request: Request) -> None:
    """The API's own check: a live access token in ``Authorization`` (or ``X-ImpTokenHeader``), else HTTP 401."""
    token = request.headers.get("authorization") or request.headers.get("x-imptokenheader") or ""
    if token.lower().startswith("bearer "):
        token = token[7:]
    why = state(request).tokens.check(token.strip(), SandboxState.now())
    if why:
        raise ApiRefusal(why, status=401, code=-1)


def ready_vbank(sb: "SandboxState", imp_uid: str, not_ready: str) -> dict:
    """The payment if it is a virtual account waiting for its deposit (call with the store's lock held); else the
    API's refusal: 404 for an unknown imp_uid, 400 with ``not_ready`` otherwise."""
    p = sb.store.get(imp_uid)
    if p is None:
        raise ApiRefusal("존재하지 않는 결제정보입니다.", status=404, code=-1)
    if p["pay_method"] != "vbank" or p["status"] != "ready":
        raise ApiRefusal(not_ready, status=400, code=1)
    return p
