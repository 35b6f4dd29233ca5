"""The payments mirror (lib/db/mirror.py) kept by its syncer (lib/services/mirror_sync.py), against the real sandbox
over loopback: every change kind reaches it, our own writes at once, a console-only partial refund only through the
nightly re-read (counted as drift), one syncer at a time, and a killed writer leaves a readable table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pyarrow as pa
import pytest

from lib.db.mirror import Mirror
from lib.domain import payment_table
from lib.domain.clock import now_kst
from lib.domain.identity import Actor
from lib.domain.rules import Seen
from lib.services import refund, settle, update
from lib.services.mirror_sync import MirrorSync
from tests.conftest import paid_payment, ready_payment, refund_request

KIM = Actor(email="kim", roles=frozenset({"operator", "approver"}))


@pytest.fixture
def syncer(fresh, client, db, tmp_path):
    s = MirrorSync(client, Mirror(str(tmp_path / "mirror")), db.mirror_sync, api="v1")
    rep = s.sync()
    assert rep is not None and rep.full and rep.inserted > 0
    return s


def every(client) -> list[dict]:
    """Every payment the sandbox has over the mirror's look-back (older ones too, not only the last 90 days)."""
    import time
    now = int(time.time())
    return client.list_columns("all", now - 400 * 86400, now, fields=("status", "amount", "cancel_amount")).to_pylist()


def row(s: MirrorSync, imp_uid: str) -> dict:
    t = s.mirror.read(payment_table.ALL, ids=[imp_uid])
    assert t.num_rows == 1, f"{imp_uid} is not in the mirror once ({t.num_rows})"
    return t.to_pylist()[0]


def test_the_first_sync_copies_every_payment_of_the_sandbox(fresh, client, syncer):
    them = every(client)
    got = syncer.mirror.read(("status", "amount", "cancel_amount"))
    assert got.num_rows == len(them) > 1000
    by_id = {p["imp_uid"]: p for p in them}
    for r in got.to_pylist()[:200]:
        p = by_id[r["imp_uid"]]
        assert (r["status"], r["amount"], r["cancel_amount"]) == (p["status"], p["amount"], p["cancel_amount"])


def test_every_change_kind_reaches_the_mirror_in_one_minute_sync(fresh, client, syncer):
    to_pay = fresh.pick(status="ready", pg="settle", where=lambda x: x["vbank_date"] > 0)["imp_uid"]
    to_revoke = fresh.pick(status="ready", pg="kcp")["imp_uid"]
    to_refund = fresh.pick(status="paid", pg="html5_inicis", where=lambda x: x["cancel_amount"] == 0)
    fresh.deposit(to_pay)
    assert fresh.api("DELETE", f"/vbanks/{to_revoke}").json()["code"] == 0
    r = fresh.api("POST", "/payments/cancel", data={
        "imp_uid": to_refund["imp_uid"], "reason": "console", "checksum": to_refund["amount"],
        "refund_holder": "홍길동", "refund_bank": "04", "refund_account": "110123456789"}).json()
    assert r["code"] == 0, r
    issued = fresh.api("POST", "/vbanks", data={
        "merchant_uid": "mirror-new-1", "amount": 12000, "vbank_code": "004", "vbank_due": int(now_kst().timestamp())
        + 86400, "vbank_holder": "테스트", "pg": "kcp"}).json()
    assert issued["code"] == 0, issued
    new_id = issued["response"]["imp_uid"]
    version = syncer.mirror.version()

    rep = syncer.sync()

    assert rep is not None and not rep.full and rep.calls <= 5
    assert row(syncer, to_pay)["status"] == "paid" and row(syncer, to_pay)["paid_at"]
    assert row(syncer, to_revoke)["status"] == "cancelled"
    assert row(syncer, to_refund["imp_uid"])["status"] == "cancelled"
    assert row(syncer, to_refund["imp_uid"])["cancel_amount"] == to_refund["amount"]
    assert row(syncer, new_id)["status"] == "ready" and row(syncer, new_id)["amount"] == 12000
    assert syncer.mirror.version() == version + 1           # one merge, one commit
    failed = [p["imp_uid"] for p in fresh.all_payments("failed")][:3]
    assert failed and all(row(syncer, i)["status"] == "failed" for i in failed)


