"""The watcher's POSTs (issue 30.5): every POST ends at a total deadline even against a receiver that trickles a
header line at a time, one slow webhook never delays the others, and the send lease always outlives the deadline.
A local receiver on 127.0.0.1 trickles header lines (a bounded loop) and records when the client cut it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from lib.db.schema import watch_sent
from lib.db.watch_log import SEND_LEASE_S
from lib.services.watcher import Event, WatchConfig, Watcher, config_from_env
from tests.conftest import ready_payment
from tests.services.test_watcher import Receiver
from watcher.post import PostDeadline, post

LINES = 60                      # the trickle's bound: 60 lines, one every 0.25 s (15 s) — far past any deadline here


class Trickler:
    """Answers every POST with a status line, then one header line every 0.25 s (up to ``LINES``), never the end of
    the headers. Records how many lines it wrote before the client cut the connection, and whether ``other`` had
    taken everything while it was still trickling."""

    def __init__(self, other_done=lambda: False, finish_on_other: bool = False):
        self.cut_after: list[int] = []              # per POST: lines written when the client went away
        self.others_done_meanwhile = False
        self.stop = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for i in range(LINES):
                        if outer.stop.wait(0.25):
                            return
                        if other_done():
                            outer.others_done_meanwhile = True
                            if finish_on_other:          # the answer ends once the other webhook has everything
                                self.wfile.write(b"Content-Length: 0\r\n\r\n")
                                self.wfile.flush()
                                outer.cut_after.append(-1)
                                return
                        self.wfile.write(f"X-Still-Thinking: {i}\r\n".encode())
                        self.wfile.flush()
                except OSError:
                    outer.cut_after.append(i)
                    return
                outer.cut_after.append(LINES)           # never cut: the client waited for all of it

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_cut(self, n: int = 1) -> None:
        """Until the handler noticed the client is gone (or its bounded loop ended)."""
        for _i in range(LINES * 2):
            if len(self.cut_after) >= n:
                return
            self.stop.wait(0.25)

    def close(self):
        self.stop.set()
        self.server.shutdown()


@pytest.fixture
def trickler():
    t = Trickler()
    yield t
    t.close()


def test_a_post_ends_at_its_deadline_against_a_receiver_that_trickles_headers(trickler):
    with pytest.raises(PostDeadline):
        post(trickler.url, {"text": "x"}, deadline_s=1.0)
    trickler.wait_cut()
    assert trickler.cut_after and trickler.cut_after[0] < LINES // 2        # cut long before the trickle ended


def test_a_post_to_a_healthy_receiver_gives_its_status():
    ok = Receiver()
    try:
        assert post(ok.url, {"event": "x", "text": "입금"}, deadline_s=5.0) == 200
        assert ok.accepted == [{"event": "x", "text": "입금"}]
    finally:
        ok.close()


def test_a_trickling_webhook_never_delays_the_other(fresh, client, db):
    """Three deposits, two webhooks: the trickler is listed first and keeps its answer open until the healthy one has
    all three (or its bounded trickle ends). Served side by side, the healthy one gets them meanwhile and the trickler
    then answers; served one after the other, the healthy one would wait for the whole trickle."""
    ok = Receiver()
    t = Trickler(other_done=lambda: len([b for b in ok.accepted if b["event"].startswith("deposit:")]) >= 3,
                 finish_on_other=True)
    try:
        cfg = WatchConfig(targets=(t.url, ok.url), digest_at="23:59", post_deadline_s=30.0, deposits_each=True)
        w = Watcher(client, db, cfg, post=lambda u, b: post(u, b, deadline_s=cfg.post_deadline_s))
        w.run_once()
        for _i in range(3):
            fresh.deposit(ready_payment(fresh, client).imp_uid)
        rep = w.run_once()
        assert len(ok.events("deposit:")) == 3
        assert t.others_done_meanwhile and t.cut_after[0] == -1      # the other webhook did not wait for this one
        assert rep.failed == 0 and rep.sent == 6
    finally:
        t.close()
        ok.close()


def test_a_trickling_webhook_is_cut_at_the_deadline_and_its_events_kept(fresh, client, db):
    ok = Receiver()
    t = Trickler()
    try:
        cfg = WatchConfig(targets=(t.url, ok.url), digest_at="23:59", post_deadline_s=2.0, deposits_each=True)
        w = Watcher(client, db, cfg, post=lambda u, b: post(u, b, deadline_s=cfg.post_deadline_s))
        w.run_once()
        for _i in range(3):
            fresh.deposit(ready_payment(fresh, client).imp_uid)
        rep = w.run_once()
        assert len(ok.events("deposit:")) == 3
        assert rep.failed == 3 and any("PostDeadline" in e for e in rep.errors)
        t.wait_cut()
        assert t.cut_after[0] < LINES // 2                   # the pass did not wait for the trickle to end
        assert db.watch.counts().get("retry", 0) == 3
    finally:
        t.close()
        ok.close()


def test_the_send_lease_outlives_the_deadline_and_counts_from_the_claim(fresh, client, db):
    with pytest.raises(ValueError):
        Watcher(client, db, WatchConfig(targets=("http://127.0.0.1:9/",), post_deadline_s=SEND_LEASE_S),
                post=lambda u, b: 200)
    assert config_from_env({"VBANK_WEBHOOK_URL": "http://x/", "VBANK_POST_DEADLINE": "900"}).post_deadline_s \
        < SEND_LEASE_S
    # A long pass (each send takes 40 s of the watcher's clock): each claim's lease counts from its own claim, so a
    # claim made late in the pass is not already expired when its POST starts.
    clock = [1_900_000_000.0]
    posted: list[float] = []

    def slow_post(url, body):
        clock[0] += 40
        posted.append(clock[0])
        return 500                                       # kept as a retry: its row keeps the claim's lease
    ok = Receiver()
    try:
        w = Watcher(client, db, WatchConfig(targets=(ok.url,), digest_at="23:59"), post=slow_post,
                    clock=lambda: clock[0])
        w.run_once()
        start = clock[0]
        w._deposits = lambda now, since: [Event(f"deposit:t{i}", "t") for i in range(3)]   # noqa: SLF001
        leases = []
        real = db.watch.claim_new

        def spy(key, target, payload, now):
            leases.append(now + SEND_LEASE_S)
            return real(key, target, payload, now)
        db.watch.claim_new = spy
        w.run_once()
        assert len(posted) == 1                          # down after the first 5xx: the other two wait
        with db.engine.connect() as c:
            rows = c.execute(select(watch_sent.c.event_key, watch_sent.c.payload)).all()
        assert {k for k, _p in rows} >= {"deposit:t0", "deposit:t1", "deposit:t2"}
        assert leases[1] > start + SEND_LEASE_S          # claimed after the first send: its lease starts then
        assert all(json.loads(p) for _k, p in rows)
    finally:
        ok.close()
