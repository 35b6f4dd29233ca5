"""The PortOne V2 sandbox (``python -m sandbox --api v2``) as a real process on a free loopback port, with its
controls, for the contract tests and for anyone testing a V2 client against it (fixture ``sandbox_v2``)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from devtools.processes import ROOT, SESSION_ANCHOR, start_on_free_port

SECRET, STORE_ID = "sandbox_v2_secret", "store-sandbox"
WEBHOOK_SECRET = "whsec_c2FuZGJveF92Ml93ZWJob29rX3NlY3JldA=="      # the sandbox's default (base64 of a test key)
ASYNC_PG = "KSNET"                                                  # the PG whose cancels stay REQUESTED


class SandboxV2:
    def __init__(self, *args: str, payments: int = 400, seed: int = 7):
        self.seed, self.payments = seed, payments
        self.log_file = tempfile.NamedTemporaryFile(prefix="sandbox-v2-", suffix=".log", delete=False)

        def start(port: int) -> subprocess.Popen:
            cmd = [sys.executable, "-m", "sandbox", "--api", "v2", "--port", str(port), "--db", ":memory:",
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

    def client(self, secret: str = SECRET, store_id: str | None = STORE_ID):
        """The official SDK's payment client pointed at this sandbox."""
        from portone_server_sdk import PaymentClient
        return PaymentClient(secret=secret, base_url=self.url, store_id=store_id)

    # ---------------------------------------------------------------- controls
    def _post(self, path: str, **body) -> dict:
        r = self.http.post(self.url + path, json=body, timeout=30)
        r.raise_for_status()
        return r.json()

    def reset(self, **kw) -> dict:
        return self._post("/sandbox/reset", **{"seed": self.seed, "payments": self.payments, "anchor": SESSION_ANCHOR,
                                               **kw})

    def fault(self, **rule) -> None:
        self._post("/sandbox/faults", **rule)

    def clear_faults(self) -> None:
        self.http.delete(self.url + "/sandbox/faults").raise_for_status()

    def requests_seen(self, path_prefix: str = "/", method: str | None = None) -> list[dict]:
        params = {"path_prefix": path_prefix, **({"method": method} if method else {})}
        return self.http.get(self.url + "/sandbox/requests", params=params).json()["requests"]

    def clear_requests(self) -> None:
        self.http.delete(self.url + "/sandbox/requests").raise_for_status()

    def all_payments(self, **filters: str) -> list[dict]:
        """Every payment (status / pg / method filters), oldest first, each with its ``sandbox`` extras."""
        return self.http.get(self.url + "/sandbox/payments", params=filters).json()["payments"]

    def payment(self, payment_id: str) -> dict:
        r = self.http.get(self.url + f"/sandbox/payments/{payment_id}")
        r.raise_for_status()
        return r.json()

    def pick(self, status: str, *, pg: str | None = None, method: str = "VIRTUAL_ACCOUNT", where=None) -> dict:
        filters = {"status": status, "method": method, **({"pg": pg} if pg else {})}
        for p in self.all_payments(**filters):
            if where is None or where(p):
                return p
        raise LookupError(f"no {status} {method} payment of {pg}")

    def issue(self, **body) -> dict:
        """A new virtual account issued now (``pg``, ``amount``, ``dueInDays``, ``bank``, ``orderName``)."""
        return self._post("/sandbox/payments", **body)

    def deposit(self, payment_id: str, late: bool = False) -> dict:
        return self._post(f"/sandbox/payments/{payment_id}/deposit", late=late)

    def complete_cancellation(self, payment_id: str, cancellation_id: str) -> dict:
        return self._post(f"/sandbox/payments/{payment_id}/cancellations/{cancellation_id}/complete")

    def fail_cancellation(self, payment_id: str, cancellation_id: str) -> dict:
        return self._post(f"/sandbox/payments/{payment_id}/cancellations/{cancellation_id}/fail")

    def send_webhook(self, **body) -> dict:
        """POST /sandbox/webhooks/send: ``url``, ``type``, ``paymentId`` [, ``cancellationId``, ``timestamp``,
        ``secret``]; returns what was sent (body, headers) and the receiver's status."""
        return self._post("/sandbox/webhooks/send", **body)

    def webhooks_sent(self) -> list[dict]:
        return self.http.get(self.url + "/sandbox/webhooks").json()["webhooks"]

    def stats(self) -> dict:
        return self.http.get(self.url + "/sandbox/stats").json()
