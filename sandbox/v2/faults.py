"""Faults and the request log for the V2 API paths (not ``/sandbox/…``), with the V1 sandbox's rules
(sandbox/faults.py ``Fault``): latency, an error status instead of processing (V2's error envelope, or a gateway's
HTML page with ``html``), or processed and then no usable reply (``after``: "timeout" hangs ``hang_s``, "drop" cuts
the reply, "error" answers a gateway page) — for the next ``times`` matching calls."""

from __future__ import annotations

import asyncio

from ..faults import Faults, RequestLog, _loggable
from ..http import gateway_page
from .errors import error_response


class FaultMiddleware:
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

        async def replay():
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        rule = self.faults.take(scope["method"], scope["path"])
        if rule is None:
            return await self.app(scope, replay, send)
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.status and rule.after != "error" and self.faults.rng.random() < rule.rate:
            resp = gateway_page(rule.status) if rule.html else error_response(
                "INTERNAL_SERVER_ERROR" if rule.status >= 500 else "INVALID_REQUEST",
                f"sandbox fault: HTTP {rule.status}", status=rule.status)
            return await resp(scope, replay, send)
        if rule.after not in ("timeout", "drop", "error"):
            return await self.app(scope, replay, send)
        captured: list[dict] = []

        async def capture(message):
            captured.append(message)

        await self.app(scope, replay, capture)
        if rule.after == "error":
            return await gateway_page(rule.status or 502)(scope, replay, send)
        if rule.after == "timeout":
            await asyncio.sleep(rule.hang_s)
            for msg in captured:
                await send(msg)
            return
        start = next(x for x in captured if x["type"] == "http.response.start")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", b"100000"))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": b'{"type":', "more_body": False})
