"""V2 webhooks as PortOne sends them: the body ``{"type": "Transaction.Paid", "timestamp": ..., "data": {"storeId",
"paymentId", "transactionId"[, "cancellationId"]}}`` signed by the Standard Webhooks scheme the SDK's verifier
(``portone_server_sdk.webhook.verify``) checks: headers ``webhook-id``, ``webhook-timestamp`` (UNIX seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``), keyed by the webhook secret
``whsec_<base64 key>``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets

import httpx

from . import model as m

TYPES = ("Transaction.Ready", "Transaction.Paid", "Transaction.VirtualAccountIssued", "Transaction.PartialCancelled",
         "Transaction.Cancelled", "Transaction.Failed", "Transaction.PayPending", "Transaction.CancelPending")
NEEDS_CANCELLATION = {"Transaction.PartialCancelled", "Transaction.Cancelled", "Transaction.CancelPending"}


def raw_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_``-prefixed (or bare) base64 secret; ValueError if it is not base64."""
    b64 = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    key = base64.b64decode(b64, validate=True)
    if not key:
        raise ValueError("empty webhook secret")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    mac = hmac.new(raw_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def body_for(kind: str, p: dict, cancellation_id: str | None, at: float) -> str:
    data = {"paymentId": p["id"], "storeId": p["storeId"], "transactionId": p["transactionId"]}
    if kind in NEEDS_CANCELLATION:
        data["cancellationId"] = cancellation_id or ""
    return json.dumps({"type": kind, "timestamp": m.iso(at), "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


def signed(secret: str, body: str, timestamp: int, msg_id: str | None = None) -> dict[str, str]:
    msg_id = msg_id or "msg_" + secrets.token_hex(12)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body), "content-type": "application/json"}


async def post(url: str, body: str, headers: dict[str, str], timeout: float = 10.0) -> dict:
    """Send one webhook; the outcome (status or error) is returned, never raised."""
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            r = await client.post(url, content=body.encode("utf-8"), headers=headers)
        return {"status": r.status_code}
    except httpx.HTTPError as e:
        return {"status": None, "error": type(e).__name__}


async def deliver(sb, url: str | None, kind: str, p: dict, cancellation_id: str | None, *,
                  timestamp: int | None = None, secret: str | None = None) -> dict:
    """Build, sign and (when ``url`` is given) post one webhook; recorded in ``sb.sent``."""
    now = sb.now()
    ts = int(now) if timestamp is None else timestamp
    body = body_for(kind, p, cancellation_id, ts if timestamp is not None else now)
    headers = signed(secret or sb.cfg.webhook_secret, body, ts)
    outcome = await post(url, body, headers) if url else {"status": None, "sent": False}
    record = {"url": url, "type": kind, "paymentId": p["id"], "body": body, "headers": headers, **outcome}
    with sb.sent_lock:
        sb.sent.append(record)
        del sb.sent[:-500]
    return record


_tasks: set[asyncio.Task] = set()


async def notify(sb, kind: str, p: dict, cancellation_id: str | None) -> None:
    """A state change posted to the configured webhook URL (``--webhook-url``) in the background, as PortOne sends
    webhooks apart from the API's answer; nothing when no URL is set."""
    if sb.cfg.webhook_url:
        task = asyncio.create_task(deliver(sb, sb.cfg.webhook_url, kind, p, cancellation_id))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
