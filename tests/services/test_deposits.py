"""Deposits as they land (lib/services/deposits.py) and the shared state every instance reads (lib/db/shared.py)."""

from __future__ import annotations

import time

from lib.db.appdb import AppDb
from lib.services.deposits import DepositFeed, paid_since
from tests.conftest import ready_payment


class Clock:
    def __init__(self):
        self.t = time.time()

    def __call__(self):
        return self.t


def test_the_feed_reads_everything_once_then_only_what_was_paid_since(fresh, client):
    clock = Clock()
    feed = DepositFeed(client, min_interval_s=30, clock=clock)
    first = feed.refresh()
    assert first and all(r["status"] == "paid" and r["pay_method"] == "vbank" for r in first)
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    fresh.clear_requests()
    assert p.imp_uid not in {r["imp_uid"] for r in feed.refresh()}        # within the interval: nothing read
    assert fresh.requests_seen("/payments/status/") == []
    clock.t += 31
    landed = feed.refresh()
    assert landed[0]["imp_uid"] == p.imp_uid                               # newest first
    reads = fresh.requests_seen("/payments/status/paid")
    assert len(reads) == 1                                                 # one small read since the last one
    assert int(reads[0]["params"]["from"]) > time.time() - 3600            # not the whole week again
    assert [r["imp_uid"] for r in paid_since(landed, landed[0]["paid_at"] - 1)] == [p.imp_uid]


def test_a_write_on_one_instance_moves_the_version_every_instance_reads(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    one, two = AppDb(url), AppDb(url)
    before = two.shared.data_version()
    one.shared.bump_data_version()
    assert two.shared.data_version() == before + 1


def test_marks_are_per_person_and_a_time_mark_only_moves_forward(tmp_path):
    db = AppDb(f"sqlite:///{tmp_path / 'marks.sqlite3'}")
    db.shared.advance_mark("Kim@Example.com", "deposits_seen", 200.0)
    db.shared.advance_mark("kim@example.com", "deposits_seen", 100.0)      # an older tab: ignored
    assert float(db.shared.mark("kim@example.com", "deposits_seen")) == 200.0
    assert db.shared.mark("lee@example.com", "deposits_seen") is None
    db.shared.set_mark("kim@example.com", "lang", "en")
    assert db.shared.mark("KIM@example.com", "lang") == "en"


def test_a_merchant_on_both_apis_sees_v2_deposits_land_too(fresh, client, sandbox_v2):
    import time as _time

    from pydantic import SecretStr

    from lib.iamport.v2.client import PortOneV2Client, V2Config
    from lib.services.deposits import BothApis, DepositFeed
    from tests.v2.harness import SECRET, STORE_ID
    sandbox_v2.reset()
    v2 = PortOneV2Client(V2Config(api_url=sandbox_v2.url, secret=SecretStr(SECRET), store_id=STORE_ID))
    try:
        feed = DepositFeed(BothApis(client, v2), min_interval_s=0)
        before = {r["imp_uid"] for r in feed.refresh()}
        issued = sandbox_v2.pick("VIRTUAL_ACCOUNT_ISSUED",
                                 where=lambda p: (p["sandbox"].get("expires") or 0) > _time.time())
        v1 = fresh.pick(status="ready", pg="settle", where=lambda x: x["vbank_date"] > _time.time())["imp_uid"]
        sandbox_v2.deposit(issued["id"])
        fresh.deposit(v1)
        got = {r["imp_uid"]: r for r in feed.refresh(force=True)}
        assert issued["id"] in got and issued["id"] not in before and got[issued["id"]]["api"] == "v2"
        assert v1 in got and got[v1].get("api") is None
        assert feed.outage is None
    finally:
        v2.close()
