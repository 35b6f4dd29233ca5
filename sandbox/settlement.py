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
HEADERS = ["거래일자", "구분", "주문번호", "PG거래번호", "결제수단", "거래금액", "수수료", "수수료부가세", "정산금액", "PG사"]
ISSUANCE_FEE = 300
REMITTANCE_FEE = 300
FEE_VAT = 30                    # the fees are "VAT 별도": fee/10, rounded
# How each PG names itself in the 적요 of a bank statement line (as a Korean bank export shows a payout).
PG_SENDER = {"html5_inicis": "KG이니시스", "inicis": "KG이니시스", "kcp": "NHN KCP", "tosspayments": "토스페이먼츠",
             "uplus": "LG유플러스", "nice": "나이스페이먼츠", "nice_v2": "나이스페이먼츠", "kicc": "KICC",
             "settle": "헥토파이낸셜", "smartro": "스마트로", "smartro_v2": "스마트로", "danal_tpay": "다날",
             "daou": "키움페이", "welcome": "웰컴페이먼츠"}


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
                         "fee": ISSUANCE_FEE, "fee_vat": FEE_VAT, "imp_uid": p["imp_uid"]})
        for h in p.get("cancel_history") or []:
            if d_from <= _day(h["cancelled_at"]) <= d_to:
                rows.append({"kind": "refund", "date": _day(h["cancelled_at"]), "merchant_uid": p["merchant_uid"],
                             "pg_tid": h.get("pg_tid") or "", "pg": p["pg_provider"], "amount": h["amount"],
                             "fee": REMITTANCE_FEE, "fee_vat": FEE_VAT, "imp_uid": p["imp_uid"],
                             "old": (_day(h["cancelled_at"]) - _day(p["started_at"])).days > 90})
    rng = random.Random(seed * 1009 + d_from.toordinal())
    planted: list[dict] = [{"kind": "refund_of_old_payment", "merchant_uid": r["merchant_uid"], "type": "refund",
                            "expected": "일치"} for r in rows if r.get("old")]
    # Planted strictly inside the range: removing or shifting the only row of the first day would shrink the
    # file's own date range, and the statement (made for the whole range) would then show that day's payout as
    # unexpected — a discrepancy nobody planted.
    deposits = [r for r in rows if r["kind"] == "deposit" and d_from < r["date"] < d_to]
    if len(deposits) >= 8:
        a, b, c, d, e, f = rng.sample(deposits, 6)
        a["amount"] -= 1000
        planted.append({"kind": "amount_mismatch", "merchant_uid": a["merchant_uid"], "type": "deposit",
                        "file_amount": a["amount"], "import_amount": a["amount"] + 1000})
        b["fee"] += 100
        planted.append({"kind": "fee_mismatch", "merchant_uid": b["merchant_uid"], "type": "deposit",
                        "file_fee": b["fee"], "expected_fee": b["fee"] - 100})
        rows.remove(c)
        planted.append({"kind": "missing_in_file", "merchant_uid": c["merchant_uid"], "type": "deposit",
                        "import_amount": c["amount"]})
        d["date"] = d["date"] + timedelta(days=1)
        planted.append({"kind": "date_shift", "merchant_uid": d["merchant_uid"], "type": "deposit",
                        "file_date": d["date"].isoformat()})
        e["fee_vat"] = 0
        planted.append({"kind": "fee_vat_mismatch", "merchant_uid": e["merchant_uid"], "type": "deposit",
                        "file_fee_vat": 0, "expected_fee_vat": FEE_VAT})
        rows.append(dict(f))
        planted.append({"kind": "duplicate", "merchant_uid": f["merchant_uid"], "type": "deposit"})
    ghost_day = d_to
    ghost = {"kind": "deposit", "date": ghost_day, "merchant_uid": f"ord_unknown_{rng.randint(100000, 999999)}",
             "pg_tid": f"GHOST{rng.randint(10**8, 10**9)}", "pg": "kcp", "amount": 33000, "fee": ISSUANCE_FEE,
             "fee_vat": FEE_VAT, "imp_uid": ""}
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
        net = sign * r["amount"] - r["fee"] - r["fee_vat"]
        total_amount += sign * r["amount"]
        total_fee += r["fee"]
        total_net += net
        w.writerow([r["date"].strftime("%Y.%m.%d"), "입금" if r["kind"] == "deposit" else "환불", r["merchant_uid"],
                    r["pg_tid"], "가상계좌", f"{r['amount']:,}", f"{r['fee']:,}", f"{r['fee_vat']:,}", f"{net:,}",
                    r["pg"]])
    w.writerow([])
    w.writerow(["합계", "", "", "", "", f"{total_amount:,}", f"{total_fee:,}", "", f"{total_net:,}", ""])
    return out.getvalue()


