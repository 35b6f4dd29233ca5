"""PortOne's webhooks (lib/services/webhooks.py, the receiver watcher/webhooks.py): V2 verified with the official SDK's
verifier — valid accepted once, forged refused, replayed or old refused, junk refused without a crash —, V1 trusted
only as far as a re-read shows, and the paid payments whose webhook never arrived. The webhooks are signed and sent by
the real V2 sandbox over loopback."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from pydantic import SecretStr

from lib.domain.models import Payment
from lib.domain.settings import Settings
from lib.iamport.v2.client import PortOneV2Client, V2Config
from lib.iamport.v2.webhook import BadWebhook
from lib.services import webhooks
from tests.helpers import free_port

OTHER_SECRET = "whsec_" + base64.b64encode(b"somebody else's key").decode()


@pytest.fixture
def v2(sandbox_v2):
    sandbox_v2.reset()
    yield sandbox_v2
    sandbox_v2.clear_faults()


@pytest.fixture
def c(sandbox_v2):
    from tests.v2.harness import SECRET, STORE_ID
    cl = PortOneV2Client(V2Config(api_url=sandbox_v2.url, secret=SecretStr(SECRET), store_id=STORE_ID))
    yield cl
    cl.close()


@pytest.fixture
def secret():
    from tests.v2.harness import WEBHOOK_SECRET
    return SecretStr(WEBHOOK_SECRET)


def signed(v2, pid: str, kind: str = "Transaction.Paid", **kw) -> tuple[bytes, dict[str, str]]:
    """A webhook as the sandbox signs it (not posted anywhere)."""
    sent = v2.send_webhook(type=kind, paymentId=pid, **kw)
    return sent["body"].encode(), sent["headers"]


def rows(db) -> list[dict]:
    return webhooks.receipts(db).latest(500)


# ------------------------------------------------------------------ V2
def test_a_valid_webhook_is_accepted_once_and_its_payment_re_read(v2, c, db, secret):
    pid = v2.pick("PAID", pg="KCP_V2")["id"]
    body, headers = signed(v2, pid)
    got = webhooks.receive_v2(c, db, secret, body, headers, store_id="store-sandbox")
    assert not got.duplicate and got.imp_uid == pid and got.payment is not None and got.payment.status == "paid"
    assert [(r["api"], r["imp_uid"], r["kind"], r["status"]) for r in rows(db)] == [("v2", pid, "Transaction.Paid",
                                                                                      "paid")]
    again = webhooks.receive_v2(c, db, secret, body, headers, store_id="store-sandbox")   # the same message again
    assert again.duplicate and len(rows(db)) == 1


def test_the_status_recorded_is_the_apis_not_the_webhooks(v2, c, db, secret):
    pid = v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="KCP_V2")["id"]
    body, headers = signed(v2, pid, "Transaction.Paid")      # says paid; the payment still waits for its deposit
    got = webhooks.receive_v2(c, db, secret, body, headers)
    assert got.payment is not None and got.payment.status == "ready" and rows(db)[0]["status"] == "ready"


def test_a_webhook_signed_with_another_secret_is_refused_and_not_recorded(v2, c, db, secret):
    pid = v2.pick("PAID")["id"]
    body, headers = signed(v2, pid, secret=OTHER_SECRET)
    with pytest.raises(BadWebhook) as info:
        webhooks.receive_v2(c, db, secret, body, headers)
    assert info.value.reason == "NO_MATCHING_SIGNATURE" and rows(db) == []


def test_a_changed_body_is_refused(v2, c, db, secret):
    pid, other = [p["id"] for p in v2.all_payments(status="PAID")[:2]]
    body, headers = signed(v2, pid)
    forged = body.replace(pid.encode(), other.encode())
    with pytest.raises(BadWebhook, match="refused"):
        webhooks.receive_v2(c, db, secret, forged, headers)
    assert rows(db) == []


def test_an_old_webhook_replayed_is_refused(v2, c, db, secret):
    pid = v2.pick("PAID")["id"]
    body, headers = signed(v2, pid, timestamp=int(time.time()) - 3600)
    with pytest.raises(BadWebhook) as info:
        webhooks.receive_v2(c, db, secret, body, headers)
    assert info.value.reason == "TIMESTAMP_TOO_OLD" and rows(db) == []


@pytest.mark.parametrize("body, headers", [
    (b"", {}),
    (b"\xff\xfe\x00junk", {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}),
    (b"{not json", {"webhook-id": "x", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,@@"}),
    (b"[]", {"webhook-id": "x", "webhook-timestamp": "soon", "webhook-signature": "nonsense"}),
    (b"x" * 70_000, {"webhook-id": "x"}),
], ids=["empty", "not-utf8", "not-json", "bad-timestamp", "too-large"])
def test_junk_is_refused_without_a_crash(c, db, secret, body, headers):
    with pytest.raises(BadWebhook):
        webhooks.receive_v2(c, db, secret, body, headers)
    assert rows(db) == []


def test_without_a_secret_nothing_is_believed(v2, c, db):
    body, headers = signed(v2, v2.pick("PAID")["id"])
    with pytest.raises(BadWebhook) as info:
        webhooks.receive_v2(c, db, None, body, headers)
    assert info.value.reason == "NO_SECRET"


# ------------------------------------------------------------------ V1 (unsigned: re-read)
def test_a_v1_webhook_is_believed_only_as_far_as_the_re_read_shows(sandbox, client, db):
    ready = sandbox.pick(status="ready")["imp_uid"]
    got = webhooks.receive_v1(client, db, json.dumps({"imp_uid": ready, "status": "paid"}).encode())
    assert got.payment is not None and got.payment.status == "ready"
    assert (rows(db)[0]["kind"], rows(db)[0]["status"]) == ("paid", "ready")
    again = webhooks.receive_v1(client, db, json.dumps({"imp_uid": ready, "status": "paid"}).encode())
    assert again.duplicate and len(rows(db)) == 1            # one re-read a minute per payment and status
    with pytest.raises(BadWebhook):
        webhooks.receive_v1(client, db, b'{"imp_uid": "imp_no_such_payment", "status": "paid"}')
    with pytest.raises(BadWebhook):
        webhooks.receive_v1(client, db, b"merchant_uid=x")


def test_a_v1_webhook_that_cannot_be_confirmed_is_not_recorded(db):
    from lib.iamport.client import IamportClient
    down = IamportClient(Settings(api_url=f"http://127.0.0.1:{free_port()}", connect_timeout=0.5, read_timeout=0.5))
    with pytest.raises(BadWebhook) as info:
        webhooks.receive_v1(down, db, b'{"imp_uid": "imp_123", "status": "paid"}')
    assert info.value.reason == "UNCONFIRMED" and rows(db) == []


# ------------------------------------------------------------------ paid without a webhook
def _paid(imp_uid: str, paid_at: int, api: str = "v2") -> Payment:
    return Payment.model_validate({"imp_uid": imp_uid, "merchant_uid": imp_uid, "amount": 1000, "status": "paid",
                                   "paid_at": paid_at, "api_version": api})


def test_paid_payments_without_a_webhook_in_time_are_listed(db):
    now = 1_800_000_000
    store = webhooks.receipts(db)
    store.record(api="v2", imp_uid="on-time", kind="Transaction.Paid", at=now - 3000, webhook_id="m1", status="paid")
    store.record(api="v2", imp_uid="late", kind="Transaction.Paid", at=now - 100, webhook_id="m2", status="paid")
    store.record(api="v2", imp_uid="other-event", kind="Transaction.VirtualAccountIssued", at=now - 3000,
                 webhook_id="m3", status="ready")
    store.record(api="v1", imp_uid="v1-said-paid-but-was-not", kind="paid", at=now - 3000, status="ready")
    paid = [_paid("on-time", now - 3100), _paid("late", now - 3100), _paid("never", now - 3100),
            _paid("other-event", now - 3100), _paid("v1-said-paid-but-was-not", now - 3100, "v1"),
            _paid("just-now", now - 60)]
    out = webhooks.missing_webhooks(db, paid, within_minutes=10, now=now)
    assert {m.payment.imp_uid: m.webhook_at for m in out} == {"late": now - 100, "never": None, "other-event": None,
                                                              "v1-said-paid-but-was-not": None}


# ------------------------------------------------------------------ the receiver
@pytest.fixture
def receiver(sandbox_v2, c, db, secret):
    from watcher import webhooks as receiver_mod
    s = Settings(v2_api_url=sandbox_v2.url, v2_api_secret=SecretStr("unused"), v2_store_id="store-sandbox",
                 v2_webhook_secret=secret)
    port = free_port()
    server = receiver_mod.start(s, db, port=port, v2=c, v1=None, socket_timeout_s=1.0)
    yield f"http://127.0.0.1:{port}{receiver_mod.DEFAULT_PATH}"
    server.shutdown()
    server.server_close()


def test_the_receiver_takes_the_sandboxs_signed_webhook_and_survives_junk(v2, db, receiver):
    pid = v2.pick("PAID", pg="KCP_V2")["id"]
    sent = v2.send_webhook(url=receiver, type="Transaction.Paid", paymentId=pid)
    assert sent["status"] == 200 and [r["imp_uid"] for r in rows(db)] == [pid]
    assert requests.post(receiver, data=b"\x00" * 10, headers={"webhook-signature": "v1,x"}).status_code == 400
    assert requests.post(receiver, data=b"x" * 70_000).status_code == 413
    assert requests.get(receiver).status_code == 405
    assert requests.post(receiver + "/elsewhere", data=b"{}").status_code == 404
    assert requests.post(receiver, data=b'{"imp_uid": "x"}').status_code == 404         # no V1 client here
    forged = v2.send_webhook(url=receiver, type="Transaction.Paid", paymentId=pid, secret=OTHER_SECRET)
    assert forged["status"] == 400
    again = v2.send_webhook(url=receiver, type="Transaction.Paid", paymentId=pid)     # still up, a new message
    assert again["status"] == 200 and len(rows(db)) == 2


def test_a_sender_that_stalls_is_cut_off_and_the_receiver_goes_on(v2, db, receiver):
    import socket
    from urllib.parse import urlparse
    u = urlparse(receiver)
    stalled = socket.create_connection((u.hostname, u.port))
    stalled.sendall(f"POST {u.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{".encode())
    stalled.settimeout(20)
    got = stalled.recv(100)                     # without the receiver's timeout this waits 20 s and fails
    assert got == b"" or got.startswith(b"HTTP/1.0 5")
    stalled.close()
    pid = v2.pick("PAID", pg="KCP_V2")["id"]
    assert v2.send_webhook(url=receiver, type="Transaction.Paid", paymentId=pid)["status"] == 200


def test_an_async_refund_shows_requested_until_its_webhook_re_reads_it_done(v2, c, db, receiver):
    """The issue's flow: a V2 refund comes back REQUESTED (환불 요청됨); the PG completes it; PortOne's webhook
    arrives, the payment is re-read, and the desk now reads the refund as done."""
    from lib.domain.identity import Actor
    from lib.domain.rules import RefundRequest, Seen
    from lib.domain.settings import Rules
    from lib.services import refund
    from tests.v2.harness import ASYNC_PG
    want = v2.pick("PAID", pg=ASYNC_PG, where=lambda p: not p.get("cancellations") and p["amount"]["total"] >= 10_000)
    p = c.get_payment(want["id"])
    req = RefundRequest(imp_uid=p.imp_uid, amount=3_000, reason_code="CUSTOMER_REQUEST", refund_holder="홍길동",
                        refund_bank="KOOKMIN", refund_account="123456-01-234567")
    r = refund.refund_vbank(c, db, operator=Actor("kim@example.com", frozenset({"operator"})), request=req,
                            seen=Seen.of(p), rules=Rules())
    assert r.extra["cancel_status"] == "requested" and c.get_payment(p.imp_uid).cancel_amount == 0
    v2.complete_cancellation(p.imp_uid, r.extra["cancellation_id"])
    sent = v2.send_webhook(url=receiver, type="Transaction.PartialCancelled", paymentId=p.imp_uid,
                           cancellationId=r.extra["cancellation_id"])
    assert sent["status"] == 200
    got = [x for x in rows(db) if x["imp_uid"] == p.imp_uid]
    assert [(x["kind"], x["status"]) for x in got] == [("Transaction.PartialCancelled", "paid")]
    now = c.get_payment(p.imp_uid)
    assert now.cancel_amount == 3_000 and now.model_extra["cancel_requested_amount"] == 0
