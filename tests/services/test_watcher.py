"""The watcher (issue 22) against the sandbox over HTTP and a local webhook receiver: each event once (also after a
restart and with two watchers), an approval request told, a receiver that fails twice still gets the event once,
and the digest for a fixed clock equal to the sandbox's numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from lib.domain.clock import KST
from lib.domain.identity import Actor
from lib.domain.rules import Seen
from lib.services import approval_flow
from lib.services.watcher import Event, WatchConfig, Watcher, slack_escape
from tests.conftest import paid_payment, ready_payment, refund_request
from tests.helpers import ROOT


class Receiver:
    """A webhook that records what it accepted; ``fail`` first answers 500 that many times."""

    def __init__(self, fail: int = 0, status: int = 500, path: str = "/hook", only: str = "",
                 hang: threading.Event | None = None):
        self.accepted: list[dict] = []
        self.tried: list[str] = []                                  # every POST's event key, answered or not
        self.tries = 0
        self.fail = fail
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                outer.tries += 1
                outer.tried.append(body.get("event", ""))
                if hang is not None and not hang.is_set():
                    hang.wait(5)                                     # a chat that does not answer, then gives up
                    self.send_response(504)
                    self.end_headers()
                    return
                if outer.fail > 0 and body.get("event", "").startswith(only):
                    outer.fail -= 1
                    self.send_response(status)
                    self.end_headers()
                    return
                outer.accepted.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, prefix: str = "") -> list[str]:
        return [b["event"] for b in self.accepted if b["event"].startswith(prefix)]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def post(url, body):
    return requests.post(url, json=body, timeout=5).status_code


def watcher(client, db, receiver, clock=time.time):
    return Watcher(client, db, WatchConfig(targets=(receiver.url,), digest_at="23:59"), post=post, clock=clock)


def test_a_deposit_is_told_once_across_passes_restarts_and_two_watchers(fresh, client, db, receiver):
    watcher(client, db, receiver).run_once()                 # starts watching: nothing older is told
    assert receiver.events("deposit:") == []
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    rep = watcher(client, db, receiver).run_once()            # a restart: a new watcher, the same app database
    assert rep.errors == [] and receiver.events("deposit:") == [f"deposit:{p.imp_uid}"]
    msg = next(b for b in receiver.accepted if b["event"] == f"deposit:{p.imp_uid}")
    assert p.buyer_tel not in json.dumps(msg, ensure_ascii=False)                    # no full phone number
    assert msg["blocks"][0]["text"]["type"] == "plain_text" and f"imp_uid={p.imp_uid}" in msg["text"]
    two = [watcher(client, db, receiver), watcher(client, db, receiver)]
    threads = [threading.Thread(target=w.run_once) for w in two]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert receiver.events("deposit:") == [f"deposit:{p.imp_uid}"]                  # still once


def test_an_approval_request_and_its_decision_are_told(fresh, client, db, rules, receiver):
    w = watcher(client, db, receiver)
    w.run_once()
    rules.refund_approval_above = 1000
    p = paid_payment(fresh, client)
    kim, boss = Actor("kim@example.com", frozenset({"operator"})), Actor("boss@example.com", frozenset({"approver"}))
    req = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(p, 5000),
                                                seen=Seen.of(p), rules=rules)
    w.run_once()
    assert receiver.events("approval:") == [f"approval:{req.id}:requested"]
    approval_flow.approve(client, db, approver=boss, request_id=req.id, rules=rules)
    w.run_once()
    assert receiver.events("approval:") == [f"approval:{req.id}:requested", f"approval:{req.id}:executed"]
    assert receiver.events("refund:")                                               # the refund sent, too


def test_approvals_and_refunds_are_told_in_korean_with_the_order_buyer_and_pg(fresh, client, db, rules, receiver,
                                                                                korean):
    """Issue 31.1: "승인 요청 승인 후 전송됨" and an imp_uid alone were what the chat read; now a sentence with who did
    what, and the payment by its order number, masked buyer and PG trade name."""
    from lib.domain.names import PG_NAMES
    w = watcher(client, db, receiver)
    w.run_once()
    rules.refund_approval_above = 1000
    p = paid_payment(fresh, client)
    kim, boss = Actor("kim@example.com", frozenset({"operator"})), Actor("boss@example.com", frozenset({"approver"}))
    req = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(p, 5000),
                                                seen=Seen.of(p), rules=rules)
    approval_flow.approve(client, db, approver=boss, request_id=req.id, rules=rules)
    w.run_once()
    texts = {b["event"].split(":")[0] + ":" + b["event"].split(":")[-1]: b["blocks"][0]["text"]["text"]
             for b in receiver.accepted if b["event"].startswith(("approval:", "refund:"))}
    asked = texts["approval:requested"]
    assert asked.startswith("kim@example.com님이 승인을 요청했습니다: ₩5,000 환불")
    done = texts["approval:executed"]
    assert done.startswith("boss@example.com님이 승인해 처리됐습니다") and "승인 후 전송됨" not in done
    refund = next(v for k, v in texts.items() if k.startswith("refund:"))
    for t in (asked, done, refund):
        assert p.merchant_uid in t and PG_NAMES[p.pg_provider] in t and f"({p.pg_provider})" not in t
        assert p.imp_uid not in t and (not p.buyer_name or p.buyer_name not in t)


def test_a_decision_on_an_old_request_is_told_however_many_came_after_it(fresh, client, db, rules, receiver):
    """The watcher reads requests made *or decided* since its last pass, not the newest few hundred: a decision on a
    request older than 600 others is still told."""
    w = watcher(client, db, receiver)
    w.run_once()
    rules.refund_approval_above = 1000
    p = paid_payment(fresh, client)
    kim = Actor("kim@example.com", frozenset({"operator"}))
    old = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(p, 5000),
                                                seen=Seen.of(p), rules=rules)
    w.run_once()
    with db.engine.begin() as c:                 # the request made a day ago, 600 more made after it since
        from lib.db.schema import approval_requests
        day_ago = time.time() - 86_400
        c.execute(approval_requests.update().where(approval_requests.c.id == old.id).values(created_at=day_ago))
        row = dict(c.execute(approval_requests.select().where(approval_requests.c.id == old.id)).mappings().one())
        c.execute(approval_requests.insert(), [{**row, "id": f"later-{i}", "pending_key": None, "status": "rejected",
                                                "created_at": day_ago + 1 + i, "decided_at": day_ago + 1 + i}
                                               for i in range(600)])
    approval_flow.reject(db, approver=Actor("boss@example.com", frozenset({"approver"})), request_id=old.id,
                         note="no reason to refund this")
    w.run_once()
    assert f"approval:{old.id}:rejected" in receiver.events("approval:")


def test_a_receiver_that_fails_twice_still_gets_the_event_once(fresh, client, db):
    r = Receiver(fail=2)
    try:
        t = [time.time()]
        w = watcher(client, db, r, clock=lambda: t[0])
        w.run_once()
        p = ready_payment(fresh, client)
        fresh.deposit(p.imp_uid)
        t[0] = time.time()
        rep = w.run_once()
        assert rep.failed == 1 and r.events() == []                   # 500: kept, to retry
        w.run_once()
        assert r.tries == 1                                          # not before its backoff
        t[0] += 5.5
        w.run_once()                                                 # second try: 500 again
        t[0] += 10.5
        w.run_once()                                                 # third try: taken
        t[0] += 60
        w.run_once()
        assert r.tries == 3 and r.events("deposit:") == [f"deposit:{p.imp_uid}"]
        assert db.watch.counts() == {"sent": 1}
    finally:
        r.close()


SECRET_PATH = "/services/T0001/B0002/s3cr3tW3bh00kT0k3n"


def test_a_chat_down_for_hours_still_gets_the_event_once_and_its_secret_is_never_shown(fresh, client, db):
    """Forty 503s in a row (past ``max_attempts``, hours of backoff): the event is still delivered, once. What /admin
    and the log show names the host, never the webhook's path (its secret)."""
    r = Receiver(fail=40, status=503, path=SECRET_PATH, only="deposit:")
    try:
        t = [time.time()]
        w = Watcher(client, db, WatchConfig(targets=(r.url,), digest_at="23:59", max_attempts=3), post=post,
                    clock=lambda: t[0])
        w.run_once()
        p = ready_payment(fresh, client)
        fresh.deposit(p.imp_uid)
        errors = []
        for _i in range(45):
            t[0] += 601                                              # past the longest backoff
            errors += w.run_once().errors
        key = f"deposit:{p.imp_uid}"
        assert r.tried.count(key) == 41 and r.events("deposit:") == [key]
        shown = " ".join(errors) + json.dumps(db.watch.state()) + json.dumps(db.watch.payloads("sent"))
        assert "503" in " ".join(errors) and "127.0.0.1" in " ".join(errors)
        assert "s3cr3t" not in shown and "T0001" not in shown
    finally:
        r.close()


