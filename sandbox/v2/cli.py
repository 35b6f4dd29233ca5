"""``python -m sandbox --api v2 [--port 8788] [--secret S] [--store-id ID] [--webhook-secret whsec_…] ...``"""

from __future__ import annotations

import argparse
import os

import uvicorn

from .app import create_app
from .state import DEFAULT_WEBHOOK_SECRET, Config


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m sandbox --api v2", description="Local PortOne V2 sandbox server")
    ap.add_argument("--api", choices=["v2"], default="v2")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8788)
    ap.add_argument("--secret", default=os.environ.get("SANDBOX_V2_SECRET", "sandbox_v2_secret"),
                    help="the V2 API secret (Authorization: PortOne <secret>)")
    ap.add_argument("--store-id", default=os.environ.get("SANDBOX_V2_STORE_ID", "store-sandbox"))
    ap.add_argument("--webhook-secret", default=os.environ.get("SANDBOX_V2_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET),
                    help="Standard Webhooks secret, whsec_<base64>")
    ap.add_argument("--webhook-url", default=os.environ.get("SANDBOX_V2_WEBHOOK_URL") or None,
                    help="post a signed webhook here on each deposit and cancellation (off by default)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--payments", type=int, default=400, help="payments seeded over the last 90 days")
    ap.add_argument("--anchor", type=int, default=None, help="UNIX time the seed counts back from (default: now)")
    ap.add_argument("--async-cancel-pgs", default="KSNET",
                    help="PgProvider values whose virtual-account refunds stay REQUESTED until a control completes them")
    ap.add_argument("--db", default="sandbox_v2.sqlite3", help="SQLite file (kept across restarts) or :memory:")
    ap.add_argument("--log-level", default="warning")
    a = ap.parse_args(argv)
    cfg = Config(secret=a.secret, store_id=a.store_id, webhook_secret=a.webhook_secret, webhook_url=a.webhook_url,
                 seed=a.seed, payments=a.payments, anchor=a.anchor,
                 async_cancel_pgs=tuple(x.strip() for x in a.async_cancel_pgs.split(",") if x.strip()))
    app = create_app(cfg, a.db)
    print(f"PortOne V2 sandbox on http://{a.host}:{a.port} (db={a.db}, seed={a.seed}, store={a.store_id})", flush=True)
    uvicorn.run(app, host=a.host, port=a.port, log_level=a.log_level, access_log=False, timeout_graceful_shutdown=1)
