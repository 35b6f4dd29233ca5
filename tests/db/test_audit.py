"""The audit store: append-only records, masking, and the in-flight lock under contention."""

from __future__ import annotations

import threading

import pytest

from lib.db.appdb import AppDb
from lib.db.audit import mask_request


@pytest.fixture
def store(tmp_path):
    return AppDb(f"sqlite:///{tmp_path / 'a.sqlite3'}").audit


def test_records_round_trip_and_filter(store):
    store.record(operator="kim", action="refund", outcome="sent", correlation_id="c1", imp_uid="imp_1",
                 request={"refund_account": "110123456789", "refund_tel": "01012345678", "imp_secret": "s3cr3t",
                          "amount": 1000})
    store.record(operator="lee", action="update_vbank", outcome="succeeded", correlation_id="c2", imp_uid="imp_2")
    df = store.records(imp_uid="imp_1")
    assert len(df) == 1 and df.iloc[0]["operator"] == "kim"
    req = df.iloc[0]["request"]
    assert "110123456789" not in req and "110******789" in req and "010****5678" in req
    assert "s3cr3t" not in req and "imp_secret" not in req
    assert str(df.iloc[0]["at"].tzinfo) == "Asia/Seoul"
    assert store.distinct("operator") == ["kim", "lee"]
    assert len(store.records(outcome="succeeded")) == 1


def test_no_update_or_delete_api_for_records(store):
    assert not any(hasattr(store, name) for name in ("update", "delete", "delete_record", "update_record"))
    with pytest.raises(ValueError):
        store.record(operator="kim", action="x", outcome="whatever", correlation_id="c")


def test_mask_request_nested():
    m = mask_request({"extra": {"refund_account": "12345678"}, "access_token": "t"})
    assert m == {"extra": {"refund_account": "123**678"}}


def test_lock_is_exclusive_across_threads(tmp_path):
    locks = AppDb(f"sqlite:///{tmp_path / 'l.sqlite3'}").locks
    winners = []
    barrier = threading.Barrier(8)

    def grab(i):
        barrier.wait()
        if locks.acquire("refund:imp_1", correlation_id=f"c{i}", operator=f"op{i}", action="refund") is None:
            winners.append(i)

    ts = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(winners) == 1
    held = locks.get("refund:imp_1")
    assert held.correlation_id == f"c{winners[0]}"
    locks.release("refund:imp_1", "someone-else")              # only the holder releases
    assert locks.get("refund:imp_1") is not None
    locks.release("refund:imp_1", held.correlation_id)
    assert locks.get("refund:imp_1") is None


def test_two_stores_on_one_database_share_locks(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    a, b = AppDb(url), AppDb(url)
    assert a.locks.acquire("update_vbank:imp_9", correlation_id="x", operator="kim", action="update_vbank") is None
    held = b.locks.acquire("update_vbank:imp_9", correlation_id="y", operator="lee", action="update_vbank")
    assert held is not None and held.operator == "kim"
    a.locks.mark_unknown("update_vbank:imp_9", "x", "no reply")
    assert b.locks.get("update_vbank:imp_9").state == "unknown"


def test_hash_chain_verifies_and_finds_the_first_broken_link(store):
    from sqlalchemy import text
    for i in range(5):
        store.record(operator="kim", action="refund", outcome="sent", correlation_id=f"c{i}", imp_uid=f"imp_{i}")
    assert store.verify_chain().ok and store.verify_chain().checked == 5
    with store.engine.begin() as c:                      # someone edits a record behind the app's back
        c.execute(text("UPDATE audit_log SET operator='mallory' WHERE id=3"))
    rep = store.verify_chain()
    assert (rep.ok, rep.first_broken_id) == (False, 3) and "changed" in rep.reason
    with store.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET operator='kim' WHERE id=3"))
        c.execute(text("DELETE FROM audit_log WHERE id=2"))
    rep = store.verify_chain()
    assert (rep.ok, rep.first_broken_id) == (False, 3) and "link" in rep.reason


def test_chain_does_not_fork_with_concurrent_writers(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    stores = [AppDb(url).audit for _ in range(4)]
    barrier = threading.Barrier(4)

    def write(st, n):
        barrier.wait()
        for i in range(15):
            st.record(operator=f"op{n}", action="x", outcome="sent", correlation_id=f"{n}-{i}")

    ts = [threading.Thread(target=write, args=(st, n)) for n, st in enumerate(stores)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    rep = stores[0].verify_chain()
    assert rep.ok and rep.checked == 60
