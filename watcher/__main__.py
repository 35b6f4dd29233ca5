"""python -m watcher [--once]: tell the team's chat what happened (lib/services/watcher.py), every
``VBANK_WATCH_INTERVAL`` seconds, with the app's settings, client and app database. Webhooks: ``VBANK_WEBHOOK_URL``
(several, separated by spaces or commas); links in messages: ``VBANK_PUBLIC_URL``; the digest: ``VBANK_DIGEST_AT``.
Stops cleanly on SIGTERM / Ctrl+C (a pass in progress finishes)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

from lib.db.appdb import AppDb, DatabaseRefused
from lib.db.mirror import Mirror
from lib.domain import i18n
from lib.domain.settings import get_settings
from lib.iamport.client import IamportClient
from lib.reports.ahead import for_watcher
from lib.services.mirror_sync import MirrorSync
from lib.services.watcher import Watcher, config_from_env
from watcher.post import post as post_with_deadline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m watcher", description=__doc__)
    ap.add_argument("--once", action="store_true", help="one pass, then exit")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s watcher %(levelname)s %(message)s")
    log = logging.getLogger("watcher")
    cfg = config_from_env(dict(os.environ))
    if not cfg.targets:
        log.error("VBANK_WEBHOOK_URL is not set: nothing to tell anyone")
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
    w = Watcher(client, db, cfg, post=post, ahead=for_watcher(s.rules))
    # The payments mirror (lib/services/mirror_sync.py) is kept by the watcher when one runs: the lease makes the app
    # instances' own syncers wait while it holds it.
    mirror_sync = (MirrorSync(client, Mirror(s.mirror_uri), db.mirror_sync, api="v1")
                   if s.mirror_uri.strip().lower() not in ("", "off", "none", "0") else None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("watching %s every %.0f s for %d webhook(s)", s.mode_label, cfg.interval_s, len(cfg.targets))
    while True:
        if mirror_sync is not None:
            try:
                mirror_sync.sync()
            except Exception as e:  # noqa: BLE001 - the API or the store is down: the next pass tries again
                log.warning("payments mirror sync failed: %s", type(e).__name__)
        rep = w.run_once()
        log.info("pass: %d events, %d sent, %d to retry", rep.events, rep.sent, rep.failed)
        for e in rep.errors[-3:]:
            log.warning("%s", e)
        if a.once or stop.wait(cfg.interval_s):
            return 0


if __name__ == "__main__":
    sys.exit(main())
