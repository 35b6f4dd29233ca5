"""The receiver of PortOne's webhooks, for the watcher to mount (a WSGI app on its own small server).

    PORTONE_WEBHOOK_PORT=8790 PORTONE_WEBHOOK_PATH=/portone/webhook python -m watcher.webhooks

One path takes both APIs: a request carrying Standard Webhooks headers (``webhook-signature``) is a V2 webhook,
verified with ``PORTONE_V2_WEBHOOK_SECRET``; anything else is read as a V1 notification, believed only after
re-reading the payment (lib/services/webhooks.py). The body is bounded (``Content-Length`` required, 64 KB at most),
one request is handled at a time, and junk is answered 4xx without a trace: nothing sent here can stop the process.

``start(settings, db, port=…, v1=…, v2=…, path=…, on_received=…)`` runs it in a daemon thread and returns the server
(``shutdown()`` stops it): the watcher (watcher/__main__.py) calls that when ``PORTONE_WEBHOOK_PORT`` is set
(``config_from_env``), with ``on_received`` re-reading each accepted webhook's payment into the payments mirror.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lib.db.appdb import AppDb
from lib.domain.settings import Settings, get_settings
from lib.iamport.client import IamportClient
from lib.iamport.v2.client import PortOneV2Client
from lib.iamport.v2.webhook import MAX_BODY, BadWebhook
from lib.services import webhooks

log = logging.getLogger("watcher.webhooks")
DEFAULT_PATH = "/portone/webhook"
StartResponse = Callable[..., Any]


def _reply(start_response: StartResponse, status: str, doc: dict[str, Any]) -> list[bytes]:
    body = json.dumps(doc, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


OnReceived = Callable[[webhooks.Received], None]


def make_app(settings: Settings, db: AppDb, *, v1: IamportClient | None, v2: PortOneV2Client | None,
             path: str = DEFAULT_PATH, on_received: OnReceived | None = None
             ) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI app: POST ``path`` only. ``on_received`` is called with each webhook accepted (not a duplicate, a
    payment named); a failure there is logged and the webhook still answered 200 (it is recorded)."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return handle(environ, start_response)
        except Exception as e:        # noqa: BLE001 — a bug must not stop the receiver; PortOne retries later
            log.exception("webhook handling failed: %s", type(e).__name__)
            return _reply(start_response, "500 Internal Server Error", {"ok": False})

    def handle(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != path:
            return _reply(start_response, "404 Not Found", {"ok": False})
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, "405 Method Not Allowed", {"ok": False})
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return _reply(start_response, "411 Length Required", {"ok": False})
        if not 0 < length <= MAX_BODY:
            return _reply(start_response, "413 Payload Too Large", {"ok": False})
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            if "webhook-signature" in headers or "webhook-id" in headers:
                if v2 is None:
                    return _reply(start_response, "404 Not Found", {"ok": False, "why": "v2 not configured"})
                got = webhooks.receive_v2(v2, db, settings.v2_webhook_secret, body, headers,
                                          store_id=settings.v2_store_id)
            else:
                if v1 is None:
                    return _reply(start_response, "404 Not Found", {"ok": False, "why": "v1 not configured"})
                got = webhooks.receive_v1(v1, db, body, environ.get("CONTENT_TYPE") or "")
        except BadWebhook as e:
            log.warning("webhook refused: %s", e.reason)
            if e.reason == "UNCONFIRMED":           # the API did not answer the re-read: asked to come again
                return _reply(start_response, "503 Service Unavailable", {"ok": False, "why": e.reason})
            return _reply(start_response, "400 Bad Request", {"ok": False, "why": e.reason})
        if on_received is not None and not got.duplicate and got.imp_uid:
            try:
                on_received(got)
            except Exception as e:    # noqa: BLE001 — the mirror catches up on its next sync
                log.warning("after a webhook (%s): %s", got.api, type(e).__name__)
        return _reply(start_response, "200 OK", {"ok": True, "duplicate": got.duplicate})

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:      # noqa: A002 — the base class's name
        log.info("%s %s", self.address_string(), format % args)


def start(settings: Settings, db: AppDb, *, port: int, v1: IamportClient | None, v2: PortOneV2Client | None,
          path: str = DEFAULT_PATH, host: str = "127.0.0.1", socket_timeout_s: float = 10.0,
          on_received: OnReceived | None = None) -> WSGIServer:
    """Serve the receiver on ``host:port`` in a daemon thread; the server is returned (``shutdown()`` stops it). A
    client given as None turns that API's webhooks away (404). One request at a time, each connection given
    ``socket_timeout_s`` to send its request: a sender that stalls is cut off, not waited for."""
    handler = type("Handler", (_Quiet,), {"timeout": socket_timeout_s})
    server = make_server(host, port, make_app(settings, db, v1=v1, v2=v2, path=path, on_received=on_received),
                         handler_class=handler)
    threading.Thread(target=server.serve_forever, name="portone-webhooks", daemon=True).start()
    return server


def config_from_env(env: dict[str, str]) -> tuple[int | None, str, str]:
    """(port or None: off, path, host) from PORTONE_WEBHOOK_PORT / _PATH / _HOST."""
    port = env.get("PORTONE_WEBHOOK_PORT")
    path = env.get("PORTONE_WEBHOOK_PATH") or DEFAULT_PATH
    return (int(port) if port else None), (path if path.startswith("/") else "/" + path), \
        env.get("PORTONE_WEBHOOK_HOST") or "127.0.0.1"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s webhooks %(levelname)s %(message)s")
    port, path, host = config_from_env(dict(os.environ))
    if port is None:
        log.error("PORTONE_WEBHOOK_PORT is not set")
        return 2
    s = get_settings()
    db = AppDb(s.audit_db_url, hmac_key=s.audit_hmac_key.get_secret_value() if s.audit_hmac_key else None)
    server = start(s, db, port=port, path=path, host=host, v1=IamportClient(s),
                   v2=PortOneV2Client(s) if s.v2_enabled else None)
    log.info("receiving PortOne webhooks on http://%s:%d%s", host, port, path)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
