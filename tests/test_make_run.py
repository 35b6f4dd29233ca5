"""`make run` as a person starts it (issue 22): with VBANK_WEBHOOK_URL set, the watcher runs beside the sandbox and the
app, and a deposit made in the sandbox reaches the webhook once; Ctrl+C (SIGINT to the group) stops all three.
Issue 34: the V2 sandbox answers beside the V1 one, the app and the watcher are pointed at it (and at the same payments
mirror), and the watcher receives PortOne's webhooks: a V2 deposit's signed webhook, posted by the V2 sandbox itself,
is recorded and the watcher keeps the V2 mirror too."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from devtools.processes import free_port, wait_http
from lib.db.appdb import AppDb
from lib.services import webhooks
from tests.helpers import ROOT
from tests.services.test_watcher import Receiver

pytestmark = pytest.mark.process


def _wait(what, timeout: float, proc: subprocess.Popen, log) -> object:
    """Poll ``what()`` until it is truthy (a separate process works at its own pace: its interval is 5 s here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        assert proc.poll() is None, log()
        time.sleep(0.2)          # polling another process, not papering over a race
    raise AssertionError("timed out\n" + log())


def test_make_run_with_a_webhook_starts_the_watcher_beside_the_app(tmp_path):
    receiver = Receiver()
    sb_port, app_port, sb2_port = free_port(), free_port(), free_port()
    audit_url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IAMPORT_", "VBANK_", "AUDIT_", "PORTONE_"))}
    hook_port = free_port()
    env.update(VBANK_WEBHOOK_URL=receiver.url, VBANK_WATCH_INTERVAL="5", AUDIT_DB_URL=audit_url,
               VBANK_SECRETS_FILE=str(tmp_path / "none.toml"), VBANK_DIGEST_AT="23:59",
               VBANK_MIRROR=str(tmp_path / "mirror"))
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(["make", "--no-print-directory", "run", f"SANDBOX_PORT={sb_port}",
                                 f"APP_PORT={app_port}", f"SANDBOX_DB={tmp_path / 'sandbox.sqlite3'}",
                                 f"SANDBOX_V2_PORT={sb2_port}", f"SANDBOX_V2_DB={tmp_path / 'sandbox_v2.sqlite3'}",
                                 f"PORTONE_WEBHOOK_PORT={hook_port}"],
                                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)

    def log() -> str:
        return log_path.read_text(errors="replace")[-4000:]
    try:
        wait_http(f"http://127.0.0.1:{sb_port}/sandbox/health", proc, timeout=90)
        wait_http(f"http://127.0.0.1:{sb2_port}/sandbox/health", proc, timeout=90)     # the V2 sandbox beside it
        wait_http(f"http://127.0.0.1:{app_port}/_stcore/health", proc, timeout=90)
        assert "watcher: posting to VBANK_WEBHOOK_URL" in log()
        app_env = next(_environ(p) for p in _group(proc.pid) if _is_streamlit(_cmdline(p).split(b"\0")))
        assert app_env.get("PORTONE_V2_API_URL") == f"http://127.0.0.1:{sb2_port}"      # the desk uses the V2 sandbox
        assert app_env.get("PORTONE_V2_WEBHOOK_SECRET", "").startswith("whsec_")
        assert app_env.get("VBANK_MIRROR") == str(tmp_path / "mirror")
        watcher_env = next(_environ(p) for p in _group(proc.pid) if _is_watcher(_cmdline(p).split(b"\0")))
        assert (watcher_env.get("PORTONE_WEBHOOK_PORT"), watcher_env.get("PORTONE_V2_API_URL"),
                watcher_env.get("VBANK_MIRROR")) == (str(hook_port), f"http://127.0.0.1:{sb2_port}", app_env["VBANK_MIRROR"])
        db = AppDb(audit_url)
        _wait(lambda: db.watch.get("last_run"), 60, proc, log)            # the watcher's first pass is done
        assert "PortOne webhooks received on" in log()
        _wait(lambda: db.mirror_sync.get("v2").get("last_ok_at"), 60, proc, log)     # the V2 mirror kept too
        sb2 = f"http://127.0.0.1:{sb2_port}"
        issued = next(p for p in requests.get(sb2 + "/sandbox/payments", timeout=10, params={
            "status": "VIRTUAL_ACCOUNT_ISSUED", "method": "VIRTUAL_ACCOUNT"}).json()["payments"]
            if p["sandbox"]["expires"] > time.time() + 3600)
        requests.post(sb2 + f"/sandbox/payments/{issued['id']}/deposit", json={}, timeout=10).raise_for_status()
        _wait(lambda: [r for r in webhooks.receipts(db).latest() if r["imp_uid"] == issued["id"]], 30, proc, log)
        got = [(r["api"], r["kind"], r["status"]) for r in webhooks.receipts(db).latest() if r["imp_uid"] == issued["id"]]
        assert got == [("v2", "Transaction.Paid", "paid")]        # sent by the V2 sandbox, verified, re-read
        sb = f"http://127.0.0.1:{sb_port}"
        token = requests.post(sb + "/users/getToken", json={"imp_key": "sandbox_key", "imp_secret": "sandbox_secret"},
                              timeout=10).json()["response"]["access_token"]
        now = int(time.time())
        ready = requests.get(sb + "/payments/status/ready", headers={"Authorization": token}, timeout=10,
                             params={"limit": 100, "from": now - 80 * 86400, "to": now}).json()["response"]["list"]
        imp_uid = next(p["imp_uid"] for p in ready if p["pay_method"] == "vbank")
        requests.post(sb + f"/sandbox/vbanks/{imp_uid}/deposit", timeout=10).raise_for_status()
        _wait(lambda: f"deposit:{imp_uid}" in receiver.events("deposit:"), 60, proc, log)
        passes = db.watch.get("last_run")
        _wait(lambda: db.watch.get("last_run") != passes, 30, proc, log)   # one more pass: still told once
        assert receiver.events("deposit:").count(f"deposit:{imp_uid}") == 1
    finally:
        os.killpg(proc.pid, signal.SIGINT)                                   # Ctrl+C in the terminal
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        receiver.close()
    # nothing of the group is left running (make waits for its children; a zombie is reaped by its parent's exit)
    deadline = time.monotonic() + 20
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)          # polling other processes' exit
    assert _group(proc.pid) == [], _ps(_group(proc.pid))


def _ps(pids: list[int]) -> list[str]:
    out = []
    for p in pids:
        try:
            out.append(f"{p}: " + open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            out.append(f"{p}: gone")
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return b""


def _is_streamlit(argv: list[bytes]) -> bool:
    """The app's own process (python .venv/bin/streamlit run ...), not the shell whose script names it."""
    return b"-c" not in argv and any(a.endswith(b"/streamlit") for a in argv)


def _is_watcher(argv: list[bytes]) -> bool:
    """The watcher's own process (python -m watcher)."""
    return [a for a in argv if a][-2:] == [b"-m", b"watcher"]


def _environ(pid: int) -> dict[str, str]:
    raw = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
    return dict(kv.split("=", 1) for kv in raw.split("\0") if "=" in kv)


def _group(pgid: int) -> list[int]:
    """The processes still in process group ``pgid`` (read from /proc: no procps needed)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.getpgid(int(d)) == pgid:
                    out.append(int(d))
            except ProcessLookupError:
                pass
    return out
