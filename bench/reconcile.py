"""``make bench`` (second part): the month end from the payments mirror (issue 33) and from the API's JSON.

    sync_full  every page of the period (1,001 pages of 1,000 payments, every field) decoded in one DuckDB call into
               the mirror's columns, then written to a Delta table (lib/db/mirror.py) — median of 5
    month_end source=mirror   the file read, its days found, the period's payments read from the mirror, events,
               understand, normalize, match: median of 5 runs, each in a fresh process, its result checked equal
               (counts and sums) to the month end from the JSON pages below

The month end from the JSON pages (the reference), as before: a month end of 1,000,000 virtual-account payments reconciled against a 1,000,000-row
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
import shutil
import statistics
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
                out.write(body + b"\n")                 # one page a line: the sync reads them in one call
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
    from lib.domain.i18n import _
    from lib.domain.settings import Rules
    from lib.iamport.listing import Listing
    from lib.iamport.transport import Reply
    from lib.reports.columnar import give_back_freed_memory
    from lib.reports.recon import expected, match, normalize, read, reading, understand
    from lib.reports.recon.grid import LIMITS

    give_back_freed_memory()                                  # as app.py does
    _("Day of each row")                     # the running app has its message catalog loaded (0.1 s, once a process)
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
           "events_cpu": events_c, "match_cpu": match_c, "total_cpu": cpu[-1] - cpu[0], "summary": summary(m)}
    if os.environ.get("BENCH_ENGINES", "1") == "1" and n <= 1_000_000:
        out.update(engines(rows, ev, m))
        out.update(json_floor(fd, index))
    return out


def summary(m: Any) -> dict[str, int]:
    """What a month end found, in numbers two runs must agree on (the JSON path and the mirror's)."""
    mm = m.mismatched
    return {"matched": m.matched_count(), "matched_amount": sum(a for _p, _n, a in m.matched_by_pg()),
            "matched_pgs": len(m.matched_by_pg()), "mismatched": len(mm),
            "mismatched_file_amount": int(mm["file_amount"].sum()) if len(mm) else 0,
            "mismatched_diff": int(mm["amount_diff"].sum()) if len(mm) else 0,
            "file_only": len(m.file_only), "import_only": len(m.import_only)}


# ------------------------------------------------------------------ the mirror (issue 33)
_DUCK = {"s": "VARCHAR", "i": "BIGINT", "n": "BIGINT", "b": "BOOLEAN"}


def decode_pages(path: Path, fields: tuple[str, ...]) -> Any:
    """Every page of the file (one page a line) decoded in one DuckDB call with explicit columns: the payments of
    the pages whose envelope says code 0, as an Arrow table of the listing's schema (lib/domain/payment_table.py)."""
    import duckdb

    from lib.domain import payment_table as pt
    cancel = "STRUCT(" + ", ".join(f'"{k}" {_DUCK[v]}' for k, v in pt.CANCEL_FIELDS.items()) + ")[]"
    want = pt.with_id(fields)
    row = "STRUCT(" + ", ".join(f'"{f}" {cancel if f == "cancel_history" else _DUCK[pt.KINDS[f]]}' for f in want) + ")"
    cols = "{'code': 'BIGINT', 'response': 'STRUCT(total BIGINT, list " + row + "[])'}"
    con = duckdb.connect()
    sel = ", ".join(f'p."{f}"' for f in want)
    table = con.sql(f"select {sel} from (select unnest(response.list) as p from read_ndjson('{path}', "
                    f"columns={cols}, maximum_object_size=67108864) where code = 0)").to_arrow_table()
    con.close()
    return table.cast(pt.schema(fields))


def write_mirror(uri: str, payments: Any) -> None:
    """The payments into the app's mirror (lib/db/mirror.py), as a full sync's first merge writes them."""
    from lib.db.mirror import Mirror
    Mirror(uri).merge(payments, api="v1", now=1_790_000_000)


def read_mirror(uri: str, fields: tuple[str, ...], t_from: int, t_to: int) -> Any:
    """The payments started in [t_from, t_to] as the mirror gives them: the period's listing."""
    from lib.db.mirror import Mirror
    return Mirror(uri).read(fields, t_from=t_from, t_to=t_to, time_field="started_at")


def sync_child(folder: Path, facts: dict[str, Any]) -> dict[str, float]:
    """A full sync in this (fresh) process: every page → the mirror's columns (timed: the decoding), then written
    (timed apart: the Delta commit). The recon's own fields alone are decoded too, for scale."""
    from lib.domain import payment_table
    from lib.reports.recon import expected
    t0, c0 = time.perf_counter(), time.process_time()
    table = decode_pages(folder / "pages.bin", payment_table.ALL)
    t1, c1 = time.perf_counter(), time.process_time()
    assert table.num_rows == facts["payments"], table.num_rows
    write_mirror(str(folder / "mirror"), table)
    t2, c2 = time.perf_counter(), time.process_time()
    del table
    t3, c3 = time.perf_counter(), time.process_time()
    few = decode_pages(folder / "pages.bin", expected.FIELDS)
    t4, c4 = time.perf_counter(), time.process_time()
    assert few.num_rows == facts["payments"]
    return {"decode_s": t1 - t0, "decode_cpu": c1 - c0, "write_s": t2 - t1, "write_cpu": c2 - c1,
            "fields_s": t4 - t3, "fields_cpu": c4 - c3, "rss_mb": rss_mb()}


def mirror_child(folder: Path, facts: dict[str, Any]) -> dict[str, Any]:
    """The month end from the mirror in this (fresh) process, phase by phase as the page runs it: the file read
    and its days found, the period's payments read from the mirror (instead of a month of API pages), the events,
    the reading calibrated, the rows typed and matched."""
    from lib.domain.i18n import _
    from lib.domain.settings import Rules
    from lib.reports.columnar import give_back_freed_memory
    from lib.reports.recon import expected, match, normalize, read, reading, understand
    from lib.reports.recon.grid import LIMITS

    give_back_freed_memory()
    _("Day of each row")                     # the running app has its message catalog loaded (0.1 s, once a process)
    n = facts["payments"]
    data = (folder / "settlement.csv").read_bytes()
    base = rss_mb()
    limits = replace(LIMITS, max_bytes=max(LIMITS.max_bytes, 2 * len(data)), max_rows=max(LIMITS.max_rows, 2 * n))
    marks = [(time.perf_counter(), time.process_time())]
    ru0 = resource.getrusage(resource.RUSAGE_SELF)

    def lap() -> None:
        marks.append((time.perf_counter(), time.process_time()))
    table = read.read_file(data, "settlement.csv", limits)
    lap()
    d_from, d_to = reading.candidate_range(table.df)
    lap()
    a, b = expected.kst_range(expected.lookback_start(d_from), d_to)
    payments = read_mirror(str(folder / "mirror"), expected.FIELDS, a, b)
    lap()
    ev = expected.events(payments, d_from, d_to, Rules())
    lap()
    r = understand.understand_pg(table.df, ev, Rules())
    assert r.stop is None, r.stop
    lap()
    rows = normalize.normalize(table.df, r.mapping)
    assert normalize.file_range(rows) == (d_from, d_to)
    lap()
    m = match.match(rows, ev)
    lap()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    assert payments.num_rows == n, payments.num_rows
    assert len(rows) == n + facts["refunds"] and len(m.mismatched) == facts["mismatched"], m.summary()
    assert m.file_only.empty and m.import_only.empty, m.summary()
    out: dict[str, Any] = {"rss_mb": rss_mb(), "base_mb": base, "wall_s": marks[-1][0] - marks[0][0],
                           "cpu_s": marks[-1][1] - marks[0][1], "summary": summary(m),
                           "user_s": ru1.ru_utime - ru0.ru_utime, "sys_s": ru1.ru_stime - ru0.ru_stime,
                           "faults_k": (ru1.ru_minflt - ru0.ru_minflt) / 1000}
    for i, p in enumerate(MIRROR_PHASES):
        out[p + "_s"] = marks[i + 1][0] - marks[i][0]
        out[p + "_cpu"] = marks[i + 1][1] - marks[i][1]
    return out


MIRROR_PHASES = ("read", "range", "mirror", "events", "understand", "normalize", "match")


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


def _child(kind: str, tmp: str, facts: dict[str, Any], decay_ms: int | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if decay_ms is not None:             # what-if: freed memory kept this long by polars' allocator (lib/__init__.py)
        env.update(_RJEM_MALLOC_CONF=f"dirty_decay_ms:{decay_ms},muzzy_decay_ms:0")
    out = subprocess.run([sys.executable, __file__, kind, tmp, json.dumps(facts)], capture_output=True, text=True,
                         check=False, env=env)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def run(n: int, repeat: int = 5) -> dict[str, Any]:
    """The files made once; the full sync into the mirror; the month end from the API's JSON once (the reference);
    the month end from the mirror ``repeat`` times, each in a fresh process (medians); their results compared."""
    with tempfile.TemporaryDirectory(prefix="bench-recon-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        facts = make(n, folder)
        print(f"  made {n:,} payments as {facts['json_mb']:,.0f} MB of JSON pages and a {facts['file_mb']:,.0f} MB "
              f"CP949 file in {time.perf_counter() - t0:.0f}s", flush=True)
        syncs = [_child("--sync", tmp, facts)]
        for _i in range(repeat - 1 if n <= 1_000_000 else 0):
            shutil.rmtree(folder / "mirror")
            syncs.append(_child("--sync", tmp, facts))
        sync = {k: _median(syncs, k) for k in syncs[0]}
        print(f"bench sync_full rows={n} wall_s={sync['decode_s']:.2f} cpu_s={sync['decode_cpu']:.2f} (decoding "
              f"{facts['json_mb']:,.0f} MB of pages, every field, one DuckDB call; median of {len(syncs)}) "
              f"write_s={sync['write_s']:.2f} write_cpu_s={sync['write_cpu']:.2f} recon_fields_only_s="
              f"{sync['fields_s']:.2f} recon_fields_only_cpu_s={sync['fields_cpu']:.2f}", flush=True)
        res = _child("--child", tmp, facts) if os.environ.get("BENCH_JSON", "1") == "1" else None
        mirrors = [_child("--mirror", tmp, facts) for _i in range(repeat)]
        kept = [_child("--mirror", tmp, facts, decay_ms=0) for _i in range(3 if n <= 1_000_000 else 0)]
    if res is not None:
        res.update(rows=n, json_mb=facts["json_mb"])
        print_json(n, res, facts)
        for m in mirrors:                     # the fast path cannot be wrong quietly: the same month end as the JSON's
            assert m["summary"] == res["summary"], (m["summary"], res["summary"])
    keys = ("wall_s", "cpu_s", "rss_mb", "base_mb", "user_s", "sys_s", "faults_k") + tuple(f"{p}_{x}" for p in MIRROR_PHASES for x in ("s", "cpu"))
    mirror: dict[str, Any] = {k: _median(mirrors, k) for k in keys}
    mirror.update(rows=n, summary=mirrors[0]["summary"], sync=sync)
    print(f"bench month_end source=mirror rows={n} wall_s={mirror['wall_s']:.2f} cpu_s={mirror['cpu_s']:.2f} "
          f"rss_mb={mirror['rss_mb']:.0f} (median of {repeat}; at start {mirror['base_mb']:.0f}; "
          f"same result as the JSON's: {'checked' if res is not None else 'not run'})", flush=True)
    print(f"bench month_end source=mirror phases rows={n} "
          + " ".join(f"{p}_s={mirror[p + '_s']:.2f}/{mirror[p + '_cpu']:.2f}cpu" for p in MIRROR_PHASES)
          + f" (cpu = user {mirror['user_s']:.2f} + kernel {mirror['sys_s']:.2f}: {mirror['faults_k']:,.0f}k page "
          f"faults: freed memory handed back within 200 ms and taken again)", flush=True)
    if kept:
        print(f"bench month_end source=mirror what-if rows={n} wall_s={_median(kept, 'wall_s'):.2f} cpu_s="
              f"{_median(kept, 'cpu_s'):.2f} rss_mb={_median(kept, 'rss_mb'):.0f} kernel_s={_median(kept, 'sys_s'):.2f} "
              f"(median of {len(kept)}: polars' freed memory handed back at once, as before this session, instead of "
              f"within 200 ms)",
              flush=True)
    return mirror


def print_json(n: int, res: dict[str, Any], facts: dict[str, Any]) -> None:
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


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("--child", "--mirror", "--sync"):
        fn = {"--child": child, "--mirror": mirror_child, "--sync": sync_child}[sys.argv[1]]
        print(json.dumps(fn(Path(sys.argv[2]), json.loads(sys.argv[3]))))
        return
    one = run(ROWS)
    ok = {"month_end_wall_s<=2.5": one["wall_s"] <= 2.5, "month_end_cpu_s<=3": one["cpu_s"] <= 3,
          "month_end_rss_mb<=800": one["rss_mb"] <= 800}
    if SCALE > 1:
        big = run(ROWS * SCALE)
        ratio, cpu_ratio = big["wall_s"] / one["wall_s"], big["cpu_s"] / one["cpu_s"]
        print(f"bench month_end source=mirror scale x{SCALE}: time x{ratio:.2f}, cpu x{cpu_ratio:.2f}, per row "
              f"{big['wall_s'] / big['rows'] * 1e6:.2f} µs vs {one['wall_s'] / one['rows'] * 1e6:.2f} µs, memory per "
              f"row {(big['rss_mb'] - big['base_mb']) / big['rows'] * 1e6:.0f} B vs "
              f"{(one['rss_mb'] - one['base_mb']) / one['rows'] * 1e6:.0f} B", flush=True)
        ok[f"x{SCALE}_time<=x{SCALE}"] = ratio <= SCALE
        ok[f"x{SCALE}_cpu<=x{SCALE}"] = cpu_ratio <= SCALE
    ok["sync_full_decode_cpu_s<=1.7"] = one["sync"]["decode_cpu"] <= 1.7
    print("targets " + " ".join(f"{k}:{'ok' if v else 'MISSED'}" for k, v in ok.items()), flush=True)


if __name__ == "__main__":
    main()
