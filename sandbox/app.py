"""The sandbox's HTTP API: the official V1 paths, parameters, envelope and
status codes for what vbank-desk uses, plus sandbox-only controls under
``/sandbox/``.

Business errors come back as the live API sends them: an envelope with
``code != 0``, a Korean ``message`` and ``response: null`` (HTTP 200 for
cancels; 400/404 where the spec lists them).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import Response

from . import reference as ref
from .store import SORT_SQL, SeedPlan, Store, apply_cancel, holder_for, new_payment_skeleton, public

NINETY_DAYS = 90 * 86400


@dataclass
class Config:
    imp_key: str = "sandbox_key"
    imp_secret: str = "sandbox_secret"
    token_ttl: int = 1800
    seed: int = 7
    payments: int = 3000
    vbank_update_pgs: tuple[str, ...] = ref.DEFAULT_VBANK_UPDATE_PGS
    anchor: int | None = None


# ------------------------------------------------------------------ envelope
def envelope(response=None, code: int = 0, message: str | None = None, status: int = 200) -> Response:
    body = json.dumps({"code": code, "message": message, "response": response},
                      ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def raw_envelope(response_json: str, status: int = 200) -> Response:
    return Response('{"code":0,"message":null,"response":' + response_json + "}",
                    status_code=status, media_type="application/json")


def error(message: str, status: int = 200, code: int = -1) -> Response:
    return envelope(None, code=code, message=message, status=status)


def gateway_page(status: int) -> Response:
    """What a load balancer in front of the API sends: an HTML page, not the API's envelope."""
    title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable",
             504: "504 Gateway Time-out"}.get(status, f"{status} Error")
    return Response(f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
                    "<hr><center>awselb/2.0</center></body></html>", status_code=status, media_type="text/html")


class ApiRefusal(Exception):
    def __init__(self, message: str, status: int = 200, code: int = 1):
        self.message, self.status, self.code = message, status, code


async def read_params(request: Request, status: int = 400) -> dict:
    """Body as JSON or form data (urlencoded or multipart), as the live API accepts."""
    ctype = request.headers.get("content-type", "")
    raw = await request.body()
    if not raw:
        return {}
    if "application/json" in ctype:
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiRefusal("요청 본문(JSON)을 해석할 수 없습니다.", status=status, code=-1)
        if not isinstance(data, dict):
            raise ApiRefusal("요청 본문은 JSON 객체여야 합니다.", status=status, code=-1)
        return data
    if "multipart/form-data" in ctype:
        form = await request.form()
        return {k: v for k, v in form.items()}
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def as_int(value, name: str, *, required: bool = False, status: int = 400) -> int | None:
    """An integer parameter; a bad one is refused with ``status`` (200 where the spec documents no 400)."""
    if value is None or value == "":
        if required:
            raise ApiRefusal(f"{name} 파라미터가 누락되었습니다.", status=status, code=-1)
        return None
    if isinstance(value, bool):
        raise ApiRefusal(f"{name} 값이 올바르지 않습니다.", status=status, code=-1)
    if isinstance(value, (int, float)):
        if value != value or abs(value) >= 10**15 or float(value) != int(value):
            raise ApiRefusal(f"{name}은(는) 범위 안의 정수여야 합니다.", status=status, code=-1)
        return int(value)
    s = str(value).strip()
    if not re.fullmatch(r"-?\d{1,15}(\.0+)?", s):
        raise ApiRefusal(f"{name} 값이 올바르지 않습니다: {s[:40]}", status=status, code=-1)
    return int(float(s))


# --------------------------------------------------------------------- faults
@dataclass
class Fault:
    path_prefix: str = "/"
    method: str | None = None
    latency_ms: int = 0
    status: int | None = None       # error status returned *instead of* processing (with after="error": after it)
    rate: float = 1.0               # share of matching requests that get `status`
    after: str | None = None        # "timeout" (hang after processing), "drop" (cut the reply) or "error"
                                    # (processed, then `status` with a gateway's HTML page instead of the reply)
    html: bool = False              # a `status` fault answers with a gateway's HTML page, not the envelope
    hang_s: float = 5.0
    times: int | None = None        # apply this many times, then expire
    hits: int = 0                   # how many requests this rule has caught

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method.upper() == method)


