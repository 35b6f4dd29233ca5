"""``make bench`` (second part): a month end of 1,000,000 virtual-account payments reconciled against a 1,000,000-row
CP949 PG settlement file, from the API's bytes to the match result, the way the reconciliation page does it:

    json       the period's listing (lib/iamport/listing.py ``list_columns``) reading the API's JSON pages, 1,000
               payments a page as the sandbox answers them (every field of the payment, ~1.2 KB each), from disk
               through the listing's own page fetching, decoding and consistency checks
    read       the uploaded file's bytes → table (lib/reports/recon/read.py)
    normalize  the table → typed rows (lib/reports/recon/normalize.py)
    events     I'mport's deposits and refunds with their fees (lib/reports/recon/expected.py)
    match      the rows matched with the events (lib/reports/recon/match.py)

The files are made first (outside the timing), then a fresh process reconciles them and reports each phase and its
own peak RSS, so the making does not count in the memory. A second line runs 5,000,000 rows (BENCH_RECON_SCALE=5) to
show how cost grows. 0.1% of the file's amounts are altered and 0.5% of the payments have a refund in the month, so
the match has work to do; the result is checked.

    bench reconcile rows=… json_s= read_s= understand_s= normalize_s= events_s= match_s= total_s= rss_mb=
    bench reconcile cpu rows=… (the same phases in CPU seconds)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("BENCH_RECON_ROWS", "1000000"))
SCALE = int(os.environ.get("BENCH_RECON_SCALE", "5"))
PGS = ["html5_inicis", "kcp", "tosspayments", "nice", "kicc", "settle", "smartro_v2", "daou"]
D_FROM, D_TO = date(2026, 10, 1), date(2026, 10, 31)
KST_S = 9 * 3600
PAGE = 1000


def make(n: int, folder: Path) -> dict[str, Any]:
    """The API's pages (one file, an index of (from, to, page) → byte range) and the PG's CP949 settlement file."""
    import pandas as pd

    from lib.iamport.listing import split_windows
    from lib.reports.recon.expected import kst_range, lookback_start
    rng = np.random.default_rng(7)
    start = kst_range(D_FROM, D_FROM)[0]
    paid_at = np.sort(start + rng.integers(0, 31 * 86400 - 7200, n))     # refunds an hour later: still October
    started = paid_at - rng.integers(60, 3 * 86400, n)
    order = np.argsort(started, kind="stable")             # the listing asks sorting=started
    amount = rng.choice([9900, 10000, 12000, 25000, 49000, 99000, 120000, 330000], n)
    pg = np.array(PGS)[rng.integers(0, len(PGS), n)]
    refunded = rng.random(n) < 0.005
    names = ["김민수", "이서연", "박지훈", "최유진", "정하늘"]
    a, b = kst_range(lookback_start(D_FROM), D_TO)
    windows = split_windows(a, b)
    index: dict[str, list[int]] = {}
    with open(folder / "pages.bin", "wb") as out:
        for w_from, w_to in windows:
            ids = order[(started[order] >= w_from) & (started[order] <= w_to)]
            total = len(ids)
            for p in range(max(1, -(-total // PAGE))):
                docs = []
                for i in ids[p * PAGE:(p + 1) * PAGE].tolist():
                    t, s, amt, g = int(paid_at[i]), int(started[i]), int(amount[i]), str(pg[i])
                    hist = (f'[{{"pg_tid":"T{i:010d}C1","amount":{amt // 2},"cancelled_at":{t + 3600},'
                            f'"reason":"고객 요청 취소","cancellation_id":"cx_{i}_1","receipt_url":'
                            f'"https://sandbox.receipt.local/imp_{i:012d}/cancel/1"}}]') if refunded[i] else "[]"
                    docs.append(
                        f'{{"imp_uid":"imp_{i:012d}","merchant_uid":"ord_{i:09d}","pay_method":"vbank",'
                        f'"channel":"pc","pg_provider":"{g}","emb_pg_provider":null,"pg_tid":"T{i:010d}",'
                        f'"pg_id":"mid_{g}","escrow":false,"apply_num":null,"bank_code":null,"bank_name":null,'
                        f'"card_code":null,"card_name":null,"card_quota":0,"card_number":null,"card_type":null,'
                        f'"vbank_code":"004","vbank_name":"KB국민은행","vbank_num":"{40000000000 + i}",'
                        f'"vbank_holder":"(주)브이뱅크상점","vbank_date":{s + 7 * 86400},"vbank_issued_at":{s},'
                        f'"name":"정기구독 1개월","amount":{amt},"cancel_amount":{amt // 2 if refunded[i] else 0},'
                        f'"currency":"KRW","buyer_name":"{names[i % 5]}","buyer_email":"buyer{i}@example.com",'
                        f'"buyer_tel":"010-{2000 + i % 8000}-{1000 + i % 9000}","buyer_addr":"서울특별시 강남구 '
                        f'테헤란로 {i % 500}","buyer_postcode":"0{1000 + i % 9000}","custom_data":null,'
                        f'"user_agent":"Mozilla/5.0","status":"paid","started_at":{s},"paid_at":{t},"failed_at":0,'
                        f'"cancelled_at":0,"fail_reason":null,"cancel_reason":null,'
                        f'"receipt_url":"https://sandbox.receipt.local/imp_{i:012d}","cancel_history":{hist},'
                        f'"cancel_receipt_urls":[],"cash_receipt_issued":false,"customer_uid":null,'
                        f'"customer_uid_usage":null}}')
                body = (f'{{"code":0,"message":null,"response":{{"total":{total},"previous":{p},'
                        f'"next":{p + 2 if (p + 1) * PAGE < total else 0},"list":[' + ",".join(docs) + "]}}").encode()
                index[f"{w_from}:{w_to}:{p + 1}"] = [out.tell(), len(body)]
                out.write(body)
    day = pd.to_datetime(paid_at + KST_S, unit="s").strftime("%Y.%m.%d")
    file_amount = amount.copy()
    file_amount[::1000] -= 1000                           # 0.1% amount mismatches
    ids = np.arange(n)
    df = pd.DataFrame({"거래일자": day, "구분": "입금", "주문번호": [f"ord_{i:09d}" for i in ids.tolist()],
                       "PG거래번호": [f"T{i:010d}" for i in ids.tolist()], "결제수단": "가상계좌",
                       "거래금액": [f"{a:,}" for a in file_amount.tolist()], "수수료": "300", "수수료부가세": "30",
                       "PG사": pg})
    refund_rows = pd.DataFrame({"거래일자": pd.to_datetime(paid_at[refunded] + 3600 + KST_S, unit="s").strftime("%Y.%m.%d"),
                                "구분": "취소", "주문번호": [f"ord_{i:09d}" for i in ids[refunded].tolist()],
                                "PG거래번호": [f"T{i:010d}C1" for i in ids[refunded].tolist()], "결제수단": "가상계좌",
                                "거래금액": [f"-{a // 2:,}" for a in amount[refunded].tolist()], "수수료": "300",
                                "수수료부가세": "30", "PG사": pg[refunded]})
    pd.concat([df, refund_rows], ignore_index=True).to_csv(folder / "settlement.csv", index=False, encoding="cp949")
    (folder / "index.json").write_text(json.dumps(index))
    return {"payments": n, "refunds": int(refunded.sum()), "mismatched": len(range(0, n, 1000)),
            "json_mb": (folder / "pages.bin").stat().st_size / 1e6,
            "file_mb": (folder / "settlement.csv").stat().st_size / 1e6}


def rss_mb() -> float:
    """This process's peak RSS (VmHWM: kept per address space, so the parent's size at fork time does not count,
    as ru_maxrss would)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: Path, facts: dict[str, Any]) -> dict[str, float]:
    """One reconciliation in this (fresh) process, phase by phase, as the page runs it."""
    from lib.domain.settings import Rules
    from lib.iamport.listing import Listing
    from lib.iamport.transport import Reply
    from lib.reports.columnar import give_back_freed_memory
    from lib.reports.recon import expected, match, normalize, read, reading, understand
    from lib.reports.recon.grid import LIMITS

    give_back_freed_memory()                                  # as app.py does
    index = {k: tuple(v) for k, v in json.loads((folder / "index.json").read_text()).items()}
    fd = os.open(folder / "pages.bin", os.O_RDONLY)

    class Pages(Listing):
        """The listing's page fetching, decoding and checks over bytes on disk instead of the network."""
        config = SimpleNamespace(concurrency=4)            # the listing reads only this of the client's settings

        def _exchange(self, method, path, *, params=None, json_body=None) -> Reply:
            off, size = index[f"{params['from']}:{params['to']}:{params['page']}"]
            return Reply(200, "OK", os.pread(fd, size, off))

        def _map(self, fn, items):
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(fn, items))

    n = facts["payments"]
    data = (folder / "settlement.csv").read_bytes()           # the upload, as Streamlit holds it
    base = rss_mb()
    t = [time.perf_counter()]
    # The app refuses uploads past 200 MB / 1.2 M rows (lib/reports/recon/grid.py); the 5 M line lifts that to see
    # how cost grows.
    limits = replace(LIMITS, max_bytes=max(LIMITS.max_bytes, 2 * len(data)), max_rows=max(LIMITS.max_rows, 2 * n))
    cpu = [time.process_time()]                              # every thread of the process (this VM's wall swings)

    def lap() -> None:
        t.append(time.perf_counter())
        cpu.append(time.process_time())
    table = read.read_file(data, "settlement.csv", limits)
    lap()
    # As the page runs it: the days the file may cover, I'mport's payments and events for them, the reading
    # calibrated against those events (lib/reports/recon/understand.py), then the typed rows and the match.
    d_from, d_to = reading.candidate_range(table.df)
    a, b = expected.kst_range(expected.lookback_start(d_from), d_to)
    payments = Pages().list_columns("all", a, b, fields=expected.FIELDS)
    lap()
    ev = expected.events(payments, d_from, d_to, Rules())
    lap()
    r = understand.understand_pg(table.df, ev, Rules())
    assert r.stop is None, r.stop
    lap()
    rows = normalize.normalize(table.df, r.mapping)
    assert normalize.file_range(rows) == (d_from, d_to)       # one listing and one set of events serve both
    lap()
    m = match.match(rows, ev)
    lap()
    assert payments.num_rows == n, payments.num_rows
    assert len(rows) == n + facts["refunds"] and len(m.mismatched) == facts["mismatched"], m.summary()
    assert m.file_only.empty and m.import_only.empty, m.summary()
    read_s, json_s, events_s, understand_s, norm_s, match_s = (t[i + 1] - t[i] for i in range(6))
    read_c, json_c, events_c, understand_c, norm_c, match_c = (cpu[i + 1] - cpu[i] for i in range(6))
    out = {"json_s": json_s, "read_s": read_s, "understand_s": understand_s, "normalize_s": norm_s,
           "events_s": events_s, "match_s": match_s, "total_s": t[-1] - t[0], "rss_mb": rss_mb(), "base_mb": base,
           "json_cpu": json_c, "read_cpu": read_c, "understand_cpu": understand_c, "normalize_cpu": norm_c,
           "events_cpu": events_c, "match_cpu": match_c, "total_cpu": cpu[-1] - cpu[0]}
    if os.environ.get("BENCH_ENGINES", "1") == "1" and n <= 1_000_000:
        out.update(engines(rows, ev, m))
        out.update(json_floor(fd, index))
    return out


