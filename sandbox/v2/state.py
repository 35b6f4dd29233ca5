"""What every V2 route needs: configuration, store, faults, request log, the webhooks sent."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request

from ..faults import Faults, RequestLog
from .errors import V2Error
from .store import Store

# Standard Webhooks secret: "whsec_" + base64 of the raw key (here: base64 of b"sandbox_v2_webhook_secret").
DEFAULT_WEBHOOK_SECRET = "whsec_c2FuZGJveF92Ml93ZWJob29rX3NlY3JldA=="


@dataclass
class Config:
    secret: str = "sandbox_v2_secret"
    store_id: str = "store-sandbox"
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_url: str | None = None          # where state changes are posted as signed webhooks (off by default)
    seed: int = 7
    payments: int = 400
    anchor: int | None = None
    async_cancel_pgs: tuple[str, ...] = ("KSNET",)


@dataclass
class V2State:
    cfg: Config
    store: Store
    faults: Faults
    log: RequestLog
    sent: list[dict] = field(default_factory=list)          # webhooks sent (newest last), for tests
    sent_lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def now() -> float:
        return time.time()


def state(request: Request) -> V2State:
    return request.app.state.v2


def authorized(request: Request) -> None:
    """``Authorization: PortOne <API secret>``; anything else is V2's 401 UNAUTHORIZED."""
    header = request.headers.get("authorization") or ""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "portone" or not secret.strip():
        raise V2Error("UNAUTHORIZED", "인증 정보가 올바르지 않습니다. (Authorization: PortOne <API Secret>)")
    if secret.strip() != state(request).cfg.secret:
        raise V2Error("UNAUTHORIZED", "API Secret이 올바르지 않습니다.")


async def request_body(request: Request) -> dict:
    """The input: a JSON body, or for a GET the ``requestBody`` query parameter (the API accepts either)."""
    raw = request.query_params.get("requestBody")
    if raw is None:
        raw_bytes = await request.body()
        raw = raw_bytes.decode("utf-8", "replace") if raw_bytes else "{}"
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise V2Error("INVALID_REQUEST", "요청 본문을 JSON으로 해석할 수 없습니다.")
    if not isinstance(data, dict):
        raise V2Error("INVALID_REQUEST", "요청 본문은 JSON 객체여야 합니다.")
    return data


def check_store(sb: V2State, store_id: object) -> None:
    if store_id is not None and store_id != sb.cfg.store_id:
        raise V2Error("FORBIDDEN", "접근 권한이 없는 상점 아이디입니다.")