def test_a_minute_with_nothing_changed_makes_four_calls_and_writes_nothing(fresh, syncer):
    syncer.sync()                                  # the overlap's payments merged once by this syncer
    version = syncer.mirror.version()
    fresh.clear_requests()
    rep = syncer.sync()
    assert rep is not None and rep.merged == 0
    assert len(fresh.requests_seen("/payments/status/")) == 4
    assert syncer.mirror.version() == version


def test_our_own_partial_refund_and_due_change_reach_the_mirror_at_once(fresh, client, db, rules, syncer):
    settle.PAYMENT_LISTENERS.append(syncer.refresh_ids)
    try:
        p = paid_payment(fresh, client, pg="html5_inicis")
        r = refund.refund_vbank(client, db, operator=KIM, request=refund_request(p, 3000), seen=Seen.of(p),
                                rules=rules)
        assert r.ok
        assert row(syncer, p.imp_uid)["cancel_amount"] == 3000          # no sync ran: the write's own re-read
        q = ready_payment(fresh, client)
        due = (now_kst() + timedelta(days=6)).replace(microsecond=0)
        u = update.update_vbank(client, db, operator=KIM, imp_uid=q.imp_uid, seen=Seen.of(q), new_due=due,
                                rules=rules)
        assert u.ok
        assert row(syncer, q.imp_uid)["vbank_date"] == int(due.timestamp())
    finally:
        settle.PAYMENT_LISTENERS.remove(syncer.refresh_ids)


def test_a_console_partial_refund_is_missed_by_the_minute_and_caught_as_drift_by_the_nightly_reread(fresh, db,
                                                                                                      syncer):
    p = fresh.pick(status="paid", pg="html5_inicis", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 5000)
    r = fresh.api("POST", "/payments/cancel", data={
        "imp_uid": p["imp_uid"], "amount": 2000, "reason": "PG 관리자 화면", "checksum": p["amount"],
        "refund_holder": "홍길동", "refund_bank": "04", "refund_account": "110123456789"}).json()
    assert r["code"] == 0, r

    syncer.sync(full=False)
    assert row(syncer, p["imp_uid"])["cancel_amount"] == 0       # its status time did not move: the gap

    rep = syncer.sync(full=True)
    assert rep is not None and rep.drift == 1 and rep.drift_ids == [p["imp_uid"]]
    assert row(syncer, p["imp_uid"])["cancel_amount"] == 2000
    st = db.mirror_sync.get("v1")
    assert st["drift"] == 1 and st["drift_ids"] == [p["imp_uid"]] and st["last_full_at"]


def test_an_older_read_never_replaces_a_newer_one(tmp_path):
    m = Mirror(str(tmp_path / "m"))
    base = {"imp_uid": "imp_1", "merchant_uid": "o1", "amount": 1000, "started_at": 1_790_000_000}
    m.merge(payment_table.from_dicts([{**base, "status": "paid", "paid_at": 1_790_000_100}]), api="v1", now=200)
    m.merge(payment_table.from_dicts([{**base, "status": "ready"}]), api="v1", now=100)     # read before: stale
    assert m.read(("status",)).to_pylist() == [{"imp_uid": "imp_1", "status": "paid"}]
    m.merge(payment_table.from_dicts([{**base, "status": "cancelled"}]), api="v1", now=300)
    assert m.read(("status",)).to_pylist() == [{"imp_uid": "imp_1", "status": "cancelled"}]