def json_floor(fd: int, index: dict[str, tuple[int, int]]) -> dict[str, float]:
    """What reading the same pages costs at the least, on one core (the GIL): msgspec only skimming each payment
    (an empty struct per payment: nothing extracted), and msgspec extracting the reconciliation's fields into structs
    without making a column of them (lib/iamport/columns.py's decoder). The listing's json_s is this plus the Arrow
    arrays, the page fetching and the checks."""
    import msgspec

    from lib.domain.payment_table import with_id
    from lib.iamport import columns
    from lib.reports.recon import expected

    class Skim(msgspec.Struct):
        pass

    page = msgspec.defstruct("Page", [("total", int), ("list", list[Skim])])
    skim = msgspec.json.Decoder(msgspec.defstruct("Envelope", [("code", int), ("response", page)]))
    fields = columns._decoder(with_id(expected.FIELDS))
    out = {}
    for name, dec in (("json_skim_s", skim), ("json_fields_s", fields)):
        t0 = time.perf_counter()
        for off, size in index.values():
            dec.decode(os.pread(fd, size, off))
        out[name] = time.perf_counter() - t0
    return out


def engines(rows, ev, result) -> dict[str, float]:
    """The match's engines side by side on the same rows and events (after the peak RSS was taken): the pandas
    engine it replaced (bench/pandas_match.py, same result), and DuckDB doing the heart of it — the 1:1 pairing join
    by key, kind and amount (n-th with n-th) — over the same Arrow columns, for scale."""
    import duckdb
    import pyarrow as pa

    from bench import pandas_match
    t0 = time.perf_counter()
    old = pandas_match.match(rows, ev)
    pandas_s = time.perf_counter() - t0
    assert len(old.matched) == len(result.matched) and len(old.mismatched) == len(result.mismatched)
    f = pa.Table.from_pandas(rows[["merchant_uid", "kind", "amount"]].reset_index(drop=True), preserve_index=False)
    e = pa.Table.from_pandas(ev[["merchant_uid", "kind", "amount"]].reset_index(drop=True), preserve_index=False)
    f = f.append_column("fi", pa.array(range(f.num_rows), pa.int64()))
    e = e.append_column("ei", pa.array(range(e.num_rows), pa.int64()))
    con = duckdb.connect()
    con.register("f", f)
    con.register("e", e)
    t0 = time.perf_counter()
    pairs = con.sql("""
        with a as (select *, row_number() over (partition by merchant_uid, kind, amount order by fi) as n from f),
             b as (select *, row_number() over (partition by merchant_uid, kind, amount order by ei) as n from e)
        select a.fi, b.ei from a join b using (merchant_uid, kind, amount, n)""").to_arrow_table()
    duck_s = time.perf_counter() - t0
    import polars as pl

    from lib.reports.recon import match
    pf, pe = pl.from_arrow(f).rename({"merchant_uid": "key"}), pl.from_arrow(e).rename({"merchant_uid": "key"})
    t0 = time.perf_counter()
    same = match._pair(pf, pe, ["key", "kind", "amount"])
    polars_s = time.perf_counter() - t0
    assert same.height == pairs.num_rows, (same.height, pairs.num_rows)
    return {"match_pandas_s": pandas_s, "pairing_duckdb_s": duck_s, "pairing_polars_s": polars_s,
            "duckdb_pairs": pairs.num_rows}


