"""Sandbox-only fault injection and the request log, as pure ASGI middleware in front of the API."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from .http import error, gateway_page


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


