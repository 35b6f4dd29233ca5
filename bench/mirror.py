"""make bench: the payments mirror's own targets (issue 33), CPU seconds beside wall (this VM's wall time swings 2–3×).

  (a) a minute's sync with nothing changed, against the real sandbox over loopback (20,000 payments): API calls
      and the CPU the syncer spends (target: ≤ 5 calls, ≤ 50 ms CPU);
  (b) the pending list read cold from a mirror of 1,000,000 payments (a new Mirror, the pending accounts of 90 days
      as the listing's columns, then the list's frame; target ≤ 0.05 s for the read — the "one round trip for
      changes" is (a)'s);
  (c) a search over 365 days of those payments, warm (the frame built once; median of 5 per kind of query;
      target ≤ 50 ms).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402

from lib.db.appdb import AppDb  # noqa: E402
from lib.db.mirror import Mirror  # noqa: E402
from lib.domain import payment_table  # noqa: E402
from lib.reports import pending, search  # noqa: E402

ROWS = int(os.environ.get("BENCH_MIRROR_ROWS", "1000000"))
SYNC_PAYMENTS = 20_000


def timed(fn):  # type: ignore[no-untyped-def]
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def minute_sync(tmp: Path) -> tuple[int, float, float]:
    from devtools.processes import Sandbox
    from lib.domain.settings import load_settings
    from lib.iamport.client import IamportClient
    from lib.services.mirror_sync import MirrorSync
    sb = Sandbox(payments=SYNC_PAYMENTS, seed=11)
    try:
        s = load_settings({"IAMPORT_API_URL": sb.url, "VBANK_SECRETS_FILE": str(tmp / "none.toml")})
        db = AppDb(f"sqlite:///{tmp / 'app.sqlite3'}")
        sync = MirrorSync(IamportClient(s), Mirror(str(tmp / "sync-mirror")), db.mirror_sync, api="v1")
        sync.sync()                         # the first fill
        sync.sync(full=False)               # the overlap's rows seen once
        runs = []
        for _ in range(5):
            sb.clear_requests()
            rep, wall, cpu = timed(lambda: sync.sync(full=False))
            assert rep is not None and rep.merged == 0
            runs.append((len(sb.requests_seen("/payments")), wall, cpu))
        calls = max(r[0] for r in runs)
        return calls, statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)
    finally:
        sb.stop()


def payments_table(n: int, now: int) -> pa.Table:
    from sandbox.seed import SeedPlan, generate
    rows = [{k: v for k, v in p.items() if not k.startswith("_")}
            for p in generate(SeedPlan(seed=7, payments=n, anchor=now))]
    return payment_table.from_dicts(rows)


def write_mirror(uri: str, now: int) -> tuple[float, float]:
    t = payments_table(ROWS, now)
    _m, wall, cpu = timed(lambda: Mirror(uri).merge(t, api="v1", now=now))
    return wall, cpu


def main() -> None:
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="bench-mirror-") as d:
        tmp = Path(d)
        calls, wall, cpu = minute_sync(tmp)
        print(f"bench mirror_minute_sync nothing_changed calls={calls} wall_s={wall:.4f} cpu_s={cpu:.4f}", flush=True)

        uri = str(tmp / "mirror")
        w_wall, w_cpu = write_mirror(uri, now)
        print(f"bench mirror_write rows={ROWS} wall_s={w_wall:.3f} cpu_s={w_cpu:.3f}", flush=True)

        reads, frames = [], []
        for _ in range(5):
            got, r_wall, r_cpu = timed(lambda: Mirror(uri).read(tuple(pending.RAW_COLUMNS), t_from=now - 90 * 86400,
                                                                 t_to=now, status="ready", pay_method="vbank",
                                                                 native=True))
            reads.append((r_wall, r_cpu))
            from lib.domain.clock import now_kst
            _f, f_wall, f_cpu = timed(lambda: pending.build_frame(got, now_kst()))
            frames.append((f_wall, f_cpu))
        rw, rc = statistics.median(r[0] for r in reads), statistics.median(r[1] for r in reads)
        fw, fc = statistics.median(r[0] for r in frames), statistics.median(r[1] for r in frames)
        print(f"bench mirror_pending_cold rows={ROWS} pending={got.num_rows} read_wall_s={rw:.4f} read_cpu_s={rc:.4f} "
              f"frame_wall_s={fw:.4f} frame_cpu_s={fc:.4f}", flush=True)

        year, y_wall, y_cpu = timed(lambda: Mirror(uri).read(tuple(search.COLUMNS), t_from=now - 365 * 86400,
                                                             t_to=now))
        df, b_wall, b_cpu = timed(lambda: search.frame(year))
        print(f"bench mirror_search_cold rows={year.num_rows} read_wall_s={y_wall:.3f} read_cpu_s={y_cpu:.3f} "
              f"frame_wall_s={b_wall:.3f} frame_cpu_s={b_cpu:.3f}", flush=True)
        rows = year.slice(year.num_rows // 2, 1).to_pylist()[0]
        queries = {"phone": rows["buyer_tel"], "last4": rows["buyer_tel"][-4:], "name": rows["buyer_name"][:2],
                   "email": rows["buyer_email"].upper(), "order": rows["merchant_uid"], "amount": f"₩{rows['amount']:,}",
                   "imp_uid": rows["imp_uid"]}
        warm = {}
        for kind, text in queries.items():
            q = search.parse(text)
            assert q is not None
            runs = []
            for _ in range(5):
                (_found, n), s_wall, s_cpu = timed(lambda: search.search(df, q))
                runs.append((s_wall, s_cpu))
            assert n >= 1, (kind, text)
            warm[kind] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        print("bench mirror_search_warm rows=" + f"{year.num_rows} " + " ".join(
            f"{k}_wall_s={w:.4f} {k}_cpu_s={c:.4f}" for k, (w, c) in warm.items()), flush=True)
        worst = max(w for w, _c in warm.values())
        ok = lambda b: "ok" if b else "MISSED"  # noqa: E731
        print(f"targets minute_sync_calls<=5:{ok(calls <= 5)} minute_sync_cpu_s<=0.05:{ok(cpu <= 0.05)} "
              f"pending_cold_read_s<=0.05:{ok(rw <= 0.05)} search_365d_warm_s<=0.05:{ok(worst <= 0.05)}", flush=True)


if __name__ == "__main__":
    main()