class Faults:
    def __init__(self):
        self.rules: list[Fault] = []
        self.spent: list[Fault] = []
        self.rng = random.Random(0)
        self.lock = threading.Lock()

    def take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self.rules.remove(rule)
                            self.spent.append(rule)
                    return rule
        return None


class RequestLog:
    """What reached the sandbox (for tests: "exactly one request was sent")."""

    def __init__(self):
        self.entries: list[dict] = []
        self.lock = threading.Lock()

    def add(self, method: str, path: str, params: dict) -> None:
        with self.lock:
            self.entries.append({"method": method, "path": path, "params": params, "at": time.time()})
            del self.entries[:-5000]


def _loggable(scope, body: bytes) -> dict:
    params: dict = {}
    for k, v in parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True).items():
        params[k] = v if k.endswith("[]") else v[-1]
    ctype = dict(scope.get("headers", [])).get(b"content-type", b"").decode()
    if body:
        try:
            if "json" in ctype:
                data = json.loads(body)
                params.update(data if isinstance(data, dict) else {})
            elif "urlencoded" in ctype:
                params.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        except ValueError:
            params["_unparsed_body"] = True
    params.pop("imp_secret", None)
    return params


class FaultMiddleware:
    """Pure ASGI middleware in front of the API: records every request (for
    tests that count what reached the server) and applies faults: latency,
    an error status, and "processed but the reply never arrived" (hang past
    the client's timeout, or a cut reply)."""

    def __init__(self, app, faults: Faults, log: RequestLog):
        self.app, self.faults, self.log = app, faults, log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/sandbox"):
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        body = b"".join(chunks)
        self.log.add(scope["method"], scope["path"], _loggable(scope, body))
        replayed = False

        async def receive():  # noqa: F811 - replay the buffered body to the app
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        rule = self.faults.take(scope["method"], scope["path"])
        if rule is None:
            return await self.app(scope, receive, send)
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.status and rule.after != "error" and self.faults.rng.random() < rule.rate:
            resp = (gateway_page(rule.status) if rule.html
                    else error(f"sandbox fault: HTTP {rule.status}", status=rule.status))
            return await resp(scope, receive, send)
        if rule.after not in ("timeout", "drop", "error"):
            return await self.app(scope, receive, send)
        captured: list[dict] = []

        async def capture(message):
            captured.append(message)

        await self.app(scope, receive, capture)
        if rule.after == "error":          # processed; a gateway in front answers with its own page
            return await gateway_page(rule.status or 502)(scope, receive, send)
        if rule.after == "timeout":
            await asyncio.sleep(rule.hang_s)
            for m in captured:
                await send(m)
            return
        # "drop": promise more bytes than we send; the server closes the connection.
        start = next(m for m in captured if m["type"] == "http.response.start")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", b"100000"))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": b'{"code":0', "more_body": False})


