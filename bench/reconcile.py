"""``make bench`` (second line): reconcile a generated 1,000,000-row CP949 PG settlement file against 1,000,000
payments, the way the reconciliation page does it (lib/recon.py): read, normalise, build I'mport's events, match.

    bench reconcile rows=1000000 read_s= match_s= total_s= rows_per_s= rss_mb=

Targets: total ≤ 10 s, ≥ 100,000 rows/s, peak memory under 2 GB. The payments are made in-process in the API's
shape (the sandbox would need minutes to seed a million); a few rows are altered so the match has work to do.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.domain.clock import KST
from lib.domain.settings import Rules
from lib.reports.recon import expected
from lib.reports.recon import match
from lib.reports.recon import normalize
from lib.reports.recon import read

ROWS = int(os.environ.get("BENCH_RECON_ROWS", "1000000"))
PGS = np.array(["html5_inicis", "kcp", "tosspayments", "nice", "kicc", "settle", "smartro_v2", "daou"])


def make(n: int) -> tuple[list[dict], bytes]:
    rng = np.random.default_rng(7)
    d_to = date(2026, 11, 20)
    start = int(datetime.combine(d_to - timedelta(days=29), datetime.min.time(), KST).timestamp())
    paid_at = start + rng.integers(0, 30 * 86400, n)
    amount = rng.choice([9900, 10000, 12000, 25000, 49000, 99000, 120000, 330000], n)
    pg = PGS[rng.integers(0, len(PGS), n)]
    ids = np.arange(n)
    payments = [{"imp_uid": f"imp_{i:012d}", "merchant_uid": f"ord_{i:09d}", "pay_method": "vbank", "pg_provider": p,
                 "paid_at": int(t), "amount": int(a), "pg_tid": f"T{i:010d}", "cancel_history": []}
                for i, p, t, a in zip(ids.tolist(), pg.tolist(), paid_at.tolist(), amount.tolist())]
    day = pd.to_datetime(paid_at + 9 * 3600, unit="s").strftime("%Y.%m.%d")
    file_amount = amount.copy()
    file_amount[::1000] -= 1000                           # 0.1% amount mismatches
    df = pd.DataFrame({"거래일자": day, "구분": "입금", "주문번호": [f"ord_{i:09d}" for i in ids],
                       "PG거래번호": [f"T{i:010d}" for i in ids], "결제수단": "가상계좌",
                       "거래금액": [f"{a:,}" for a in file_amount.tolist()], "수수료": "300", "수수료부가세": "30",
                       "PG사": pg})
    return payments, df.to_csv(index=False).encode("cp949")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    payments, data = make(ROWS)
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    raw = read.read_file(data, "settlement.csv").df
    t1 = time.perf_counter()
    rows = normalize.normalize(raw, read.guess_map(list(raw.columns)))
    d_from, d_to = normalize.file_range(rows)
    ev = expected.events(payments, d_from, d_to, Rules())
    m = match.match(rows, ev)
    t2 = time.perf_counter()
    read_s, match_s, total_s = t1 - t0, t2 - t1, t2 - t0
    assert len(rows) == ROWS and len(m.mismatched) == len(range(0, ROWS, 1000)) and m.file_only.empty, m.summary()
    rss = rss_mb()
    print(f"bench reconcile rows={ROWS} read_s={read_s:.2f} match_s={match_s:.2f} total_s={total_s:.2f} "
          f"rows_per_s={ROWS / total_s:,.0f} rss_mb={rss:.0f} (before {before:.0f}) file_mb={len(data) / 1e6:.0f}",
          flush=True)
    ok = {"total_s<=10": total_s <= 10, "rows_per_s>=100000": ROWS / total_s >= 100_000, "rss_mb<2048": rss < 2048}
    print("targets " + " ".join(f"{k}:{'ok' if v else 'MISSED'}" for k, v in ok.items()), flush=True)


if __name__ == "__main__":
    main()