def test_a_webhook_that_refuses_the_message_is_given_up_and_a_dead_one_never_shows_its_path(fresh, client, db):
    """404 (a removed hook) is given up after ``max_attempts``; a webhook that does not answer at all is tried again,
    and the error kept is its host and the kind of failure — an HTTP library's message would carry the URL."""
    import socket
    hole = socket.socket()                                           # bound, never listening: connection refused
    hole.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{hole.getsockname()[1]}{SECRET_PATH}"
    r = Receiver(fail=100, status=404, path=SECRET_PATH, only="deposit:")
    try:
        t = [time.time()]
        w = Watcher(client, db, WatchConfig(targets=(r.url, dead), digest_at="23:59", max_attempts=3),
                    post=post, clock=lambda: t[0])
        w.run_once()
        p = ready_payment(fresh, client)
        fresh.deposit(p.imp_uid)
        errors = []
        for _i in range(8):
            t[0] += 601
            errors += w.run_once().errors
        assert r.tried.count(f"deposit:{p.imp_uid}") == 3                 # given up after three refusals
        assert sum("404" in e and "not tried again" in e for e in errors) == 1
        assert sum("ConnectionError" in e for e in errors) >= 8          # the dead one: tried on every pass
        assert not any("ConnectionError" in e and "not tried again" in e for e in errors)
        shown = " ".join(errors) + json.dumps(db.watch.state())
        assert "s3cr3t" not in shown and "T0001" not in shown
    finally:
        r.close()
        hole.close()


