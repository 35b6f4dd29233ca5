"""A PG settlement report for a date range, written from the sandbox's own state, with a few
deliberate discrepancies so vbank-desk's reconciliation page can be tried with `make run` alone.

Format (like a Korean PG's daily settlement report): Korean headers, thousands separators, dates as
text, a blank line and a total line at the end; CP949 (EUC-KR) by default.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9))
HEADERS = ["거래일자", "구분", "주문번호", "PG거래번호", "결제수단", "거래금액", "수수료", "정산금액", "PG사"]
ISSUANCE_FEE = 300
REMITTANCE_FEE = 300


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, KST).date()


def build_rows(payments: list[dict], d_from: date, d_to: date, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """(file rows, planted discrepancies). Deposits of virtual accounts paid in the range and refunds of
    them registered in the range; then a few rows altered, removed or added (recorded in ``planted``)."""
    rows: list[dict] = []
    for p in sorted(payments, key=lambda x: (x.get("paid_at") or 0, x["imp_uid"])):
        if p.get("pay_method") != "vbank" or not p.get("paid_at"):
            continue
        if d_from <= _day(p["paid_at"]) <= d_to:
            rows.append({"kind": "deposit", "date": _day(p["paid_at"]), "merchant_uid": p["merchant_uid"],
                         "pg_tid": p.get("pg_tid") or "", "pg": p["pg_provider"], "amount": p["amount"],
                         "fee": ISSUANCE_FEE, "imp_uid": p["imp_uid"]})
        for h in p.get("cancel_history") or []:
            if d_from <= _day(h["cancelled_at"]) <= d_to:
                rows.append({"kind": "refund", "date": _day(h["cancelled_at"]), "merchant_uid": p["merchant_uid"],
                             "pg_tid": h.get("pg_tid") or "", "pg": p["pg_provider"], "amount": h["amount"],
                             "fee": REMITTANCE_FEE, "imp_uid": p["imp_uid"]})
    rng = random.Random(seed * 1009 + d_from.toordinal())
    planted: list[dict] = []
    deposits = [r for r in rows if r["kind"] == "deposit"]
    if len(deposits) >= 4:
        a, b, c = rng.sample(deposits, 3)
        a["amount"] -= 1000
        planted.append({"kind": "amount_mismatch", "merchant_uid": a["merchant_uid"], "type": "deposit",
                        "file_amount": a["amount"], "import_amount": a["amount"] + 1000})
        b["fee"] += 100
        planted.append({"kind": "fee_mismatch", "merchant_uid": b["merchant_uid"], "type": "deposit",
                        "file_fee": b["fee"], "expected_fee": b["fee"] - 100})
        rows.remove(c)
        planted.append({"kind": "missing_in_file", "merchant_uid": c["merchant_uid"], "type": "deposit",
                        "import_amount": c["amount"]})
    ghost_day = d_to
    ghost = {"kind": "deposit", "date": ghost_day, "merchant_uid": f"ord_unknown_{rng.randint(100000, 999999)}",
             "pg_tid": f"GHOST{rng.randint(10**8, 10**9)}", "pg": "kcp", "amount": 33000, "fee": ISSUANCE_FEE,
             "imp_uid": ""}
    rows.append(ghost)
    planted.append({"kind": "missing_in_import", "merchant_uid": ghost["merchant_uid"], "type": "deposit",
                    "file_amount": ghost["amount"]})
    rows.sort(key=lambda r: (r["date"], r["kind"], r["merchant_uid"]))
    return rows, planted


def render_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADERS)
    total_amount = total_fee = total_net = 0
    for r in rows:
        sign = 1 if r["kind"] == "deposit" else -1
        net = sign * r["amount"] - r["fee"]
        total_amount += sign * r["amount"]
        total_fee += r["fee"]
        total_net += net
        w.writerow([r["date"].strftime("%Y.%m.%d"), "입금" if r["kind"] == "deposit" else "환불", r["merchant_uid"],
                    r["pg_tid"], "가상계좌", f"{r['amount']:,}", f"{r['fee']:,}", f"{net:,}", r["pg"]])
    w.writerow([])
    w.writerow(["합계", "", "", "", "", f"{total_amount:,}", f"{total_fee:,}", f"{total_net:,}", ""])
    return out.getvalue()


def settlement_file(payments: list[dict], d_from: date, d_to: date, *, seed: int = 7,
                    encoding: str = "cp949") -> tuple[bytes, list[dict]]:
    rows, planted = build_rows(payments, d_from, d_to, seed)
    return render_csv(rows).encode(encoding), planted


def main(argv: list[str]) -> None:
    """python -m sandbox settlement --from 2026-11-01 --to 2026-11-20 [--db data/sandbox.sqlite3] --out FILE"""
    import argparse
    import sqlite3
    ap = argparse.ArgumentParser(prog="python -m sandbox settlement",
                                 description="Write a PG settlement file (CSV) from the sandbox's state, "
                                             "with a few planted discrepancies.")
    ap.add_argument("--from", dest="d_from", required=True, help="first day (YYYY-MM-DD, KST)")
    ap.add_argument("--to", dest="d_to", required=True, help="last day (YYYY-MM-DD, KST)")
    ap.add_argument("--db", default="data/sandbox.sqlite3", help="the sandbox's SQLite file (as in make run)")
    ap.add_argument("--out", required=True, help="file to write")
    ap.add_argument("--encoding", default="cp949", help="cp949 (EUC-KR, like most PG files) or utf-8-sig")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    payments = [json.loads(r[0]) for r in db.execute("SELECT doc FROM payments WHERE pay_method='vbank'")]
    data, planted = settlement_file(payments, date.fromisoformat(a.d_from), date.fromisoformat(a.d_to),
                                    seed=a.seed, encoding=a.encoding)
    with open(a.out, "wb") as f:
        f.write(data)
    with open(a.out + ".planted.json", "w", encoding="utf-8") as f:
        json.dump(planted, f, ensure_ascii=False, indent=2)
    print(f"wrote {a.out} ({len(data):,} bytes) and {a.out}.planted.json: {len(planted)} planted discrepancies")
