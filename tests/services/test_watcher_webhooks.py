"""The watcher with PortOne's webhooks (issue 34 part 4): ``python -m watcher`` with ``PORTONE_WEBHOOK_PORT`` receives
the real V2 sandbox's signed webhooks — a forged or old one refused with a 4xx and nothing recorded, a valid one
recorded once and its payment re-read into the payments mirror at once (not at the next pass) — and stops on SIGTERM;
and a payment paid in the API without its webhook is told to the team once, only while a receiver runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from lib.db.appdb import AppDb
from lib.db.mirror import Mirror
from lib.services import webhooks
from lib.services.watcher import WatchConfig, Watcher
from tests.conftest import ready_payment
from tests.helpers import ROOT, free_port
from tests.services.test_watcher import Receiver, post
from tests.services.test_webhooks import OTHER_SECRET


def _wait(what, timeout: float, proc: subprocess.Popen, log) -> object:
    """Poll ``what()`` until truthy: the watcher is another process working at its own pace."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        assert proc.poll() is None, log()
        time.sleep(0.2)          # polling another process, not papering over a race
    raise AssertionError("timed out\n" + log())


@pytest.fixture
def chat():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.process
def test_the_watcher_receives_v2_webhooks_refuses_forged_and_old_ones_and_refreshes_the_mirror(
        fresh, sandbox_v2, tmp_path, chat):
    from tests.v2.harness import WEBHOOK_SECRET
    sandbox_v2.reset()
    port = free_port()
    hook = f"http://127.0.0.1:{port}/portone/webhook"
    audit_url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IAMPORT_", "VBANK_", "AUDIT_", "PORTONE_"))}
    env.update(IAMPORT_API_URL=fresh.url, PORTONE_V2_API_URL=sandbox_v2.url, PORTONE_V2_WEBHOOK_SECRET=WEBHOOK_SECRET,
               PORTONE_WEBHOOK_PORT=str(port), AUDIT_DB_URL=audit_url, VBANK_MIRROR=str(tmp_path / "mirror"),
               VBANK_WEBHOOK_URL=chat.url, VBANK_WATCH_INTERVAL="3600", VBANK_DIGEST_AT="23:59", VBANK_LANG="en",
               VBANK_SECRETS_FILE=str(tmp_path / "none.toml"), VBANK_RULES_FILE=str(tmp_path / "none.toml"))
    log_path = tmp_path / "watcher.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "watcher"], cwd=ROOT, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)

    def log() -> str:
        return log_path.read_text(errors="replace")[-4000:]
    db = AppDb(audit_url)
    mirror = Mirror(str(tmp_path / "mirror"))

    def status_in_mirror(pid: str) -> str | None:
        got = mirror.read(("imp_uid", "status"), ids=[pid], api="v2").to_pylist()
        return got[0]["status"] if got else None
    try:
        _wait(lambda: db.watch.get("last_run"), 120, proc, log)            # first pass: both mirrors synced
        assert db.mirror_sync.get("v2").get("last_ok_at") and db.watch.get(webhooks.LISTENING_SINCE)
        pid = sandbox_v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="KCP_V2",
                              where=lambda p: p["sandbox"]["expires"] > time.time() + 3600)["id"]
        assert status_in_mirror(pid) == "ready"
        sandbox_v2.deposit(pid)                     # paid in the API; the watcher's next pass is an hour away

        forged = sandbox_v2.send_webhook(url=hook, type="Transaction.Paid", paymentId=pid, secret=OTHER_SECRET)
        old = sandbox_v2.send_webhook(url=hook, type="Transaction.Paid", paymentId=pid,
                                      timestamp=int(time.time()) - 600)
        assert (forged["status"], old["status"]) == (400, 400)
        assert webhooks.receipts(db).latest() == [] and status_in_mirror(pid) == "ready"

        sent = sandbox_v2.send_webhook(url=hook, type="Transaction.Paid", paymentId=pid)
        assert sent["status"] == 200
        assert [(r["api"], r["imp_uid"], r["kind"], r["status"]) for r in webhooks.receipts(db).latest()] == [
            ("v2", pid, "Transaction.Paid", "paid")]
        assert status_in_mirror(pid) == "paid"     # re-read into the mirror by the webhook, not by a sync
        again = requests.post(hook, data=sent["body"].encode(), headers=sent["headers"], timeout=10)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert len(webhooks.receipts(db).latest()) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert rc == 0, log()
    with pytest.raises(requests.ConnectionError):            # the receiver stopped with it
        requests.post(hook, data=b"{}", timeout=5)


def test_a_payment_paid_without_its_webhook_is_told_once_and_only_with_a_receiver(fresh, client, db, chat, korean):
    cfg = WatchConfig(targets=(chat.url,), digest_at="23:59", webhook_missing_min=1)
    later = lambda: time.time() + 120                      # noqa: E731 - two minutes on: past the one minute allowed
    no_receiver = Watcher(client, db, cfg, post=post, clock=later)
    with_receiver = Watcher(client, db, cfg, post=post, clock=later,
                            paid_recently=lambda now: webhooks.recent_paid({"v1": client}, now))
    with_receiver.run_once()                              # starts watching
    webhooks.listening(db, time.time() - 1, within_minutes=1)
    quiet = ready_payment(fresh, client)
    heard = ready_payment(fresh, client, pg="kcp")
    for p in (quiet, heard):
        fresh.deposit(p.imp_uid)
    got = webhooks.receive_v1(client, db, f'{{"imp_uid": "{heard.imp_uid}", "status": "paid"}}'.encode())
    assert got.payment is not None and got.payment.status == "paid"

    no_receiver.run_once()
    assert chat.events("no_webhook:") == []               # no receiver: no complaint
    for _ in range(2):
        with_receiver.run_once()
    assert chat.events("no_webhook:") == [f"no_webhook:v1:{quiet.imp_uid}"]       # told once; the heard one not
    msg = next(b for b in chat.accepted if b["event"] == f"no_webhook:v1:{quiet.imp_uid}")
    assert "2분째 포트원 웹훅이 오지 않았습니다(웹훅 미수신)" in msg["text"]                  # in Korean, as the team reads
    assert "헥토파이낸셜(세틀뱅크)" in msg["text"] and f"imp_uid={quiet.imp_uid}" in msg["text"]
    assert quiet.buyer_name not in msg["text"]                                      # the buyer's name masked