def test_a_hanging_webhook_costs_one_timeout_per_pass_and_never_holds_up_the_other(fresh, client, db):
    """Five deposits, two webhooks, one of which does not answer: in that pass the hanging one is tried once (its other
    events wait for a later pass), the healthy one gets all five; once it answers again, it gets each of them once."""
    hang = threading.Event()
    slow, ok = Receiver(hang=hang), Receiver()
    try:
        t = [time.time()]
        w = Watcher(client, db, WatchConfig(targets=(slow.url, ok.url), digest_at="23:59", deposits_each=True),
                    post=lambda url, body: requests.post(url, json=body, timeout=0.5).status_code, clock=lambda: t[0])
        w.run_once()
        paid = []
        for _i in range(5):
            paid.append(ready_payment(fresh, client))
            fresh.deposit(paid[-1].imp_uid)
        t[0] = time.time()
        rep = w.run_once()
        keys = {f"deposit:{p.imp_uid}" for p in paid}
        assert len([k for k in slow.tried if k.startswith("deposit:")]) == 1      # one timeout, not five
        assert set(ok.events("deposit:")) == keys and rep.failed == 5
        assert any("ReadTimeout" in e for e in rep.errors)
        hang.set()
        for _i in range(3):
            t[0] += 601
            w.run_once()
        assert sorted(slow.events("deposit:")) == sorted(keys) and sorted(ok.events("deposit:")) == sorted(keys)
    finally:
        hang.set()
        slow.close()
        ok.close()


def test_a_pass_reads_what_happened_since_the_last_one(fresh, client, db, receiver):
    """The money writes, approvals and exceptions are read from the last pass on (two minutes of overlap), not from
    the watcher's start every minute: a pass costs what happened since the last one."""
    t = [time.time()]
    w = watcher(client, db, receiver, clock=lambda: t[0])
    w.run_once()
    asked = []
    real = db.writes.changed_since
    db.writes.changed_since = lambda since, **kw: asked.append(since) or real(since, **kw)
    try:
        t[0] += 3600
        w.run_once()
        t[0] += 3600
        w.run_once()
    finally:
        db.writes.changed_since = real
    assert asked[1] == pytest.approx(asked[0] + 3600 - 120)           # from the last pass (less the overlap), not the start


def test_a_watcher_stopped_after_reading_but_before_claiming_loses_nothing(fresh, client, db, receiver):
    """A pass ten minutes after the last reads a deposit, then dies before claiming it; the watcher started again ten
    minutes later still reads from the last pass that claimed its events, and tells the deposit."""
    t0 = time.time()
    watcher(client, db, receiver, clock=lambda: t0).run_once()
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    crashing = watcher(client, db, receiver, clock=lambda: t0 + 600)
    crashing.log = type("Dies", (), {"set_once": db.watch.set_once, "get": db.watch.get,
                                     "set": db.watch.set, "claim_new": lambda *a: 1 / 0})()
    with pytest.raises(ZeroDivisionError):
        crashing.run_once()
    watcher(client, db, receiver, clock=lambda: t0 + 1200).run_once()
    assert receiver.events("deposit:") == [f"deposit:{p.imp_uid}"]


