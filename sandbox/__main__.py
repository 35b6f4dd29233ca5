"""``python -m sandbox [--host H] [--port P] [--seed S] [--db PATH|:memory:] ...``; ``--api v2``: the V2 sandbox."""

from __future__ import annotations

import argparse
import logging
import os
import time

import uvicorn

from .app import Config, create_app
from .reference import DEFAULT_VBANK_UPDATE_PGS


def main(argv: list[str] | None = None) -> None:
    import sys
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["settlement"]:
        from .settlement import main as settlement_main
        return settlement_main(argv[1:])
    if "--api=v2" in argv or any(a == "--api" and b == "v2" for a, b in zip(argv, argv[1:])):
        from .v2.cli import main as v2_main  # the PortOne V2 sandbox (sandbox/v2/README.md)
        return v2_main(argv)
    ap = argparse.ArgumentParser(prog="python -m sandbox", description="Local I'mport V1 sandbox server")
    ap.add_argument("--api", choices=["v1", "v2"], default="v1", help="v2: the PortOne V2 sandbox (its own options)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8787)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--imp-key", default=os.environ.get("SANDBOX_IMP_KEY", "sandbox_key"))
    ap.add_argument("--imp-secret", default=os.environ.get("SANDBOX_IMP_SECRET", "sandbox_secret"))
    ap.add_argument("--db", default="sandbox.sqlite3", help="SQLite file (kept across restarts) or :memory:")
    ap.add_argument("--payments", type=int, default=3000, help="payments seeded over the last 90 days")
    ap.add_argument("--token-ttl", type=int, default=1800, help="access_token lifetime in seconds")
    ap.add_argument("--vbank-update-pgs", default=",".join(DEFAULT_VBANK_UPDATE_PGS),
                    help="pg_provider codes that accept PUT /vbanks/{imp_uid}")
    ap.add_argument("--anchor", type=int, default=None, help="UNIX time the seed counts back from (default: now)")
    ap.add_argument("--log-level", default="warning")
    a = ap.parse_args(argv)
    cfg = Config(imp_key=a.imp_key, imp_secret=a.imp_secret, token_ttl=a.token_ttl, seed=a.seed,
                 payments=a.payments, vbank_update_pgs=tuple(x for x in a.vbank_update_pgs.split(",") if x),
                 anchor=a.anchor)
    t0 = time.perf_counter()
    app = create_app(cfg, a.db)
    import gc
    gc.collect()
    gc.freeze()      # the seeded state is long-lived: keep it out of every later collection
    logging.getLogger("sandbox").warning("sandbox ready in %.1fs", time.perf_counter() - t0)
    print(f"I'mport sandbox on http://{a.host}:{a.port} (db={a.db}, seed={a.seed})", flush=True)
    # A stop does not wait for a handler the fault controls keep hanging (hang_s): tests stop it at once.
    uvicorn.run(app, host=a.host, port=a.port, log_level=a.log_level, access_log=False, timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
