"""Seeded, deterministic payments over the last 90 days across 12 PGs: card / trans / vbank, ready / paid /
cancelled / failed, overdue and open virtual accounts, partial refunds, Korean names and banks."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from . import reference as ref
from .store import DAY, KST_OFFSET, _apply_cancel, _end_of_kst_day


@dataclass
class SeedPlan:
    seed: int = 7
    payments: int = 3000
    anchor: int | None = None  # "now" for the seed; default: the current time



# ------------------------------------------------------------------ generator
def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    total = sum(w for _, w in items)
    x = rng.uniform(0, total)
    for name, w in items:
        x -= w
        if x <= 0:
            return name
    return items[-1][0]


def _name(rng: random.Random) -> str:
    return rng.choice(ref.SURNAMES) + rng.choice(ref.GIVEN)


def _phone(rng: random.Random) -> str:
    return f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}"


def new_payment_skeleton(rng: random.Random, imp_uid: str, merchant_uid: str, pg: str, method: str,
                         amount: int, started: int) -> dict:
    buyer = _name(rng)
    return {
        "imp_uid": imp_uid, "merchant_uid": merchant_uid, "pay_method": method,
        "channel": rng.choice(["pc", "mobile", "mobile", "api"]) if method != "vbank" else rng.choice(["pc", "mobile", "api"]),
        "pg_provider": pg, "emb_pg_provider": None,
        "pg_tid": f"{pg[:4].upper()}{started}{rng.randint(100000, 999999)}",
        "pg_id": f"mid_{pg}",
        "escrow": False, "apply_num": None, "bank_code": None, "bank_name": None,
        "card_code": None, "card_name": None, "card_quota": 0, "card_number": None, "card_type": None,
        "vbank_code": None, "vbank_name": None, "vbank_num": None, "vbank_holder": None,
        "vbank_date": 0, "vbank_issued_at": 0,
        "name": rng.choice(ref.PRODUCTS), "amount": amount, "cancel_amount": 0, "currency": "KRW",
        "buyer_name": buyer, "buyer_email": f"buyer{rng.randint(1000, 99999)}@example.com",
        "buyer_tel": _phone(rng), "buyer_addr": "서울특별시 강남구 테헤란로 " + str(rng.randint(1, 500)),
        "buyer_postcode": f"0{rng.randint(1000, 9999)}",
        "custom_data": None, "user_agent": "Mozilla/5.0", "status": "ready",
        "started_at": started, "paid_at": 0, "failed_at": 0, "cancelled_at": 0,
        "fail_reason": None, "cancel_reason": None,
        "receipt_url": f"https://sandbox.receipt.local/{imp_uid}",
        "cancel_history": [], "cancel_receipt_urls": [], "cash_receipt_issued": False,
        "customer_uid": None, "customer_uid_usage": None,
        "_updated_at": started,
    }


def generate(plan: SeedPlan):
    rng = random.Random(plan.seed)
    now = plan.anchor if plan.anchor is not None else int(time.time())
    banks = list(ref.KFTC_BANKS.items())
    card_names = [("361", "BC카드"), ("381", "KB국민카드"), ("366", "신한카드"), ("367", "현대카드"), ("365", "삼성카드")]
    for i in range(plan.payments):
        pg = _weighted(rng, ref.SEED_PGS)
        method = _weighted(rng, [("vbank", 40), ("card", 45), ("trans", 15)])
        amount = rng.choice([1000, 5000, 9900, 10000, 12000, 15000, 19800, 25000, 30000, 39000, 49000,
                             55000, 79000, 99000, 120000, 150000, 249000, 330000, 500000, 1200000])
        if method == "vbank":
            status = _weighted(rng, [("ready", 35), ("paid", 50), ("cancelled", 10), ("failed", 5)])
        else:
            status = _weighted(rng, [("ready", 5), ("paid", 85), ("cancelled", 7), ("failed", 3)])
        if status == "ready" and method == "vbank" and rng.random() < 0.6:
            started = now - rng.randint(60, 7 * DAY)          # recent, mostly still open
        else:
            started = now - rng.randint(60, 89 * DAY)  # a day of margin inside 90 days
        imp_uid = f"imp_{(plan.seed * 7919 + i * 104729) % 10**12:012d}"
        merchant_uid = f"ord_{time.strftime('%Y%m%d', time.gmtime(started + KST_OFFSET))}_{i:06d}"
        p = new_payment_skeleton(rng, imp_uid, merchant_uid, pg, method, amount, started)
        if method == "vbank":
            code, bname = rng.choice(banks)
            p.update(vbank_code=code, vbank_name=bname, vbank_num=str(rng.randint(10**11, 10**14 - 1)),
                     vbank_holder="(주)브이뱅크상점", vbank_issued_at=started,
                     vbank_date=_end_of_kst_day(started + rng.choice([1, 2, 3, 3, 5, 7, 7, 10, 14]) * DAY))
        elif method == "card":
            cc, cn = rng.choice(card_names)
            p.update(card_code=cc, card_name=cn, card_number=f"5123-45**-****-{rng.randint(1000, 9999)}",
                     card_type=rng.choice([0, 1]), apply_num=str(rng.randint(10**7, 10**8 - 1)))
        else:
            code, bname = rng.choice(banks)
            p.update(bank_code=code, bank_name=bname)
        if status == "ready":
            pass
        elif status == "failed":
            p["status"] = "failed"
            p["failed_at"] = min(now, started + rng.randint(30, 3600))
            p["fail_reason"] = "가상계좌 발급 실패" if method == "vbank" else "사용자가 결제를 취소하셨습니다"
            p["_updated_at"] = p["failed_at"]
        else:
            limit = p["vbank_date"] if method == "vbank" else started + 600
            p["paid_at"] = min(now - 1, limit, started + rng.randint(60, 2 * DAY if method == "vbank" else 300))
            p["paid_at"] = max(p["paid_at"], started)
            p["status"] = "paid"
            p["_updated_at"] = p["paid_at"]
            if status == "cancelled":
                at = min(now, p["paid_at"] + rng.randint(3600, 10 * DAY))
                _apply_cancel(p, amount, at, "고객 요청 취소", f"seed{i}")
            elif method == "vbank" and rng.random() < 0.15:
                part = max(1000, amount // rng.choice([2, 3, 4, 5]) // 100 * 100)
                if part < amount:
                    at = min(now, p["paid_at"] + rng.randint(3600, 10 * DAY))
                    _apply_cancel(p, part, at, "부분 환불(재고 부족)", f"seed{i}")
        yield p
    # A few virtual accounts paid long ago (more than 90 days) and partly refunded in the last days: a settlement
    # file of this week holds their refunds, though no 90-day listing shows the payments.
    old_rng = random.Random(plan.seed * 31 + 5)
    for j in range(3):
        started = now - (110 + 10 * j) * DAY - old_rng.randint(60, DAY)
        imp_uid = f"imp_old{(plan.seed * 131 + j) % 10**8:08d}"
        merchant_uid = f"ord_old_{time.strftime('%Y%m%d', time.gmtime(started + KST_OFFSET))}_{j:03d}"
        amount = (50_000, 120_000, 79_000)[j]
        p = new_payment_skeleton(old_rng, imp_uid, merchant_uid, ("kcp", "settle", "html5_inicis")[j], "vbank",
                                 amount, started)
        code, bname = old_rng.choice(banks)
        p.update(vbank_code=code, vbank_name=bname, vbank_num=str(old_rng.randint(10**11, 10**14 - 1)),
                 vbank_holder="(주)브이뱅크상점", vbank_issued_at=started, vbank_date=_end_of_kst_day(started + 3 * DAY),
                 status="paid", paid_at=started + 3600, _updated_at=started + 3600)
        at = now - (1 + j) * DAY - old_rng.randint(60, 3600)
        _apply_cancel(p, amount // 5 // 100 * 100, at, "지난 주문 부분 환불", f"old{j}")
        yield p