def test_a_pass_whose_api_read_fails_moves_no_cursor(fresh, client, db, receiver):
    """The deposits are read, then the digest's read of the API fails: nothing of that pass is claimed, so no cursor
    may move either — the next pass still tells the deposit (and the digest)."""
    import holidays

    from lib.iamport.errors import ApiUnavailable
    t0 = time.time()
    watcher(client, db, receiver, clock=lambda: t0).run_once()
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    day = datetime.fromtimestamp(t0, KST).date() + timedelta(days=1)
    while day.weekday() >= 5 or day in holidays.KR(years=day.year):          # the next business day, 10:00 KST
        day += timedelta(days=1)
    later = datetime.combine(day, datetime.min.time(), KST).replace(hour=10).timestamp()
    w = Watcher(client, db, WatchConfig(targets=(receiver.url,), digest_at="09:00"), post=post,
                clock=lambda: later)

    def down(now):
        raise ApiUnavailable("응답이 없습니다", method="GET", path="/payments/status/ready")
    real_digest, w.digest = w.digest, down
    rep = w.run_once()
    assert rep.events == 0 and rep.errors and receiver.events("deposit:") == []
    w.digest = real_digest
    w.run_once()
    assert receiver.events("deposit:") == [f"deposit:{p.imp_uid}"] and receiver.events("digest:") == [f"digest:{day}"]


def test_the_digest_for_a_fixed_clock_is_the_sandboxs_numbers(fresh, client, db, receiver):
    """Issue 31.1: what moved since the last business day (Monday: from Friday) and the same days a week earlier,
    counted by when the money moved, computed here independently from the sandbox's own payments."""
    import holidays
    kr = holidays.KR(years=range(2020, 2040))
    at = datetime.now(KST).replace(hour=9, minute=30, second=0, microsecond=0)
    while at.weekday() >= 5 or at.date() in kr or at > datetime.now(KST):    # the last business-day morning before now
        at -= timedelta(days=1)
    now = at.timestamp()
    w = Watcher(client, db, WatchConfig(targets=(receiver.url,), digest_at="09:00"), post=post,
                clock=lambda: now)
    db.recon_seen.remember({"exc-a": "불일치 · ord_1", "exc-b": "대사불능 (파일에만) · ord_2"})
    db.resolutions.resolve("exc-b", memo="PG사에 확인해 금액이 맞음을 확인함", owner="kim", summary={},
                                 actor=Actor("kim@example.com", frozenset({"operator"})), audit=db.audit)
    d = w.digest(now)
    assert d.open_exceptions == 1                                    # shown by a run, not closed
    t = int(now)
    vb = [p for p in sandbox_payments(fresh, t - 120 * 86400, t) if p["pay_method"] == "vbank"]
    pending = [p for p in vb if p["status"] == "ready" and p["started_at"] >= t - 90 * 86400]
    assert (d.pending_count, d.pending_amount) == (len(pending), sum(p["amount"] for p in pending))
    assert d.overdue_count == sum(1 for p in pending if p["vbank_date"] and p["vbank_date"] < now)
    first = at.date() - timedelta(days=1)                            # the last business day before today …
    while first.weekday() >= 5 or first in kr:
        first -= timedelta(days=1)
    assert (d.span_from, d.span_to) == (first, at.date() - timedelta(days=1))     # … to yesterday
    for back, got in ((0, d.moved), (7, d.week_before)):
        a = datetime.combine(first - timedelta(days=back), datetime.min.time(), KST).timestamp()
        b = datetime.combine(at.date() - timedelta(days=back), datetime.min.time(), KST).timestamp()
        deposits = [p["amount"] for p in vb if p["paid_at"] and a <= p["paid_at"] < b]
        refunds = [h["amount"] for p in vb if p["paid_at"] for h in p.get("cancel_history") or ()
                   if a <= h["cancelled_at"] < b and h["amount"] > 0]
        revokes = [p["amount"] for p in vb if not p["paid_at"] and p["status"] == "cancelled"
                   and a <= p["cancelled_at"] < b]
        issued = [p["amount"] for p in vb if a <= (p["vbank_issued_at"] or p["started_at"]) < b]
        assert (got.deposits, got.deposits_amount) == (len(deposits), sum(deposits))
        assert (got.refunds, got.refunds_amount) == (len(refunds), sum(refunds))
        assert (got.revokes, got.revokes_amount) == (len(revokes), sum(revokes))
        assert (got.issued, got.issued_amount) == (len(issued), sum(issued))
    assert d.moved.deposits > 0 and d.week_before.issued > 0        # the seed has something to count
    w.run_once()
    w.run_once()
    got = [b for b in receiver.accepted if b["event"].startswith("digest:")]
    assert [b["event"] for b in got] == [f"digest:{at.date()}"]                      # once a day
    text = got[0]["blocks"][0]["text"]["text"]
    assert f"Pending {d.pending_count:,} items" in text                              # units, not bare numbers
    assert f"Money deposited {d.moved.deposits:,} items" in text and "(a week earlier " in text


