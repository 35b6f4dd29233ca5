"""Issue 30, round two of attacks from outside, the breaks in services, search and the pending page: each test here
failed on the code before its fix (the report lists which)."""

from __future__ import annotations

import threading
import time

import pytest

from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiUnavailable
from lib.iamport.transport import ClientConfig
from lib.services.deposits import DepositFeed
from tests.conftest import ready_payment


class Clock:
    def __init__(self):
        self.t = time.time()

    def __call__(self):
        return self.t


def _config(sandbox, **kw) -> ClientConfig:
    return ClientConfig(api_url=sandbox.url, imp_key="sandbox_key", imp_secret="sandbox_secret", **kw)


# ------------------------------------------------------------------ #30 item 2: an outage never freezes the desk
def test_a_read_that_hangs_holds_no_other_reader(fresh):
    """One session's read waits for a hanging I'mport; another session asking meanwhile gets what is known at once
    (no lock held across the API call), while the first is still waiting."""
    clock = Clock()
    feed = DepositFeed(IamportClient(_config(fresh, read_timeout=3)), min_interval_s=30, clock=clock)
    known = feed.refresh()
    assert known
    clock.t += 31
    fresh.fault(path_prefix="/payments/status/paid", after="timeout", hang_s=4)
    first = threading.Thread(target=feed.refresh)
    first.start()
    try:
        deadline = time.time() + 10
        while not fresh.requests_seen("/payments/status/paid") and time.time() < deadline:
            time.sleep(0.02)                       # wait for the state: the first read reached I'mport
        fresh.clear_requests()
        assert feed.refresh() == known             # the second session: what is known, nothing read
        assert first.is_alive()                    # ... while the first read is still waiting
        assert fresh.requests_seen("/payments/status/") == []
    finally:
        first.join()
        fresh.clear_faults()


def test_a_failed_read_backs_off_for_the_whole_app(fresh):
    """Ten sessions refreshing against a 503 make one read (with its few retries), not ten; the next read waits
    longer after each failure; the outage is a state with since-when and I'mport's own message; a read that
    succeeds again ends it."""
    clock = Clock()
    feed = DepositFeed(IamportClient(_config(fresh)), min_interval_s=30, clock=clock)
    known = feed.refresh()
    clock.t += 31
    fresh.fault(path_prefix="/payments/status/", status=503)
    fresh.clear_requests()
    for _ in range(10):
        assert feed.refresh() == known             # never raises: the page keeps what it has
    reads = len(fresh.requests_seen("/payments/status/"))
    assert 1 <= reads <= 3                         # one reader, its retries bounded
    out = feed.outage
    assert out is not None and out.failures == 1 and "503" in out.message
    clock.t += 31                                  # past the interval: one more read, which fails too
    for _ in range(10):
        feed.refresh()
    assert feed.outage.failures == 2
    reads2 = len(fresh.requests_seen("/payments/status/"))
    assert reads2 - reads <= 3
    clock.t += 31                                  # the backoff doubled: 60 s after the second failure, not 30
    feed.refresh()
    assert len(fresh.requests_seen("/payments/status/")) == reads2 and feed.outage.failures == 2
    fresh.clear_faults()
    clock.t += 30
    assert feed.refresh() and feed.outage is None and feed.checked_at == clock.t


def test_a_read_is_bounded_by_total_time_not_only_by_tries(fresh):
    """A hanging I'mport costs one read its deadline: with a 1 s read timeout and a 1.6 s deadline the read gives up
    after the attempt that fits (before: three attempts of the full timeout each, whatever they add up to)."""
    c = IamportClient(_config(fresh, read_timeout=1.0, read_deadline=1.6))
    p = fresh.pick(status="paid")
    c.token()
    fresh.fault(path_prefix=f"/payments/{p['imp_uid']}", method="GET", after="timeout", hang_s=3)
    fresh.clear_requests()
    with pytest.raises(ApiUnavailable):
        c.get_payment(p["imp_uid"])
    assert 1 <= len(fresh.requests_seen(f"/payments/{p['imp_uid']}")) <= 2


def test_the_default_deadline_is_one_attempt_and_quick_retries():
    cfg = ClientConfig(api_url="http://127.0.0.1:1", imp_key="k", imp_secret="s")
    assert cfg.read_deadline_s < 3 * cfg.read_timeout
    assert cfg.read_deadline_s >= cfg.read_timeout + cfg.connect_timeout


# ------------------------------------------------------------------ #30 item 8: a refunded deposit is no longer new
def test_a_deposit_refunded_afterwards_leaves_the_new_deposits(fresh, client):
    clock = Clock()
    feed = DepositFeed(client, min_interval_s=30, clock=clock)
    feed.refresh()
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    clock.t += 31
    assert p.imp_uid in {r["imp_uid"] for r in feed.refresh()}
    client.cancel(imp_uid=p.imp_uid, reason="test", refund_holder="홍길동", refund_bank="088",
                  refund_account="110123456789")
    assert client.get_payment(p.imp_uid).status == "cancelled"
    clock.t += 31
    assert p.imp_uid not in {r["imp_uid"] for r in feed.refresh()}