def run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-recon-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        facts = make(n, folder)
        print(f"  made {n:,} payments as {facts['json_mb']:,.0f} MB of JSON pages and a {facts['file_mb']:,.0f} MB "
              f"CP949 file in {time.perf_counter() - t0:.0f}s", flush=True)
        out = subprocess.run([sys.executable, __file__, "--child", tmp, json.dumps(facts)], capture_output=True,
                             text=True, check=False)
        if out.returncode:
            raise SystemExit(out.stderr[-3000:])
        res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(rows=n, json_mb=facts["json_mb"])
    if "match_pandas_s" in res:
        print(f"bench reconcile engines rows={n} match_polars_s={res['match_s']:.2f} match_pandas_s="
              f"{res['match_pandas_s']:.2f} pairing_only_polars_s={res['pairing_polars_s']:.2f} "
              f"pairing_only_duckdb_s={res['pairing_duckdb_s']:.2f} "
              f"(pairs {res['duckdb_pairs']:,})", flush=True)
    if "json_skim_s" in res:
        print(f"bench reconcile json floor rows={n} skim_only_s={res['json_skim_s']:.2f} "
              f"fields_into_structs_s={res['json_fields_s']:.2f} (one core; the listing's json_s adds the columns, "
              f"the fetching and the checks)", flush=True)
    phases = ("json", "read", "understand", "normalize", "events", "match", "total")
    print(f"bench reconcile rows={n} " + " ".join(f"{p}_s={res[p + '_s']:.2f}" for p in phases)
          + f" rows_per_s={n / res['total_s']:,.0f} rss_mb={res['rss_mb']:.0f} (at start {res['base_mb']:.0f}) "
          f"json_mb={facts['json_mb']:.0f}", flush=True)
    print(f"bench reconcile cpu rows={n} " + " ".join(f"{p}_cpu_s={res[p + '_cpu']:.2f}" for p in phases)
          + " (CPU seconds of every thread; wall time on this VM swings 2-3x)", flush=True)
    return res


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(Path(sys.argv[2]), json.loads(sys.argv[3]))))
        return
    one = run(ROWS)
    ok = {"total_s<=2.5": one["total_s"] <= 2.5, "rss_mb<=1024": one["rss_mb"] <= 1024}
    if SCALE > 1:
        big = run(ROWS * SCALE)
        ratio = big["total_s"] / one["total_s"]
        print(f"bench reconcile scale x{SCALE}: time x{ratio:.2f}, per row {big['total_s'] / big['rows'] * 1e6:.2f} µs "
              f"vs {one['total_s'] / one['rows'] * 1e6:.2f} µs, memory per row "
              f"{(big['rss_mb'] - big['base_mb']) / big['rows'] * 1e6:.0f} B vs "
              f"{(one['rss_mb'] - one['base_mb']) / one['rows'] * 1e6:.0f} B", flush=True)
        ok[f"x{SCALE}_time<=x{SCALE}"] = ratio <= SCALE
    print("targets " + " ".join(f"{k}:{'ok' if v else 'MISSED'}" for k, v in ok.items()), flush=True)


if __name__ == "__main__":
    main()
