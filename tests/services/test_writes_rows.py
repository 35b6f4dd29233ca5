"""Issue 32 point 1: money writes as rows (lib/db/writes.py). Each write that claims its send is one row of ``writes``,
moved with its audit records in the same transaction; the page's send-once id is its idempotency key; the limits,
the watcher and the digest read the rows; the migration fills them from an audit log written before."""

from __future__ import annotations

import json
import time

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from lib.db import appdb
from lib.db.appdb import AppDb
from lib.db.schema import audit_log, writes
from lib.domain.identity import Actor
from lib.domain.refusals import Busy
from lib.domain.rules import Seen
from lib.services import refund, unknowns
from tests.conftest import paid_payment, refund_request

KIM = Actor("kim@example.com", frozenset({"operator"}))


def rows(db) -> list[dict]:
    with db.audit.engine.connect() as c:
        return [dict(r) for r in c.execute(select(writes).order_by(writes.c.sent_at)).mappings()]


def test_a_refund_is_one_row_moved_with_its_audit_records(fresh, client, db, rules):
    p = paid_payment(fresh, client, min_amount=20_000)
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 5_000), seen=Seen.of(p), rules=rules,
                            action_key="aid-1")
    assert r.ok
    [row] = rows(db)
    assert (row["correlation_id"], row["action_key"], row["kind"], row["imp_uid"], row["amount"], row["operator"],
            row["state"], row["approval_id"]) == (r.correlation_id, "aid-1", "refund", p.imp_uid, 5_000, KIM.email,
                                                  "succeeded", None)
    assert db.writes.refunded_without_approval(KIM.email, since=time.time() - 60) == 5_000


def test_the_same_action_key_is_never_sent_twice(fresh, client, db, rules):
    """A second tab or instance carrying the same send-once id (the figures re-read, so nothing looks stale) is
    refused before anything is sent."""
    p = paid_payment(fresh, client, min_amount=20_000)
    assert refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3_000), seen=Seen.of(p),
                               rules=rules, action_key="aid-twice").ok
    fresh.clear_requests()
    again = client.get_payment(p.imp_uid)
    with pytest.raises(Busy, match="already sent"):
        refund.refund_vbank(client, db, operator=KIM, request=refund_request(again, 3_000), seen=Seen.of(again),
                            rules=rules, action_key="aid-twice")
    assert fresh.requests_seen("/payments/cancel") == [] and len(rows(db)) == 1
    assert db.locks.all() == []


def test_an_unknown_refund_row_is_settled_by_its_resolution(fresh, client, db, rules):
    p = paid_payment(fresh, client, min_amount=20_000)
    fresh.fault(path_prefix="/payments/cancel", times=1, status=502, html=True)
    r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 4_000), seen=Seen.of(p), rules=rules)
    fresh.clear_faults()
    assert r.outcome == "unknown"
    [row] = rows(db)
    assert row["state"] == "unknown" and row["unknown_at"] is not None
    assert db.writes.count("unknown") == 1
    unknowns.resolve_unknown_refund(client, db, operator=KIM, imp_uid=p.imp_uid, operator_confirms_not_applied=True)
    [row] = rows(db)
    assert row["state"] == "failed" and row["resolved_at"] is not None
    # a refund that provably did not go through counts for nobody's limit
    assert db.writes.refunded_without_approval(KIM.email, since=time.time() - 60) == 0


def test_an_audit_record_with_an_outcome_outside_the_codes_is_refused_by_the_database(db):
    with pytest.raises(IntegrityError), db.audit.engine.begin() as c:
        c.execute(insert(audit_log).values(at=time.time(), operator="x", action="refund", outcome="maybe",
                                           correlation_id="c", prev_hash="0" * 64, hash="0" * 64))


def test_the_migration_fills_writes_from_the_audit_log(tmp_path):
    """A database at 0007 with writes recorded only in its audit log: upgraded, each sent write is a row in the state
    its later records left it; a write that never claimed its send is not one."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    cfg = appdb._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    t = time.time() - 3600

    def rec(i: int, action: str, outcome: str, cid: str, request=None, detail=None):
        return {"at": t + i, "operator": "kim@example.com", "action": action, "imp_uid": f"imp_{cid}",
                "outcome": outcome, "correlation_id": cid, "request": json.dumps(request) if request else None,
                "detail": json.dumps(detail) if detail else None, "prev_hash": "0" * 64, "hash": "0" * 64}
    with engine.begin() as c:
        c.execute(insert(audit_log), [
            rec(1, "refund", "sent", "a", {"amount": 7000}, {"approval_id": None}),
            rec(2, "refund", "succeeded", "a"),
            rec(3, "update_vbank", "sent", "b", {"vbank_due": 1}),
            rec(4, "update_vbank", "unknown", "b"),
            rec(5, "update_vbank", "resolved", "b", None, {"why": "applied_reread"}),
            rec(6, "refund", "failed", "c", None, {"why": "stopped_before_sending"}),
            rec(7, "refund_request", "requested", "d", None, {"amount": 9}),
            rec(8, "refund", "sent", "e", {"amount": 100_000}, {"approval_id": "req1"}),
            rec(9, "refund", "unknown", "e"),
        ])
    engine.dispose()
    db = AppDb(url)
    got = {r["correlation_id"]: r for r in rows(db)}
    assert set(got) == {"a", "b", "e"}
    assert (got["a"]["state"], got["a"]["amount"], got["a"]["kind"]) == ("succeeded", 7000, "refund")
    assert (got["b"]["state"], got["b"]["amount"]) == ("succeeded", None)
    assert got["b"]["unknown_at"] == pytest.approx(t + 4) and got["b"]["resolved_at"] == pytest.approx(t + 5)
    assert (got["e"]["state"], got["e"]["approval_id"]) == ("unknown", "req1")
    assert db.writes.refunded_without_approval("KIM@example.com", since=t) == 7000
    with db.engine.connect() as c:                 # and the outcome constraint came with it
        assert "ck_audit_log_outcome" in c.execute(text("SELECT sql FROM sqlite_master WHERE name='audit_log'")
                                                   ).scalar()
    db.dispose()
