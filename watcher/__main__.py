"""python -m watcher [--once]: tell the team's chat what happened (lib/services/watcher.py), every
``VBANK_WATCH_INTERVAL`` seconds, with the app's settings, client and app database. Webhooks: ``VBANK_WEBHOOK_URL``
(several, separated by spaces or commas); links in messages: ``VBANK_PUBLIC_URL``; the digest: ``VBANK_DIGEST_AT``.

With ``PORTONE_WEBHOOK_PORT`` set it also receives PortOne's webhooks (watcher/webhooks.py, on ``PORTONE_WEBHOOK_HOST``
(127.0.0.1) and ``PORTONE_WEBHOOK_PATH`` (/portone/webhook)): V1 believed by re-reading the payment with the V1
client, V2 verified with ``PORTONE_V2_WEBHOOK_SECRET`` by the SDK when V2 is configured; each accepted webhook has its
payment re-read into the payments mirror at once, and a payment paid without its webhook within
``VBANK_WEBHOOK_MISSING_MIN`` minutes (10) is told. It keeps the payments mirror of each API version it is configured
for (V1; V2 with ``PORTONE_V2_API_URL`` / ``_SECRET``) every pass. Stops cleanly on SIGTERM / Ctrl+C (a pass in
progress finishes, the receiver is shut down)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from lib.db.appdb import AppDb, DatabaseRefused
from lib.db.mirror import Mirror
from lib.domain import i18n
from lib.domain.settings import get_settings
from lib.iamport.client import IamportClient
from lib.iamport.v2.client import PortOneV2Client
from lib.reports.ahead import for_watcher
from lib.services import webhooks
from lib.services.mirror_sync import MirrorSync
from lib.services.watcher import Watcher, config_from_env
from watcher import webhooks as receiver
from watcher.post import post as post_with_deadline

MIRROR_OFF = ("", "off", "none", "0")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m watcher", description=__doc__)
    ap.add_argument("--once", action="store_true", help="one pass, then exit")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s watcher %(levelname)s %(message)s")
    log = logging.getLogger("watcher")
    cfg = config_from_env(dict(os.environ))
    port, path, host = receiver.config_from_env(dict(os.environ))
    if not cfg.targets and port is None:
        log.error("VBANK_WEBHOOK_URL is not set: nothing to tell anyone (and PORTONE_WEBHOOK_PORT is not set: "
                  "no webhook to receive)")
        return 2
    s = get_settings()
    i18n.set_lang(i18n.default_lang())
    try:
        db = AppDb(s.audit_db_url, hmac_key=s.audit_hmac_key.get_secret_value() if s.audit_hmac_key else None)
    except DatabaseRefused as refused:  # a newer or damaged app database: one sentence, nothing changed
        log.error("%s", refused)
        return 2
    def post(url: str, body: dict[str, Any]) -> int:
        """One POST ended by ``VBANK_POST_DEADLINE`` (connect, send and the whole answer); no retry here (the
        watcher retries with backoff, from the sent-log)."""
        return post_with_deadline(url, body, deadline_s=cfg.post_deadline_s)

    client = IamportClient(s)
    v2 = PortOneV2Client(s) if s.v2_enabled else None
    clients: dict[str, Any] = {"v1": client, **({"v2": v2} if v2 is not None else {})}
    # The payments mirror (lib/services/mirror_sync.py) is kept by the watcher when one runs: the lease makes the app
    # instances' own syncers wait while it holds it. One syncer per API version, each under its own lease.
    mirror = Mirror(s.mirror_uri) if s.mirror_uri.strip().lower() not in MIRROR_OFF else None
    syncers = {api: MirrorSync(c, mirror, db.mirror_sync, api=api) for api, c in clients.items()} if mirror is not None else {}

    def received(got: webhooks.Received) -> None:
        """A webhook accepted: its payment re-read into the mirror at once (not waiting for the next pass)."""
        one = syncers.get(got.api)
        if one is not None and one.mirror.exists():
            one.refresh_ids([got.imp_uid])

    server = None
    if port is not None:
        if v2 is not None and s.v2_webhook_secret is None:
            log.warning("PORTONE_V2_WEBHOOK_SECRET is not set: every V2 webhook is refused")
        server = receiver.start(s, db, port=port, path=path, host=host, v1=client, v2=v2, on_received=received)
        webhooks.listening(db, time.time(), cfg.webhook_missing_min)
        log.info("receiving PortOne webhooks on http://%s:%d%s", host, port, path)
    w = Watcher(client, db, cfg, post=post, ahead=for_watcher(s.rules),
                paid_recently=(lambda now: webhooks.recent_paid(clients, now, mirror=mirror)) if server else None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("watching %s every %.0f s for %d webhook(s)", s.mode_label, cfg.interval_s, len(cfg.targets))
    try:
        while True:
            for one in syncers.values():
                try:
                    one.sync()
                except Exception as e:  # noqa: BLE001 - the API or the store is down: the next pass tries again
                    log.warning("payments mirror sync (%s) failed: %s", one.api, type(e).__name__)
            if server is not None:
                webhooks.listening(db, time.time(), cfg.webhook_missing_min)
            if cfg.targets:
                rep = w.run_once()
                log.info("pass: %d events, %d sent, %d to retry", rep.events, rep.sent, rep.failed)
                for e in rep.errors[-3:]:
                    log.warning("%s", e)
            if a.once or stop.wait(cfg.interval_s):
                return 0
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        if v2 is not None:
            v2.close()


if __name__ == "__main__":
    sys.exit(main())