def sandbox_payments(sb, t_from: int, t_to: int) -> list[dict]:
    """Every payment started in [t_from, t_to], read straight from the sandbox's API (90-day windows, 1000 a page)."""
    out: dict[str, dict] = {}
    a = t_from
    while a <= t_to:
        b = min(t_to, a + 89 * 86400)
        page = 1
        while page:
            body = sb.api("GET", "/payments/status/all", params={"limit": 1000, "page": page, "from": a,
                                                                  "to": b}).json()["response"]
            out.update({p["imp_uid"]: p for p in body["list"]})
            page = body["next"]
        a = b + 1
    return list(out.values())


def test_a_deposit_refunded_later_stays_the_day_it_was_paid(fresh, client, db):
    """Saturday's deposit refunded on Monday: Saturday keeps its deposit, Monday gets the refund (issue 31.1)."""
    from lib.domain import since
    sat = datetime(2026, 12, 5, 14, 0, tzinfo=KST).timestamp()
    mon = datetime(2026, 12, 7, 8, 0, tzinfo=KST).timestamp()
    p = {"pay_method": "vbank", "status": "cancelled", "amount": 500_000, "paid_at": int(sat), "started_at": 1,
         "cancelled_at": int(mon), "cancel_history": [{"amount": 500_000, "cancelled_at": int(mon)}]}
    weekend = since.moved([p], *since.span(datetime(2026, 12, 7).date()))          # Monday: Friday to Sunday
    assert (weekend.deposits, weekend.deposits_amount, weekend.refunds) == (1, 500_000, 0)
    tuesday = since.moved([p], *since.span(datetime(2026, 12, 8).date()))          # Tuesday: Monday
    assert (tuesday.deposits, tuesday.refunds, tuesday.refunds_amount) == (0, 1, 500_000)


def test_slack_markup_from_outside_stays_text():
    w = Watcher.__new__(Watcher)
    w.cfg = WatchConfig(targets=(), public_url="https://desk.example")
    m = w.message(Event("x", "<!channel> *주문* <https://evil.example|click>", "/payment?imp_uid=imp_1"))
    assert "<!channel>" not in m["text"] and "&lt;!channel&gt;" in m["text"]
    assert m["blocks"][0]["text"] == {"type": "plain_text", "text": "<!channel> *주문* <https://evil.example|click>"}
    assert m["blocks"][1]["elements"][0]["url"] == "https://desk.example/payment?imp_uid=imp_1"
    assert slack_escape("a & b") == "a &amp; b"