def test_two_syncers_sync_one_at_a_time(fresh, client, db, tmp_path):
    entered, other_tried = threading.Event(), threading.Event()

    class Slow:
        api_version = "v1"

        def list_columns(self, *a, **kw):
            entered.set()
            assert other_tried.wait(30), "the other syncer never tried"
            return client.list_columns(*a, **kw)

        def get_payments(self, ids):
            return client.get_payments(ids)

    m = Mirror(str(tmp_path / "mirror"))
    a = MirrorSync(Slow(), m, db.mirror_sync, api="v1")
    b = MirrorSync(client, m, db.mirror_sync, api="v1")
    out: dict = {}
    t = threading.Thread(target=lambda: out.setdefault("a", a.sync()))
    t.start()
    assert entered.wait(30)
    out["b"] = b.sync()                       # while a holds the lease
    other_tried.set()
    t.join(60)
    assert out["b"] is None and out["a"] is not None and out["a"].inserted > 0
    assert b.sync() is not None               # the lease is free again


KILLED_WRITER = """
import sys, pyarrow as pa
from lib.db.mirror import Mirror
from lib.domain import payment_table
m = Mirror(sys.argv[1])
n = 0
while True:
    rows = [{"imp_uid": f"imp_{i}", "merchant_uid": f"o{i}", "amount": 1000 + n, "status": "paid",
             "started_at": 1_790_000_000 + i * 60} for i in range(20_000)]
    m.merge(payment_table.from_dicts(rows), api="v1", now=1000 + n)
    n += 1
    print("merged", n, flush=True)
"""


def test_a_writer_killed_mid_merge_leaves_the_table_readable_and_the_next_sync_completes(fresh, client, db, tmp_path):
    uri = str(tmp_path / "mirror")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, uri], cwd=root, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=root))
    try:
        for _ in range(3):                    # three merges done; the fourth is under way when it is killed
            assert proc.stdout is not None and proc.stdout.readline().startswith("merged")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    m = Mirror(uri)
    t = m.read(("amount",))
    assert t.num_rows == 20_000 and len(set(t["amount"].to_pylist())) == 1      # one whole commit, never half
    s = MirrorSync(client, m, db.mirror_sync, api="v1")
    rep = s.sync()
    assert rep is not None and rep.inserted == len(every(client))
    assert m.read(("amount",)).num_rows == 20_000 + rep.inserted
    m.compact()                               # files no commit names are removed with the clean-up
    assert m.read(("amount",)).num_rows == 20_000 + rep.inserted


def test_the_mirror_reads_like_the_listing(fresh, client, syncer):
    """The lists read the mirror where they read the API: same payments, same columns, same types."""
    import time
    now = int(time.time())
    api = client.list_columns("ready", now - 90 * 86400, now, fields=("status", "amount", "vbank_date"),
                              pay_method="vbank")
    mine = syncer.mirror.read(("status", "amount", "vbank_date"), t_from=now - 90 * 86400, t_to=now, status="ready",
                              pay_method="vbank")
    assert mine.schema == api.schema
    key = lambda t: sorted(t.to_pylist(), key=lambda r: r["imp_uid"])  # noqa: E731
    assert key(mine) == key(api)
    assert isinstance(mine, pa.Table)


def test_a_recheck_of_unchanged_payments_finds_nothing_and_of_a_changed_one_corrects_it(fresh, syncer):
    ids = [p["imp_uid"] for p in fresh.all_payments()[:150]]       # every kind of payment, two requests
    assert syncer.recheck(ids) == []                              # the single read agrees with the listing's copy
    p = fresh.pick(status="paid", pg="html5_inicis", where=lambda x: x["cancel_amount"] == 0 and x["amount"] > 5000)
    r = fresh.api("POST", "/payments/cancel", data={
        "imp_uid": p["imp_uid"], "amount": 1000, "reason": "PG 관리자 화면", "checksum": p["amount"],
        "refund_holder": "홍길동", "refund_bank": "04", "refund_account": "110123456789"}).json()
    assert r["code"] == 0, r
    version = syncer.mirror.version()
    assert syncer.recheck([*ids, p["imp_uid"]]) == [p["imp_uid"]]
    assert row(syncer, p["imp_uid"])["cancel_amount"] == 1000 and syncer.mirror.version() == version + 1
    assert syncer.recheck([p["imp_uid"]]) == []


