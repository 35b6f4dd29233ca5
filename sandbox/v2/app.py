"""The V2 sandbox's FastAPI app: the API paths at the root (sandbox/v2/api.py), controls under ``/sandbox/``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from ..faults import Faults, RequestLog
from .api import router as api_router
from .controls import plan_of
from .controls import router as controls_router
from .errors import V2Error, error_response
from .faults import FaultMiddleware
from .seed import generate
from .state import Config, V2State
from .store import Store


def create_app(config: Config | None = None, db_path: str = ":memory:") -> FastAPI:
    cfg = config or Config()
    store = Store(db_path)
    if store.is_empty():
        plan = plan_of(cfg)
        payments, events = generate(plan)
        store.reset(payments, events, {"seed": plan.seed, "payments": plan.payments, "anchor": plan.anchor})
    faults, log = Faults(), RequestLog()
    app = FastAPI(title="vbank-desk PortOne V2 sandbox", docs_url="/sandbox/docs", openapi_url="/sandbox/openapi.json")
    app.state.v2 = V2State(cfg=cfg, store=store, faults=faults, log=log)

    @app.exception_handler(V2Error)
    async def _refusal(request: Request, exc: V2Error):
        return error_response(exc.type, exc.message, exc.status, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_response("INVALID_REQUEST", "요청된 입력 정보가 유효하지 않습니다.")

    app.include_router(controls_router)
    app.include_router(api_router)
    app.add_middleware(FaultMiddleware, faults=faults, log=log)
    return app
