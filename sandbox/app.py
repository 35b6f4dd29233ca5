"""The sandbox's HTTP API: the official V1 paths, parameters, envelope and status codes for what vbank-desk uses,
plus sandbox-only controls under ``/sandbox/``. Assembled here from one router per area (sandbox/routes/); the
API's routers check the token once, as a dependency.

Business errors come back as the live API sends them: an envelope with ``code != 0``, a Korean ``message`` and
``response: null`` (HTTP 200 for cancels; 400/404 where the spec lists them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from fastapi import FastAPI, Request

from . import reference as ref
from .faults import FaultMiddleware, Faults, RequestLog
from .http import ApiRefusal, error, gateway_page  # noqa: F401  (gateway_page: the fault mode's page)
from .routes import auth, cancel, controls, payments, vbanks
from .seed import SeedPlan, generate
from .state import SandboxState
from .store import Store
from .tokens import TokenRegistry


@dataclass
class Config:
    imp_key: str = "sandbox_key"
    imp_secret: str = "sandbox_secret"
    token_ttl: int = 1800
    seed: int = 7
    payments: int = 3000
    vbank_update_pgs: tuple[str, ...] = ref.DEFAULT_VBANK_UPDATE_PGS
    anchor: int | None = None


def create_app(config: Config | None = None, db_path: str = ":memory:") -> FastAPI:
    cfg = config or Config()
    store = Store(db_path)
    if store.is_empty():
        plan = SeedPlan(seed=cfg.seed, payments=cfg.payments, anchor=cfg.anchor)
        store.reset(generate(plan), plan)
    faults, log = Faults(), RequestLog()
    app = FastAPI(title="vbank-desk I'mport sandbox", docs_url="/sandbox/docs", openapi_url="/sandbox/openapi.json")
    app.state.sb = SandboxState(store=store, cfg=cfg, tokens=TokenRegistry(cfg.token_ttl), faults=faults, log=log,
                                rng=random.Random(cfg.seed + 1))

    @app.exception_handler(ApiRefusal)
    async def _refusal(request: Request, exc: ApiRefusal):
        return error(exc.message, status=exc.status, code=exc.code)

    for r in (auth.router, payments.router, cancel.router, vbanks.router, controls.router):
        app.include_router(r)
    app.add_middleware(FaultMiddleware, faults=faults, log=log)
    return app
