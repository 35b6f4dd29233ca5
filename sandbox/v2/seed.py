"""Seeded, deterministic V2 payments over the last 90 days (like the V1 seed): virtual accounts issued and open,
overdue (still issued, or closed), paid, partly and fully cancelled, failed, across six PGs, and a few card payments.

The first payments are a grid (every PG × every virtual-account state, one card payment per PG, and one paid account
of each async-cancel PG with a cancellation still REQUESTED) so that a test always finds each case; the rest are
drawn at random. The same ``seed``, ``payments`` and ``anchor`` give the same payments, ids and amounts.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from ..reference import GIVEN, PRODUCTS, SURNAMES
from . import model as m
from .model import DAY

VA_STATES = ("OPEN", "OVERDUE", "CLOSED", "PAID", "PARTIAL", "CANCELLED", "FAILED")
VA_WEIGHTS = [("OPEN", 15), ("OVERDUE", 8), ("CLOSED", 5), ("PAID", 45), ("PARTIAL", 8), ("CANCELLED", 9),
              ("FAILED", 5)]
CARD_WEIGHTS = [("PAID", 80), ("CANCELLED", 10), ("PARTIAL", 5), ("FAILED", 5)]
AMOUNTS = [5000, 9900, 10000, 12000, 15000, 19800, 25000, 30000, 39000, 49000, 55000, 79000, 99000, 120000,
           150000, 249000, 330000, 500000, 1200000]


@dataclass
class SeedPlan:
    seed: int = 7
    payments: int = 400
    anchor: int | None = None
    store_id: str = "store-sandbox"
    async_cancel_pgs: tuple[str, ...] = ("KSNET",)


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _plan(rng: random.Random, n: int, async_pgs: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(pg, method, state) for each payment: the grid first, then random draws."""
    grid = [(pg, "VIRTUAL_ACCOUNT", s) for pg in m.PGS for s in VA_STATES]
    grid += [(pg, "CARD", "PAID") for pg in m.PGS]
    grid += [(pg, "VIRTUAL_ACCOUNT", "REQUESTED") for pg in async_pgs if pg in m.PGS]
    out = grid[:n]
    pgs = list(m.PGS)
    while len(out) < n:
        if rng.random() < 0.85:
            out.append((rng.choice(pgs), "VIRTUAL_ACCOUNT", _weighted(rng, VA_WEIGHTS)))
        else:
            out.append((rng.choice(pgs), "CARD", _weighted(rng, CARD_WEIGHTS)))
    return out


def generate(plan: SeedPlan) -> tuple[list[dict], list[dict]]:
    """The payments and their events (PAID, PARTIAL_CANCELLED, CANCELLED), events in time order."""
    rng = random.Random(plan.seed * 7919 + 34)
    now = float(plan.anchor if plan.anchor is not None else int(time.time()))
    payments: list[dict] = []
    events: list[dict] = []
    for i, (pg, method, state) in enumerate(_plan(rng, plan.payments, plan.async_cancel_pgs)):
        p = _one(rng, plan, i, pg, method, state, now, events)
        payments.append(p)
    events.sort(key=lambda e: (e["_created"], e["paymentId"]))
    for n, e in enumerate(events, 1):
        e["id"] = f"event-{plan.seed}-{n:06d}"
    return payments, events


def _customer(rng: random.Random, i: int) -> dict:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return {"id": f"customer-{i:05d}", "name": name, "phoneNumber": f"010{rng.randint(2000, 9999)}"
            f"{rng.randint(1000, 9999)}", "email": f"buyer{rng.randint(1000, 99999)}@example.com"}


def _one(rng: random.Random, plan: SeedPlan, i: int, pg: str, method: str, state: str, now: float,
         events: list[dict]) -> dict:
    if state == "OPEN":
        requested = now - rng.randint(600, 3 * DAY)
    elif state in ("OVERDUE", "CLOSED"):
        requested = now - rng.randint(12 * DAY, 80 * DAY)
    else:
        requested = now - rng.randint(2 * DAY, 88 * DAY)
    day = time.strftime("%Y%m%d", time.gmtime(requested + 9 * 3600))
    tx = rng.getrandbits(128)
    tx_id = f"{tx >> 96:08x}-{(tx >> 80) & 0xFFFF:04x}-4{(tx >> 68) & 0xFFF:03x}-a{(tx >> 56) & 0xFFF:03x}-" \
            f"{tx & 0xFFFFFFFFFFFF:012x}"
    p = m.new_payment(payment_id=f"order-{day}-{plan.seed % 100:02d}{i:05d}", transaction_id=tx_id,
                      store_id=plan.store_id, pg=pg, method=method, amount=rng.choice(AMOUNTS),
                      requested=requested, order_name=rng.choice(PRODUCTS), customer=_customer(rng, i),
                      platform=rng.choice(["PC", "MOBILE", "MOBILE", "API"]), seq=i)
    total = p["amount"]["total"]
    if state == "FAILED":
        m.mark_failed(p, requested + rng.randint(5, 60),
                      "가상계좌 발급에 실패했습니다." if method == "VIRTUAL_ACCOUNT" else "카드 한도가 초과되었습니다.")
        return p
    if method == "VIRTUAL_ACCOUNT":
        if state == "OPEN":
            expires = now + rng.randint(1, 7) * DAY
        elif state in ("OVERDUE", "CLOSED"):
            expires = requested + rng.randint(1, 5) * DAY
        else:
            expires = requested + rng.randint(2, 7) * DAY
        m.issue_virtual_account(p, bank=rng.choice(m.VA_BANKS), number=str(rng.randint(10**11, 10**14 - 1)),
                                expires=expires, at=requested + rng.randint(1, 30))
        if state in ("OPEN", "OVERDUE"):
            return p
        if state == "CLOSED":
            m.close_account(p, expires + rng.randint(3600, 2 * DAY))
            return p
        paid = requested + rng.randint(600, int(min(expires - requested, 2 * DAY)))
    else:
        p["method"] = {"type": "PaymentMethodCard", "approvalNumber": f"{rng.randint(10**7, 10**8 - 1)}",
                       "installment": {"month": 0, "isInterestFree": False},
                       "card": {"publisher": "신한카드", "issuer": "신한카드", "brand": "LOCAL", "type": "CREDIT",
                                "ownerType": "PERSONAL", "bin": "512345", "name": "신한카드",
                                "number": f"512345******{rng.randint(1000, 9999)}"}}
        paid = requested + rng.randint(5, 120)
    m.mark_paid(p, paid)
    events.append(m.event(p, "PAID", paid, total))
    if state in ("PARTIAL", "CANCELLED"):
        amount = total if state == "CANCELLED" else max(1000, total // rng.choice([2, 3, 4]) // 100 * 100)
        at = min(now - 60, paid + rng.randint(3600, 10 * DAY))
        c = m.new_cancellation(p, amount=amount, tax_free=0, reason="고객 요청 환불", at=at, requested=False)
        kind = m.succeed_cancellation(p, c, at)
        events.append(m.event(p, kind, at, amount, c))
    elif state == "REQUESTED":
        at = min(now - 60, paid + DAY)
        m.new_cancellation(p, amount=total, tax_free=0, reason="고객 요청 환불(처리 중)", at=at, requested=True)
    return p