# ----------------------------------------------------------------------- app
def create_app(config: Config | None = None, db_path: str = ":memory:") -> FastAPI:
    cfg = config or Config()
    store = Store(db_path)
    if store.is_empty():
        store.reset(SeedPlan(seed=cfg.seed, payments=cfg.payments, anchor=cfg.anchor))
    faults = Faults()
    log = RequestLog()
    tokens: dict[str, int] = {}       # access_token -> expired_at
    current: dict[str, str] = {}      # imp_key -> access_token
    tok_lock = threading.Lock()
    rng = random.Random(cfg.seed + 1)

    app = FastAPI(title="vbank-desk I'mport sandbox", docs_url="/sandbox/docs", openapi_url="/sandbox/openapi.json")
    app.state.store, app.state.faults, app.state.log, app.state.config = store, faults, log, cfg

    @app.exception_handler(ApiRefusal)
    async def _refusal(request: Request, exc: ApiRefusal):
        return error(exc.message, status=exc.status, code=exc.code)

    def now() -> int:
        return int(time.time())

    def authorize(request: Request) -> None:
        token = request.headers.get("authorization") or request.headers.get("x-imptokenheader") or ""
        if token.lower().startswith("bearer "):
            token = token[7:]
        token = token.strip()
        exp = tokens.get(token)
        if not token or exp is None:
            raise ApiRefusal("Unauthorized", status=401, code=-1)
        if exp <= now():
            raise ApiRefusal("Unauthorized (access_token이 만료되었습니다)", status=401, code=-1)

    # ---------------------------------------------------------------- auth
    @app.post("/users/getToken")
    async def get_token(request: Request):
        p = await read_params(request)
        if p.get("imp_key") != cfg.imp_key or p.get("imp_secret") != cfg.imp_secret:
            return error("imp_key 또는 imp_secret이 올바르지 않습니다.", status=401)
        t = now()
        with tok_lock:
            tok = current.get(cfg.imp_key)
            exp = tokens.get(tok) if tok else None
            if tok and exp and exp > t:
                if exp - t <= 60:            # reused in its last minute: extended by 5 minutes
                    exp += 300
                    tokens[tok] = exp
            else:
                tok, exp = secrets.token_hex(20), t + cfg.token_ttl
                tokens[tok] = exp
                current[cfg.imp_key] = tok
        return envelope({"access_token": tok, "expired_at": exp, "now": t})

    # ------------------------------------------------------------ payments
    @app.get("/payments/status/{payment_status}")
    async def by_status(payment_status: str, request: Request):
        authorize(request)
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
        t_to = now() if t_to is None else t_to
        t_from = as_int(q.get("from"), "from")
        t_from = t_to - NINETY_DAYS if t_from is None else t_from
        if t_from > t_to:
            return error("from은 to보다 클 수 없습니다.", status=400)
        if t_to - t_from > NINETY_DAYS:
            return error("검색기간은 최대 90일까지 가능합니다.", status=400)
        sorting = q.get("sorting") or "-started"
        if sorting not in SORT_SQL:
            return error(f"지원하지 않는 정렬기준입니다: {sorting}", status=400)
        total, docs = store.page(payment_status, t_from, t_to, sorting, page, limit)
        nxt = page + 1 if page * limit < total else 0
        head = f'{{"code":0,"message":null,"response":{{"total":{total},"previous":{page - 1},"next":{nxt},"list":['
        return Response(head.encode() + b",".join(docs) + b"]}}", media_type="application/json")

    @app.get("/payments")
    async def multiple(request: Request):
        authorize(request)
        imp_uids = request.query_params.getlist("imp_uid[]")
        merchant_uids = request.query_params.getlist("merchant_uid[]")
        asked = len(imp_uids) + len(merchant_uids)
        if asked == 0:
            return error("imp_uid[] 또는 merchant_uid[] 파라미터가 필요합니다.", code=1)
        if asked > 100:
            return error("한 번에 최대 100건까지 조회할 수 있습니다.", code=1)
        found = store.get_docs(imp_uids)
        found_m = store.get_docs_by_merchant(merchant_uids)
        found_ids = {json.loads(d)["imp_uid"] for d in found}
        docs = found + [d for d in found_m if json.loads(d)["imp_uid"] not in found_ids]
        missing = len(set(imp_uids)) - len(found)
        missing_m = len({m for m in merchant_uids} - {json.loads(d)["merchant_uid"] for d in found_m})
        if not docs:
            return error("존재하지 않는 결제정보입니다.", status=404)
        body = "[" + ",".join(docs) + "]"
        return raw_envelope(body, status=207 if (missing or missing_m) else 200)

    @app.get("/payments/find/{merchant_uid}")
    @app.get("/payments/find/{merchant_uid}/{payment_status}")
    async def find(merchant_uid: str, request: Request, payment_status: str | None = None):
        authorize(request)
        if payment_status and payment_status not in ("ready", "paid", "cancelled", "failed"):
            return error(f"지원하지 않는 결제상태입니다: {payment_status}", status=404)
        sorting = request.query_params.get("sorting") or "-started"
        p = store.find_by_merchant(merchant_uid, payment_status, sorting)
        if p is None:
            return error("존재하지 않는 결제정보입니다.", status=404)
        return envelope(public(p))

    @app.get("/payments/{imp_uid}")
    async def get_one(imp_uid: str, request: Request):
        authorize(request)
        p = store.get(imp_uid)
        if p is None:
            return error("존재하지 않는 결제정보입니다.", status=404)
        return envelope(public(p))

    @app.post("/payments/cancel")
    async def cancel(request: Request):
        authorize(request)
        prm = await read_params(request, status=200)
        imp_uid, merchant_uid = prm.get("imp_uid"), prm.get("merchant_uid")
        if not imp_uid and not merchant_uid:
            return error("imp_uid 또는 merchant_uid 중 하나는 필수입니다.", code=1)
        amount = as_int(prm.get("amount"), "amount", status=200)
        checksum = as_int(prm.get("checksum"), "checksum", status=200)
        t = now()
        with store.lock:
            p = store.get(imp_uid) if imp_uid else store.find_by_merchant(merchant_uid, None, "-started")
            if p is None:
                return error("취소할 결제건이 존재하지 않습니다.", code=1)
            if p["status"] == "cancelled":
                return error("이미 전액취소된 주문입니다.", code=1)
            if p["status"] != "paid":
                what = "입금 전인 가상계좌" if p["pay_method"] == "vbank" else "결제완료 상태가 아닌 거래"
                return error(f"{what}는 취소할 수 없습니다. (status: {p['status']})", code=1)
            refundable = p["amount"] - p["cancel_amount"]
            if checksum is not None and checksum != refundable:
                return error(f"[Checksum] 취소 가능 잔액이 일치하지 않습니다. "
                             f"(요청 checksum: {checksum}, 취소 가능 잔액: {refundable})", code=1)
            if amount is None or amount == 0:
                amount = refundable
            if amount < 0:
                return error("취소 요청금액은 0보다 커야 합니다.", code=1)
            if amount > refundable:
                return error(f"취소 요청금액({amount})이 취소 가능 잔액({refundable})을 초과합니다.", code=1)
            if p["pay_method"] == "vbank":
                pg = p["pg_provider"]
                if pg in ref.NO_VBANK_REFUND_PGS:
                    return error("다날 가상계좌는 API를 통한 환불을 지원하지 않습니다.", code=1)
                for f in ("refund_holder", "refund_bank", "refund_account"):
                    if not str(prm.get(f) or "").strip():
                        return error(f"가상계좌 환불 시 {f}는 필수입니다.", code=1)
                codes = ref.REFUND_BANK_CODES.get(pg)
                if codes is not None and str(prm["refund_bank"]) not in codes:
                    return error(f"환불 은행코드({prm['refund_bank']})가 {pg}에서 사용할 수 없는 코드입니다.", code=1)
                if not re.fullmatch(r"[0-9-]{6,20}", str(prm["refund_account"])):
                    return error("환불 계좌번호 형식이 올바르지 않습니다.", code=1)
                if pg in ref.REFUND_TEL_REQUIRED_PGS and not str(prm.get("refund_tel") or "").strip():
                    return error("스마트로 가상계좌 환불 시 refund_tel(예금주 연락처)은 필수입니다.", code=1)
            entry = apply_cancel(p, amount, t, str(prm.get("reason") or ""), uuid.uuid4().hex[:12])
            store.put(p)
            if p["pay_method"] == "vbank":
                store.add_refund(p["imp_uid"], entry["cancellation_id"], amount, prm, t)
        return envelope(public(p))

    # -------------------------------------------------------------- vbanks
    @app.post("/vbanks")
    async def create_vbank(request: Request):
        authorize(request)
        prm = await read_params(request, status=200)
        for f in ("merchant_uid", "amount", "vbank_code", "vbank_due"):
            if prm.get(f) in (None, ""):
                return error(f"{f} 파라미터가 누락되었습니다.", code=1)
        amount = as_int(prm["amount"], "amount", required=True, status=200)
        due = as_int(prm["vbank_due"], "vbank_due", required=True, status=200)
        t = now()
        if amount <= 0:
            return error("amount는 0보다 커야 합니다.", code=1)
        if due <= t:
            return error("vbank_due는 현재 시각 이후여야 합니다.", code=1)
        code = str(prm["vbank_code"])
        if code not in ref.KFTC_BANKS:
            return error(f"지원하지 않는 은행코드입니다: {code}", code=1)
        pg = str(prm.get("pg") or "settle").split(".")[0]
        imp_uid = f"imp_{rng.randint(10**11, 10**12 - 1)}"
        p = new_payment_skeleton(rng, imp_uid, str(prm["merchant_uid"]), pg, "vbank", amount, t)
        p.update(vbank_code=code, vbank_name=ref.KFTC_BANKS[code], vbank_num=str(rng.randint(10**11, 10**14 - 1)),
                 vbank_holder=str(prm.get("vbank_holder") or "(주)브이뱅크상점"), vbank_date=due, vbank_issued_at=t,
                 name=str(prm.get("name") or p["name"]))
        for f in ("buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "custom_data"):
            if prm.get(f):
                p[f] = str(prm[f])
        p["_updated_at"] = t
        store.put(p)
        return envelope(public(p))

    @app.put("/vbanks/{imp_uid}")
    async def modify_vbank(imp_uid: str, request: Request):
        authorize(request)
        prm = await read_params(request)
        amount = as_int(prm.get("amount"), "amount")
        due = as_int(prm.get("vbank_due"), "vbank_due")
        if amount is None and due is None:
            return error("amount 또는 vbank_due 중 하나는 필요합니다.", status=400, code=1)
        t = now()
        with store.lock:
            p = store.get(imp_uid)
            if p is None:
                return error("존재하지 않는 결제정보입니다.", status=404)
            if p["pay_method"] != "vbank":
                return error("가상계좌 결제건이 아닙니다.", status=400, code=1)
            if p["status"] != "ready":
                return error(f"입금대기 상태의 가상계좌만 수정할 수 있습니다. (status: {p['status']})", status=400, code=1)
            if p["pg_provider"] not in cfg.vbank_update_pgs:
                return error(f"{p['pg_provider']}는 가상계좌 정보 수정을 지원하지 않습니다.", status=400, code=1)
            if amount is not None and amount <= 0:
                return error("amount는 0보다 커야 합니다.", status=400, code=1)
            if due is not None and due <= t:
                return error("vbank_due는 현재 시각 이후여야 합니다.", status=400, code=1)
            if amount is not None:
                p["amount"] = amount
            if due is not None:
                p["vbank_date"] = due
            p["_updated_at"] = t
            store.put(p)
        return envelope(public(p))

    @app.delete("/vbanks/{imp_uid}")
    async def revoke_vbank(imp_uid: str, request: Request):
        authorize(request)
        t = now()
        with store.lock:
            p = store.get(imp_uid)
            if p is None:
                return error("존재하지 않는 결제정보입니다.", status=404)
            if p["pay_method"] != "vbank" or p["status"] != "ready":
                return error("입금대기 상태의 가상계좌만 발급취소할 수 있습니다.", status=400, code=1)
            p.update(status="cancelled", cancelled_at=t, cancel_reason="가상계좌 발급취소", _updated_at=t)
            store.put(p)
        return envelope(public(p))

    @app.get("/vbanks/holder")
    async def holder(request: Request):
        authorize(request)
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

    @app.get("/banks")
    async def banks(request: Request):
        authorize(request)
        return envelope([{"code": c, "name": n} for c, n in ref.KFTC_BANKS.items()])

    # ------------------------------------------------------ sandbox-only
    @app.get("/sandbox/health")
    async def health():
        return {"ok": True}

    @app.post("/sandbox/vbanks/{imp_uid}/deposit")
    async def deposit(imp_uid: str):
        t = now()
        with store.lock:
            p = store.get(imp_uid)
            if p is None:
                return error("존재하지 않는 결제정보입니다.", status=404)
            if p["pay_method"] != "vbank" or p["status"] != "ready":
                return error("입금대기 상태의 가상계좌가 아닙니다.", status=400, code=1)
            p.update(status="paid", paid_at=t, _updated_at=t)
            store.put(p)
        return envelope(public(p))

    @app.post("/sandbox/faults")
    async def add_fault(request: Request):
        body = await request.json()
        rules = body if isinstance(body, list) else [body]
        with faults.lock:
            for r in rules:
                faults.rules.append(Fault(**r))
        return {"faults": len(faults.rules)}

    @app.get("/sandbox/faults")
    async def list_faults():
        with faults.lock:
            return {"faults": [dict(vars(r), active=True) for r in faults.rules]
                    + [dict(vars(r), active=False) for r in faults.spent]}

    @app.delete("/sandbox/faults")
    async def clear_faults():
        with faults.lock:
            faults.rules.clear()
            faults.spent.clear()
        return {"faults": 0}

    @app.post("/sandbox/reset")
    async def reset(request: Request):
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        plan = SeedPlan(seed=int(body.get("seed", cfg.seed)), payments=int(body.get("payments", cfg.payments)),
                        anchor=body.get("anchor", cfg.anchor))
        n = store.reset(plan)
        with faults.lock:
            faults.rules.clear()
            faults.spent.clear()
        with log.lock:
            log.entries.clear()
        with tok_lock:
            tokens.clear()
            current.clear()
        return {"payments": n, "seed": plan.seed}

    @app.get("/sandbox/requests")
    async def requests_seen(path_prefix: str = "/", method: str | None = None):
        with log.lock:
            out = [e for e in log.entries if e["path"].startswith(path_prefix)
                   and (method is None or e["method"] == method.upper())]
        return {"requests": out}

    @app.delete("/sandbox/requests")
    async def clear_requests():
        with log.lock:
            log.entries.clear()
        return {"requests": 0}

    @app.get("/sandbox/payments/{imp_uid}/refunds")
    async def refunds(imp_uid: str):
        return {"refunds": store.refunds(imp_uid)}

    @app.post("/sandbox/tokens/expire")
    async def expire_tokens():
        """Make every issued token expired now (tests of 401 re-authentication)."""
        with tok_lock:
            for k in tokens:
                tokens[k] = now() - 1
        return {"expired": len(tokens)}

    @app.get("/sandbox/settlement")
    async def settlement(request: Request):
        """The settlement file for a date range (as `python -m sandbox settlement` writes it)."""
        from datetime import date
        from .settlement import settlement_file
        q = request.query_params
        with store.lock:
            docs = [json.loads(r[0]) for r in store.db.execute("SELECT doc FROM payments WHERE pay_method='vbank'")]
        data, planted = settlement_file(docs, date.fromisoformat(q["from"]), date.fromisoformat(q["to"]),
                                        seed=int(q.get("seed", cfg.seed)), encoding=q.get("encoding", "cp949"))
        if q.get("planted"):
            return {"planted": planted}
        return Response(data, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="settlement-{q["from"]}-{q["to"]}.csv"'})

    @app.get("/sandbox/stats")
    async def stats():
        return store.stats()

    app.add_middleware(FaultMiddleware, faults=faults, log=log)
    return app
