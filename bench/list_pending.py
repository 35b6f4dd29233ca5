"""make bench: listing pending virtual accounts with 100,000 payments in 90 days, 30 ms latency per request.

Measured in one run:
  (a) cold load of the pending list through lib (new client: token + concurrent pages decoded into columns)
  (b) the naive loop: limit=1000, one page at a time, a new token before every request
      (as the official Python client does)
  (c) the warm rerun of the pending page (AppTest: cache hit, filters, table, charts)
  (d) the app's peak memory (streamlit run + headless Chromium loading the page)
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.processes import Sandbox  # noqa: E402

PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "100000"))
LATENCY_MS = 30
D90 = 90 * 86400


def naive(sb: Sandbox) -> tuple[float, int, int]:
    s = requests.Session()
    t0 = time.perf_counter()
    now = int(time.time())
    page, pages, pending = 1, 0, 0
    while True:
        tok = s.post(sb.url + "/users/getToken", json={"imp_key": "sandbox_key", "imp_secret": "sandbox_secret"}
                     ).json()["response"]["access_token"]
        body = s.get(sb.url + "/payments/status/ready", headers={"Authorization": tok},
                     params={"limit": 1000, "page": page, "from": now - D90, "to": now}).json()["response"]
        pages += 1
        pending += sum(1 for p in body["list"] if p["pay_method"] == "vbank")
        if not body["next"]:
            break
        page = body["next"]
    return time.perf_counter() - t0, pages, pending


def raw_fetch(sb: Sandbox, conc: int) -> float:
    """The cold load's requests alone — a token, the first page, the other pages ``conc`` at a time, each read as
    bytes and dropped — with nothing decoded: what the sandbox and the loopback cost on this machine, the part of
    the cold load no client code can take away."""
    from concurrent.futures import ThreadPoolExecutor
    s = requests.Session()
    t0 = time.perf_counter()
    now = int(time.time())
    tok = s.post(sb.url + "/users/getToken", json={"imp_key": "sandbox_key", "imp_secret": "sandbox_secret"}
                 ).json()["response"]["access_token"]

    def page(p: int) -> bytes:
        return s.get(sb.url + "/payments/status/ready", headers={"Authorization": tok},
                     params={"limit": 1000, "page": p, "from": now - D90, "to": now}).content
    pages = math.ceil(json.loads(page(1))["response"]["total"] / 1000)
    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(page, range(2, pages + 1)))
    return time.perf_counter() - t0


def cold(sb: Sandbox) -> tuple[float, float, int, int]:
    """(seconds to load the pending list through lib, seconds to build the page's frame, rows, concurrency).
    A new client each time: the token request is part of the cold load."""
    from devtools.processes import settings_for
    from lib.domain.clock import now_kst
    from lib.iamport.client import IamportClient
    from lib.reports import pending
    c = IamportClient(settings_for(sb))
    t0 = time.perf_counter()
    now = int(time.time())
    rows = c.list_columns("ready", now - D90, now, fields=tuple(pending.RAW_COLUMNS), pay_method="vbank")
    t1 = time.perf_counter()
    df = pending.build_frame(rows, now_kst())
    return t1 - t0, time.perf_counter() - t1, len(df), c.settings.concurrency


def warm_rerun(sb: Sandbox) -> float:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from lib.domain.settings import get_settings
    tmp = Path(tempfile.mkdtemp())
    os.environ.update(IAMPORT_API_URL=sb.url, AUDIT_DB_URL=f"sqlite:///{tmp / 'a.sqlite3'}",
                      VBANK_SECRETS_FILE=str(tmp / "none"))
    get_settings.cache_clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def app_rss(sb: Sandbox) -> float:
    import psutil
    from playwright.sync_api import sync_playwright

    from devtools.processes import LAUNCH_ARGS, READY, App
    tmp = Path(tempfile.mkdtemp())
    app = App(sb, tmp)
    peak = 0.0
    try:
        proc = psutil.Process(app.proc.pid)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
            for _ in range(2):
                pg = b.new_page()
                pg.set_default_timeout(120_000)
                pg.goto(app.url + "/")
                pg.wait_for_selector(READY)
                pg.locator("[data-testid=stMetricValue]").first.wait_for()
                peak = max(peak, proc.memory_info().rss)
                pg.close()
            b.close()
        peak = max(peak, proc.memory_info().rss)
    finally:
        app.stop()
    return peak / 2**20


def main() -> None:
    t0 = time.perf_counter()
    sb = Sandbox(payments=PAYMENTS, seed=7)
    print(f"sandbox with {PAYMENTS:,} payments ready in {time.perf_counter() - t0:.1f}s", flush=True)
    try:
        sb.fault(path_prefix="/", latency_ms=LATENCY_MS)
        cold(sb)  # one untimed pass warms the sandbox's caches, so (a) and (b) see the same server state
        naives = [naive(sb) for _ in range(3)]
        naive_s = statistics.median(n[0] for n in naives)
        pages, naive_pending = naives[0][1], naives[0][2]
        print(f"bench naive   pages={pages} pending={naive_pending} seconds={naive_s:.3f} "
              f"(runs: {', '.join(f'{n[0]:.3f}' for n in naives)})", flush=True)
        colds = [cold(sb) for _ in range(5)]
        cold_s = statistics.median(c[0] for c in colds)
        frame_s = statistics.median(c[1] for c in colds)
        pending_n, conc = colds[0][2], colds[0][3]
        assert pending_n == naive_pending, (pending_n, naive_pending)
        print(f"bench cold    pages={pages} pending={pending_n} seconds={cold_s:.3f} concurrency={conc} "
              f"(runs: {', '.join(f'{c[0]:.3f}' for c in colds)})", flush=True)
        raw_s = statistics.median(raw_fetch(sb, conc) for _ in range(5))
        print(f"bench raw     the same requests, nothing decoded (the server's and the loopback's own time) "
              f"seconds={raw_s:.3f}", flush=True)
        print(f"bench frame   build the page's DataFrame from {pending_n} rows seconds={frame_s:.3f} "
              f"(cold list + frame = {cold_s + frame_s:.3f})", flush=True)
        warm = warm_rerun(sb)
        print(f"bench warm    page rerun (AppTest, cache hit) seconds={warm:.3f}", flush=True)
        rss = app_rss(sb)
        print(f"bench memory  app peak RSS MB={rss:.0f}", flush=True)
        # The round trips no client can avoid: the token, the first page (it says how many there are), then the
        # other pages, ``conc`` at a time.
        floor = (2 + math.ceil((pages - 1) / conc)) * LATENCY_MS / 1000
        speedup = naive_s / cold_s
        targets = {"speedup>=5": speedup >= 5, "cold<=1.6x_floor": cold_s <= 1.6 * floor, "warm_s<=0.15": warm <= 0.15,
                   "rss_mb<=500": rss <= 500}
        print("targets " + " ".join(f"{k}:{'ok' if v else 'MISSED'}" for k, v in targets.items()))
        print(f"bench list_pending payments={PAYMENTS} pending={pending_n} cold_s={cold_s:.3f} naive_s={naive_s:.3f} "
              f"speedup={speedup:.1f} floor_s={floor:.2f} cold/floor={cold_s / floor:.2f} raw_s={raw_s:.3f} "
              f"raw/floor={raw_s / floor:.2f} frame_s={frame_s:.3f} warm_s={warm:.3f} rss_mb={rss:.0f}")
    finally:
        sb.stop()


if __name__ == "__main__":
    main()