# ------------------------------------------------------------------ V2 (PortOne V2 through the official SDK)
@pytest.fixture
def v2_syncer(sandbox_v2, db, tmp_path):
    from pydantic import SecretStr

    from lib.iamport.v2.client import PortOneV2Client, V2Config
    from tests.v2.harness import SECRET, STORE_ID
    sandbox_v2.reset()
    c = PortOneV2Client(V2Config(api_url=sandbox_v2.url, secret=SecretStr(SECRET), store_id=STORE_ID))
    s = MirrorSync(c, Mirror(str(tmp_path / "mirror")), db.mirror_sync)
    assert s.api == "v2"
    yield s
    c.close()


def test_a_v2_merchant_is_mirrored_beside_v1_and_its_changes_reach_it(sandbox_v2, v2_syncer, syncer):
    # (``syncer`` fills V1's copy into another folder; here both versions share one table)
    rep = v2_syncer.sync()
    assert rep is not None and rep.full
    every = sandbox_v2.all_payments()
    mine = v2_syncer.mirror.read(("status",), api="v2", with_api=True)
    assert mine.num_rows == len(every) and set(mine["api"].to_pylist()) == {"v2"}
    issued = sandbox_v2.pick("VIRTUAL_ACCOUNT_ISSUED", where=lambda p: (p["sandbox"].get("expires") or 0) > time.time())
    sandbox_v2.deposit(issued["id"])
    rep = v2_syncer.sync(full=False)
    assert rep is not None and not rep.full and rep.calls <= 5
    got = v2_syncer.mirror.read(("status", "paid_at"), ids=[issued["id"]], api="v2").to_pylist()
    assert got and got[0]["status"] == "paid" and got[0]["paid_at"]


def test_one_table_holds_both_versions_apart(sandbox_v2, v2_syncer, client, db):
    v1 = MirrorSync(client, v2_syncer.mirror, db.mirror_sync, api="v1")
    assert v1.sync() is not None and v2_syncer.sync() is not None
    t = v1.mirror.read(("status",), with_api=True)
    by_api = {a: t["api"].to_pylist().count(a) for a in ("v1", "v2")}
    assert by_api["v2"] == len(sandbox_v2.all_payments()) and by_api["v1"] == len(every(client))
    assert db.mirror_sync.get("v1")["last_ok_at"] and db.mirror_sync.get("v2")["last_ok_at"]


def test_the_nightly_rewrite_keeps_every_row_and_puts_a_month_in_status_order(tmp_path):
    m = Mirror(str(tmp_path / "m"))
    base = 1_790_000_000
    for k in range(4):                      # a merge a minute: four small files in one month
        m.merge(payment_table.from_dicts([{"imp_uid": f"imp_{k}_{i}", "merchant_uid": "o", "amount": 1000 + i,
                                           "status": ("ready", "paid", "cancelled")[(i + k) % 3],
                                           "started_at": base + i * 60} for i in range(300)]), api="v1",
                now=100 + k)
    before = sorted(m.read(("status", "amount")).to_pylist(), key=lambda r: r["imp_uid"])
    files = m.stats()["files"]
    assert files >= 4
    assert m.compact() == 1
    assert m.stats()["files"] < files
    assert sorted(m.read(("status", "amount")).to_pylist(), key=lambda r: r["imp_uid"]) == before
    raw = m.scan().select(["status", "started_at"]).collect()
    assert raw["status"].to_list() == sorted(raw["status"].to_list())
