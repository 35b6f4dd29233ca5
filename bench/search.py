"""make bench: 결제 찾기 over 100,000 payments (issue 19: a search answers in ≤ 1 s warm).

The payments are the sandbox's seed (its generator, in process), as the API's JSON pages of 1,000. Measured:
  (a) cold: the pages decoded into the listing's columns (lib/iamport/columns.py) and the search frame built from
      them (once per period, then cached for every session; the network is bench.list_pending's)
  (b) warm: one search on the cached frame, for each kind of query (median of 5 runs each)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import pyarrow as pa  # noqa: E402

from lib.iamport import columns  # noqa: E402
from lib.iamport.transport import Reply  # noqa: E402
from lib.reports import search  # noqa: E402
from sandbox.seed import SeedPlan, generate  # noqa: E402

PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "100000"))
TARGET_WARM_S = 1.0


def main() -> None:
    rows = [{k: v for k, v in p.items() if not k.startswith("_")} for p in generate(SeedPlan(seed=7, payments=PAYMENTS))]
    pages = [orjson.dumps({"code": 0, "message": None, "response": {"total": len(rows), "previous": 0, "next": 0,
                                                                     "list": rows[i:i + 1000]}})
             for i in range(0, len(rows), 1000)]
    t0 = time.perf_counter()
    table = pa.concat_tables([columns.decode_page(Reply(200, "OK", b), "/payments/status/all",
                                                  tuple(search.COLUMNS))[1] for b in pages])
    df = search.frame(table)
    cold = time.perf_counter() - t0
    some = rows[len(rows) // 2]
    queries = {"phone": "+82 " + some["buyer_tel"][1:].replace("-", " "), "last4": some["buyer_tel"][-4:],
               "name": some["buyer_name"][:2], "email": some["buyer_email"].upper(), "order": some["merchant_uid"],
               "amount": f"₩{some['amount']:,}", "imp_uid": some["imp_uid"]}
    warm = {}
    for kind, text in queries.items():
        q = search.parse(text)
        times = []
        for _i in range(5):
            t0 = time.perf_counter()
            found, n = search.search(df, q)
            times.append(time.perf_counter() - t0)
        assert n >= 1, (kind, text)
        warm[kind] = statistics.median(times)
    worst = max(warm.values())
    print(f"bench search  payments={PAYMENTS:,} frame_cold_s={cold:.3f} "
          + " ".join(f"{k}_s={v:.4f}" for k, v in warm.items()), flush=True)
    print("targets " + f"search_warm_s<={TARGET_WARM_S}:{'ok' if worst <= TARGET_WARM_S else 'MISSED'}")


if __name__ == "__main__":
    main()
