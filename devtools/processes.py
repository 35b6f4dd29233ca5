"""Running the sandbox and the app as real processes on free loopback ports, for the tests and the benchmark
alike (neither imports the other's code)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The one "now" a test session's sandboxes seed from, and the day the tests count from (KST): computed once, so a
# session that runs across midnight KST does not seed on one day and look for "today" on the next.
SESSION_ANCHOR = int(os.environ.get("VBANK_TEST_ANCHOR") or time.time())
KST = timezone(timedelta(hours=9))


def session_today() -> date:
    """The KST day of SESSION_ANCHOR: "today" for tests that ask the sandbox for a period of files."""
    return datetime.fromtimestamp(SESSION_ANCHOR, KST).date()


PORT_TRIES = 5


class PortTaken(RuntimeError):
    """The port picked was taken by another process before the server bound it."""


def start_on_free_port(start: Callable[[int], subprocess.Popen], health: str, log: Callable[[], str],
                       timeout: float = 60.0) -> tuple[int, subprocess.Popen]:
    """Start a server on a free port and wait until it answers ``health``. A free port can be taken by another
    process between picking it and the server binding it (tests run in parallel): when the server exits saying its
    address is in use, it is started again on another port (at most PORT_TRIES times)."""
    for _try in range(PORT_TRIES):
        port = free_port()
        proc = start(port)
        try:
            wait_http(f"http://127.0.0.1:{port}{health}", proc, timeout=timeout)
            return port, proc
        except RuntimeError:
            if proc.poll() is None or "already in use" not in log().lower():
                raise
    raise PortTaken(f"no free port after {PORT_TRIES} tries")


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)  # polling a starting server, not papering over a race
    raise TimeoutError(f"{url} did not come up in {timeout}s")


class Sandbox:
    def __init__(self, *args: str, payments: int = 1200, seed: int = 7):
        self.seed, self.payments = seed, payments
        # stderr to a file: a pipe nobody reads fills up and freezes the server.
        self.log_file = tempfile.NamedTemporaryFile(prefix="sandbox-", suffix=".log", delete=False)

        def start(port: int) -> subprocess.Popen:
            cmd = [sys.executable, "-m", "sandbox", "--port", str(port), "--db", ":memory:",
                   "--payments", str(payments), "--seed", str(seed), "--anchor", str(SESSION_ANCHOR), *args]
            return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log_file)

        self.port, self.proc = start_on_free_port(start, "/sandbox/health", self.log)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()

    def log(self) -> str:
        return Path(self.log_file.name).read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    # sandbox-only controls
    def reset(self, **kw) -> None:
        r = self.http.post(self.url + "/sandbox/reset", json={"seed": self.seed, "payments": self.payments, **kw})
        r.raise_for_status()

    def fault(self, **rule) -> None:
        self.http.post(self.url + "/sandbox/faults", json=rule).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(self.url + "/sandbox/faults").raise_for_status()

    def faults(self) -> list[dict]:
        return self.http.get(self.url + "/sandbox/faults").json()["faults"]

    def requests_seen(self, path_prefix: str = "/", method: str | None = None) -> list[dict]:
        params = {"path_prefix": path_prefix}
        if method:
            params["method"] = method
        return self.http.get(self.url + "/sandbox/requests", params=params).json()["requests"]

    def clear_requests(self) -> None:
        self.http.delete(self.url + "/sandbox/requests").raise_for_status()

    def deposit(self, imp_uid: str) -> dict:
        r = self.http.post(self.url + f"/sandbox/vbanks/{imp_uid}/deposit")
        r.raise_for_status()
        return r.json()["response"]

    def expire_tokens(self) -> None:
        self.http.post(self.url + "/sandbox/tokens/expire").raise_for_status()

    def refunds(self, imp_uid: str) -> list[dict]:
        return self.http.get(self.url + f"/sandbox/payments/{imp_uid}/refunds").json()["refunds"]

    # the API itself, the way an outside caller sees it
    def token(self) -> str:
        r = self.http.post(self.url + "/users/getToken", json={"imp_key": "sandbox_key", "imp_secret": "sandbox_secret"})
        return r.json()["response"]["access_token"]

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": self.token(), **kw.pop("headers", {})}
        return self.http.request(method, self.url + path, headers=headers, **kw)

    def all_payments(self, status: str = "all") -> list[dict]:
        out, page = [], 1
        now = int(time.time())
        while True:
            r = self.api("GET", f"/payments/status/{status}",
                         params={"limit": 1000, "page": page, "from": now - 90 * 86400 + 60, "to": now + 60})
            body = r.json()["response"]
            out.extend(body["list"])
            if not body["next"]:
                return out
            page = body["next"]

    def pending_vbanks(self) -> list[dict]:
        return [p for p in self.all_payments("ready") if p["pay_method"] == "vbank"]

    def pick(self, *, status: str, pay_method: str = "vbank", pg: str | set | None = None, where=None) -> dict:
        pgs = {pg} if isinstance(pg, str) else pg
        for p in self.all_payments(status):
            if p["status"] == status and p["pay_method"] == pay_method and (pgs is None or p["pg_provider"] in pgs) \
                    and (where is None or where(p)):
                return p
        raise LookupError(f"no {status} {pay_method} payment for {pg}")


def settings_for(sandbox: Sandbox, **over):
    from lib.domain.settings import load_settings
    env = {"IAMPORT_API_URL": sandbox.url, "VBANK_SECRETS_FILE": "/nonexistent",
           "VBANK_RULES_FILE": "/nonexistent"}
    s = load_settings(env=env)
    for k, v in over.items():
        setattr(s, k, v)
    return s




CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               # a page's timers (st.fragment(run_every=…) is the browser's own timer) run at full rate even when
               # the window counts as hidden on a loaded machine
               "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
               "--disable-backgrounding-occluded-windows"]
READY = "[data-testid=stApp][data-test-script-state=notRunning]"


class App:
    def __init__(self, sandbox: Sandbox, tmp: Path, **env):
        self.audit_url = f"sqlite:///{tmp / 'audit.sqlite3'}"
        self.audit_url = env.pop("AUDIT_DB_URL", self.audit_url)
        # The browser tests reset the sandbox between tests, which no real API does: the payments mirror (its own
        # tests start an app with it on: VBANK_MIRROR=<folder>) is off unless a test asks for it.
        env.setdefault("VBANK_MIRROR", "off")
        e = dict(os.environ, IAMPORT_API_URL=sandbox.url, AUDIT_DB_URL=self.audit_url,
                 VBANK_SECRETS_FILE=str(tmp / "none.toml"), VBANK_OPERATOR="e2e@example.com", **env)
        self.log = open(tmp / "app.log", "wb")

        def start(port: int) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
                 "--browser.gatherUsageStats", "false"], cwd=ROOT, env=e, stdout=self.log, stderr=subprocess.STDOUT)

        self.port, self.proc = start_on_free_port(start, "/_stcore/health",
                                                  lambda: (tmp / "app.log").read_text(errors="replace"), timeout=90)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


