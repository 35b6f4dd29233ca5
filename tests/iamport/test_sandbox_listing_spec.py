"""The sandbox lists as the spec says (GET /payments/status/{payment_status}): ``all`` filters each payment by the time
of its *final* status ("결제건의 최종 status에 따라 다른 검색기준"), and ``-updated`` moves "결제건 상태변화마다" only —
so a partial refund made in a console moves no listing, as in production (the payments mirror's nightly re-read
exists for that: tests/services/test_mirror.py)."""

from __future__ import annotations

import time


def listed(sb, status: str, a: int, b: int, sorting: str | None = None) -> list[str]:
    params = {"from": a, "to": b, "limit": 1000, **({"sorting": sorting} if sorting else {})}
    return [p["imp_uid"] for p in sb.api("GET", f"/payments/status/{status}", params=params).json()["response"]["list"]]


def test_all_lists_a_payment_by_its_final_status_time_not_its_start(fresh):
    p = fresh.pick(status="ready", pg="settle", where=lambda x: x["vbank_date"] > time.time()
                   and x["started_at"] < time.time() - 3600)
    fresh.deposit(p["imp_uid"])
    now = int(time.time())
    assert p["imp_uid"] in listed(fresh, "all", now - 60, now + 1)               # paid just now
    s = p["started_at"]
    assert p["imp_uid"] not in listed(fresh, "all", s - 1, s + 1)                # no longer by its start


def test_updated_moves_on_a_status_change_only(fresh):
    p = fresh.pick(status="paid", pg="html5_inicis", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 5000)
    now = int(time.time())
    before = listed(fresh, "paid", now - 80 * 86400, now + 1, "-updated")
    r = fresh.api("POST", "/payments/cancel", data={
        "imp_uid": p["imp_uid"], "amount": 1000, "reason": "console", "checksum": p["amount"],
        "refund_holder": "홍길동", "refund_bank": "04", "refund_account": "110123456789"}).json()
    assert r["code"] == 0, r
    after = listed(fresh, "paid", now - 80 * 86400, int(time.time()) + 1, "-updated")
    assert after == before                                 # a partial refund is no status change: nothing moved
    r = fresh.api("POST", "/payments/cancel", data={
        "imp_uid": p["imp_uid"], "reason": "console", "checksum": p["amount"] - 1000,
        "refund_holder": "홍길동", "refund_bank": "04", "refund_account": "110123456789"}).json()
    assert r["code"] == 0, r
    newest = listed(fresh, "all", int(time.time()) - 60, int(time.time()) + 1, "-updated")
    assert newest[0] == p["imp_uid"]                       # refunded in full: cancelled now, first by -updated
