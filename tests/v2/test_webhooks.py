"""The V2 sandbox's webhooks, checked by the official SDK's own verifier (``portone_server_sdk.webhook.verify``,
Standard Webhooks): a webhook it signs with the configured secret is accepted as the right type and payment; the
same request under another secret, with a changed body, or replayed after the SDK's five-minute tolerance is
refused. And with ``--webhook-url`` the sandbox posts a state change on its own (a deposit, an async cancel's
outcome)."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from portone_server_sdk import webhook
from portone_server_sdk.webhook import (
    WebhookTransactionCancelledCancelled,
    WebhookTransactionCancelledCancelPending,
    WebhookTransactionPaid,
    WebhookVerificationError,
)

from tests.v2.harness import ASYNC_PG, WEBHOOK_SECRET, SandboxV2

OTHER_SECRET = "whsec_b3RoZXItc2VjcmV0LW9mLWFub3RoZXItc3RvcmU="


class Receiver:
    """An HTTP endpoint on loopback that keeps each POST's raw body and headers."""

    def __init__(self) -> None:
        self.got: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                outer.got.put((body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/portone"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout: float = 15) -> tuple[str, dict[str, str]]:
        return self.got.get(timeout=timeout)          # waits for the webhook to arrive, no fixed sleep

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_a_sent_webhook_verifies_with_the_sdk_and_names_the_payment(sandbox_v2, receiver):
    p = sandbox_v2.pick("PAID")
    sent = sandbox_v2.send_webhook(url=receiver.url, type="Transaction.Paid", paymentId=p["id"])
    assert sent["status"] == 200
    body, headers = receiver.next()
    assert headers["webhook-signature"].startswith("v1,") and headers["webhook-id"]
    hook = webhook.verify(WEBHOOK_SECRET, body, headers)
    assert isinstance(hook, WebhookTransactionPaid)
    assert (hook.data.payment_id, hook.data.store_id, hook.data.transaction_id) == (
        p["id"], "store-sandbox", p["transactionId"])
    assert json.loads(body)["type"] == "Transaction.Paid"


def test_a_forged_or_changed_webhook_is_refused_by_the_sdk(sandbox_v2, receiver):
    p = sandbox_v2.pick("PAID")
    sandbox_v2.send_webhook(url=receiver.url, type="Transaction.Paid", paymentId=p["id"])
    body, headers = receiver.next()
    with pytest.raises(WebhookVerificationError) as e:
        webhook.verify(OTHER_SECRET, body, headers)                        # the receiver's secret is another
    assert e.value.reason == "NO_MATCHING_SIGNATURE"
    forged = body.replace(p["id"], sandbox_v2.pick("CANCELLED")["id"])
    with pytest.raises(WebhookVerificationError):
        webhook.verify(WEBHOOK_SECRET, forged, headers)                    # another payment under the same signature
    signed_elsewhere = sandbox_v2.send_webhook(type="Transaction.Paid", paymentId=p["id"], secret=OTHER_SECRET)
    with pytest.raises(WebhookVerificationError):
        webhook.verify(WEBHOOK_SECRET, signed_elsewhere["body"], signed_elsewhere["headers"])
    assert webhook.verify(OTHER_SECRET, signed_elsewhere["body"], signed_elsewhere["headers"])


def test_a_replayed_webhook_is_refused_as_too_old(sandbox_v2, receiver):
    p = sandbox_v2.pick("PAID")
    old = int(time.time()) - 10 * 60                                      # past the SDK's 5-minute tolerance
    sandbox_v2.send_webhook(url=receiver.url, type="Transaction.Paid", paymentId=p["id"], timestamp=old)
    body, headers = receiver.next()
    assert headers["webhook-timestamp"] == str(old)
    with pytest.raises(WebhookVerificationError) as e:
        webhook.verify(WEBHOOK_SECRET, body, headers)
    assert e.value.reason == "TIMESTAMP_TOO_OLD"
    ahead = sandbox_v2.send_webhook(type="Transaction.Paid", paymentId=p["id"], timestamp=int(time.time()) + 600)
    with pytest.raises(WebhookVerificationError) as e:
        webhook.verify(WEBHOOK_SECRET, ahead["body"], ahead["headers"])
    assert e.value.reason == "TIMESTAMP_TOO_NEW"


def test_the_sender_refuses_an_unknown_type_or_payment(sandbox_v2):
    for body in ({"type": "Transaction.Nope", "paymentId": sandbox_v2.pick("PAID")["id"]},
                 {"type": "Transaction.Paid", "paymentId": "no-such-payment"},
                 {"type": "Transaction.Paid", "paymentId": sandbox_v2.pick("PAID")["id"], "secret": "whsec_!!"}):
        r = sandbox_v2.http.post(sandbox_v2.url + "/sandbox/webhooks/send", json=body)
        assert r.status_code in (400, 404) and r.json()["type"] in ("INVALID_REQUEST", "PAYMENT_NOT_FOUND"), body


def test_with_a_webhook_url_a_deposit_and_an_async_cancel_post_their_webhooks(receiver):
    sb = SandboxV2("--webhook-url", receiver.url, payments=120)
    try:
        sdk = sb.client()
        issued = sb.pick("VIRTUAL_ACCOUNT_ISSUED", where=lambda p: p["sandbox"]["expires"] > time.time())
        sb.deposit(issued["id"])
        hook = webhook.verify(WEBHOOK_SECRET, *receiver.next())
        assert isinstance(hook, WebhookTransactionPaid) and hook.data.payment_id == issued["id"]

        p = sb.pick("PAID", pg=ASYNC_PG, where=lambda p: not p.get("cancellations"))
        c = sdk.cancel_payment(payment_id=p["id"], reason="환불", current_cancellable_amount=p["amount"]["total"],
                               refund_account=webhook_refund()).cancellation
        pending = webhook.verify(WEBHOOK_SECRET, *receiver.next())
        assert isinstance(pending, WebhookTransactionCancelledCancelPending)
        assert (pending.data.payment_id, pending.data.cancellation_id) == (p["id"], c.id)
        sb.complete_cancellation(p["id"], c.id)
        done = webhook.verify(WEBHOOK_SECRET, *receiver.next())
        assert isinstance(done, WebhookTransactionCancelledCancelled) and done.data.cancellation_id == c.id
    finally:
        sb.stop()


def webhook_refund():
    from portone_server_sdk.payment import CancelPaymentBodyRefundAccount
    return CancelPaymentBodyRefundAccount(bank="KOOKMIN", number="123456789012", holder_name="김민준")