def _business_days_after(day: date, n: int) -> date:
    import holidays
    kr = holidays.KR(years=(day.year, day.year + 1))
    d, left = day, n
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in kr:
            left -= 1
    return d


def statement_rows(payments: list[dict], d_from: date, d_to: date, *, seed: int = 7,
                   settlement_days: int = 2) -> tuple[list[dict], list[dict]]:
    """The merchant's bank statement for the PG payouts of the transactions in [d_from, d_to]: each PG pays a
    day's net (deposits - refunds - fees - fee VAT) D+``settlement_days`` business days later. Planted: one
    payout short by 1,000 won, one missing, one deposit from someone who is not a PG."""
    net: dict[tuple[date, str], int] = {}
    for p in payments:
        if p.get("pay_method") != "vbank":
            continue
        pg = p["pg_provider"]
        if p.get("paid_at") and d_from <= _day(p["paid_at"]) <= d_to:
            k = (_day(p["paid_at"]), pg)
            net[k] = net.get(k, 0) + p["amount"] - ISSUANCE_FEE - FEE_VAT
        for h in p.get("cancel_history") or []:
            if d_from <= _day(h["cancelled_at"]) <= d_to:
                k = (_day(h["cancelled_at"]), pg)
                net[k] = net.get(k, 0) - h["amount"] - REMITTANCE_FEE - FEE_VAT
    payouts: dict[tuple[date, str], int] = {}
    for (day, pg), v in net.items():                   # one transfer a day per sender (nice and nice_v2 together)
        k = (_business_days_after(day, settlement_days), PG_SENDER.get(pg, pg))
        payouts[k] = payouts.get(k, 0) + v
    # A day whose net is not positive is not paid out (the PG offsets it); no line for it.
    rows = [{"date": d, "pg": sender, "memo": f"{sender} 정산대금", "deposit": v}
            for (d, sender), v in sorted(payouts.items()) if v > 0]
    rng = random.Random(seed * 7 + d_from.toordinal())
    planted: list[dict] = []
    if len(rows) >= 3:
        short, gone = rng.sample(rows, 2)
        short["deposit"] -= 1000
        planted.append({"kind": "short", "date": short["date"].isoformat(), "pg": short["pg"], "difference": -1000})
        rows.remove(gone)
        planted.append({"kind": "missing", "date": gone["date"].isoformat(), "pg": gone["pg"],
                        "expected": gone["deposit"]})
    stranger = {"date": rows[-1]["date"] if rows else d_to, "pg": "", "memo": "홍길동", "deposit": 50_000}
    rows.append(stranger)
    planted.append({"kind": "unexpected", "date": stranger["date"].isoformat(), "memo": "홍길동", "received": 50_000})
    rows.sort(key=lambda r: (r["date"], r["memo"]))
    return rows, planted


def render_statement(rows: list[dict], opening: int = 10_000_000) -> str:
    """As a Korean bank exports it: 거래일시, 적요, 입금액, 출금액, 잔액."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["거래일시", "적요", "입금액", "출금액", "잔액"])
    bal = opening
    for i, r in enumerate(rows):
        bal += r["deposit"]
        w.writerow([f"{r['date']:%Y.%m.%d} {9 + i % 8:02d}:{(i * 7) % 60:02d}:00", r["memo"], f"{r['deposit']:,}", "0",
                    f"{bal:,}"])
    return out.getvalue()


def statement_file(payments: list[dict], d_from: date, d_to: date, *, seed: int = 7,
                   encoding: str = "cp949") -> tuple[bytes, list[dict]]:
    rows, planted = statement_rows(payments, d_from, d_to, seed=seed)
    return render_statement(rows).encode(encoding), planted


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
    stmt, stmt_planted = statement_file(payments, date.fromisoformat(a.d_from), date.fromisoformat(a.d_to),
                                        seed=a.seed, encoding=a.encoding)
    out2 = a.out.rsplit(".", 1)[0] + "-bank-statement.csv"
    with open(out2, "wb") as f:
        f.write(stmt)
    with open(out2 + ".planted.json", "w", encoding="utf-8") as f:
        json.dump(stmt_planted, f, ensure_ascii=False, indent=2)
    print(f"wrote {out2} (the bank statement of the PG payouts) and its planted discrepancies")