@pytest.mark.process          # starts `python -m watcher` twice: in make test, not in make test-fast
def test_the_watcher_process_tells_a_deposit_once_across_restarts(fresh, client, tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    env = dict(os.environ, IAMPORT_API_URL=fresh.url, AUDIT_DB_URL=db, VBANK_WEBHOOK_URL=receiver.url,
               VBANK_SECRETS_FILE="/nonexistent", VBANK_RULES_FILE="/nonexistent", VBANK_DIGEST_AT="23:59")
    run = lambda: subprocess.run([sys.executable, "-m", "watcher", "--once"], cwd=ROOT, env=env,  # noqa: E731
                                 capture_output=True, text=True, timeout=120)
    first = run()
    assert first.returncode == 0, first.stderr
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    for _ in range(2):
        r = run()
        assert r.returncode == 0, r.stderr
    assert receiver.events("deposit:") == [f"deposit:{p.imp_uid}"]
    nothing = subprocess.run([sys.executable, "-m", "watcher", "--once"], cwd=ROOT, capture_output=True, text=True,
                             env={k: v for k, v in env.items() if k != "VBANK_WEBHOOK_URL"}, timeout=60)
    assert nothing.returncode == 2 and "VBANK_WEBHOOK_URL" in nothing.stderr


def test_a_reconciliation_exception_still_open_after_n_days_is_told_once(fresh, client, db, receiver):
    """Exceptions the reconciliation page showed are kept; three days later the open ones are told (closed ones not)."""
    db.recon_seen.remember({"exc-open": "불일치 · 2026-11-20 · ord_1 · 금액 불일치",
                                  "exc-closed": "대사불능 (파일에만) · 2026-11-20 · ord_2"})
    db.resolutions.resolve("exc-closed", memo="PG사에 확인해 금액이 맞음을 확인함", owner="kim", summary={},
                                 actor=Actor("kim@example.com", frozenset({"operator"})), audit=db.audit)
    later = [time.time()]
    w = Watcher(client, db, WatchConfig(targets=(receiver.url,), digest_at="23:59"), post=post,
                clock=lambda: later[0])
    w.run_once()
    assert receiver.events("recon_open:") == []                      # not yet three days
    later[0] += 3 * 86400 + 60
    w.run_once()
    w.run_once()
    assert receiver.events("recon_open:") == ["recon_open:exc-open"]


def test_deposits_of_one_pass_are_told_in_one_message_with_names_not_codes(fresh, client, db, receiver, korean):
    """Issue 31.1: three deposits in one pass are one message listing each (amount, buyer masked, PG trade name,
    order), in Korean; none is told again; a setting asks for one message each."""
    from lib.domain.names import PG_NAMES
    w = watcher(client, db, receiver)
    w.run_once()
    paid = []
    for _i in range(3):
        paid.append(ready_payment(fresh, client, pg=None))
        fresh.deposit(paid[-1].imp_uid)
    w.run_once()
    w.run_once()
    msgs = [b for b in receiver.accepted if b["event"].startswith(("deposit:", "deposits:"))]
    assert len(msgs) == 1 and msgs[0]["event"].startswith("deposits:")
    text = msgs[0]["blocks"][0]["text"]["text"]
    assert text.startswith("새 입금 3건, 모두 ₩")
    for p in paid:
        assert p.merchant_uid in text and p.buyer_name not in text and p.imp_uid not in text
        assert PG_NAMES[p.pg_provider] in text and f"({p.pg_provider})" not in text
    each = Receiver()
    try:
        w2 = Watcher(client, db, WatchConfig(targets=(each.url,), digest_at="23:59", deposits_each=True),
                     post=post)
        w2.run_once()
        more = []
        for _i in range(2):
            more.append(ready_payment(fresh, client))
            fresh.deposit(more[-1].imp_uid)
        w2.run_once()
        assert sorted(each.events("deposit")) == sorted(f"deposit:{p.imp_uid}" for p in paid + more)   # one each
    finally:
        each.close()


def test_a_late_payout_is_told_once_and_only_with_a_matched_statement(fresh, client, db, receiver):
    """Issue 31.2: without a stored bank statement nothing is claimed; with one covering the payout day and nothing
    from that PG, the watcher tells the late payout once."""
    from lib.domain.digest import Ahead, LatePayout
    from lib.services.watcher import STATEMENT_KEY
    day = datetime(2026, 12, 4).date()
    calls = []

    def ahead(payments, stored, now):
        calls.append(stored)
        late = (LatePayout(day, "토스페이먼츠", "토스페이먼츠", 109_670),) if stored else ()
        return Ahead((), len(late), 109_670 * len(late), day if stored else None, late)
    t = [time.time()]
    w = Watcher(client, db, WatchConfig(targets=(receiver.url,), digest_at="23:59"), post=post,
                clock=lambda: t[0], ahead=ahead)
    w.run_once()
    assert receiver.events("payout_late:") == [] and calls == []                 # no statement: not even asked
    db.watch.set(STATEMENT_KEY, '{"first": "2026-12-01", "last": "2026-12-04", "received": []}')
    t[0] += 60
    w.run_once()
    t[0] += 60
    w.run_once()                                                                 # same day, same statement: once
    assert receiver.events("payout_late:") == [f"payout_late:{day}:토스페이먼츠"]
    msg = next(b for b in receiver.accepted if b["event"].startswith("payout_late:"))
    assert "₩109,670" in msg["text"] and "tosspayments" not in msg["text"]
    assert len(calls) == 1
