"""The official PortOne V2 SDK (portone-server-sdk) against the V2 sandbox over loopback HTTP: every call the desk
makes decodes into the SDK's own types (never its raw-dict fallback), and every refusal into the SDK's own error.
A field, path, status or error type the sandbox got wrong fails here first."""

from __future__ import annotations

import time

import pytest
import requests
from portone_server_sdk import errors
from portone_server_sdk.common import PageInput, SelectedChannel
from portone_server_sdk.payment import (
    CancelledPayment,
    CancelledPaymentEvent,
    CancelPaymentBodyRefundAccount,
    FailedPayment,
    FailedPaymentCancellation,
    PaidPayment,
    PaidPaymentEvent,
    PartialCancelledPayment,
    PaymentFilterInput,
    PaymentMethodVirtualAccount,
    RequestedPaymentCancellation,
    SucceededPaymentCancellation,
    VirtualAccountIssuedPayment,
)

from devtools.processes import SESSION_ANCHOR
from tests.v2.harness import ASYNC_PG, SECRET

DAY = 86400
REFUND = CancelPaymentBodyRefundAccount(bank="SHINHAN", number="110-123-456789", holder_name="홍길동",
                                        holder_phone_number="01012345678")


def rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@pytest.fixture
def v2(sandbox_v2):
    """The shared V2 sandbox back at its seed, no faults (for tests that write)."""
    sandbox_v2.reset()
    yield sandbox_v2
    sandbox_v2.clear_faults()


@pytest.fixture
def sdk(sandbox_v2):
    return sandbox_v2.client()


def paid_untouched(v2, pg: str = "KCP_V2") -> dict:
    return v2.pick("PAID", pg=pg, where=lambda p: not p.get("cancellations") and p["amount"]["total"] >= 10_000)


# ------------------------------------------------------------------ reads
@pytest.mark.parametrize("status, cls", [("VIRTUAL_ACCOUNT_ISSUED", VirtualAccountIssuedPayment),
                                          ("PAID", PaidPayment), ("PARTIAL_CANCELLED", PartialCancelledPayment),
                                          ("CANCELLED", CancelledPayment), ("FAILED", FailedPayment)])
def test_get_payment_decodes_into_the_sdks_type_of_each_status(sandbox_v2, sdk, status, cls):
    want = sandbox_v2.pick(status)
    got = sdk.get_payment(payment_id=want["id"])
    assert isinstance(got, cls)
    assert (got.id, got.transaction_id, got.store_id) == (want["id"], want["transactionId"], "store-sandbox")
    assert isinstance(got.channel, SelectedChannel) and got.channel.pg_provider == want["channel"]["pgProvider"]
    assert got.amount.total == want["amount"]["total"] and got.currency == "KRW"
    if status != "FAILED":
        assert isinstance(got.method, PaymentMethodVirtualAccount)
        assert got.method.bank == want["method"]["bank"] and got.method.expired_at == want["method"]["expiredAt"]
    if status in ("PARTIAL_CANCELLED", "CANCELLED"):
        assert all(isinstance(c, SucceededPaymentCancellation) for c in got.cancellations)
        assert got.amount.cancelled == sum(c.total_amount for c in got.cancellations) > 0


def test_get_payment_refusals_are_the_sdks_errors_with_v2_statuses(sandbox_v2, sdk):
    with pytest.raises(errors.PaymentNotFoundError):
        sdk.get_payment(payment_id="no-such-payment")
    with pytest.raises(errors.UnauthorizedError):
        sandbox_v2.client(secret="wrong-secret").get_payment(payment_id="x")
    with pytest.raises(errors.ForbiddenError):
        sandbox_v2.client(store_id="store-somebody-else").get_payment(payment_id=sandbox_v2.pick("PAID")["id"])
    r = requests.get(sandbox_v2.url + "/payments/no-such-payment", headers={"Authorization": f"PortOne {SECRET}"})
    assert r.status_code == 404 and r.json()["type"] == "PAYMENT_NOT_FOUND"
    for header in ("PortOne wrong", f"Bearer {SECRET}", SECRET, ""):
        r = requests.get(sandbox_v2.url + "/payments/x", headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["type"] == "UNAUTHORIZED", header


def test_list_with_status_pg_and_time_filters_matches_the_sandboxs_own_count(sandbox_v2, sdk):
    everyone = sandbox_v2.all_payments()
    start, until = SESSION_ANCHOR - 30 * DAY, SESSION_ANCHOR - 5 * DAY
    want = {p["id"] for p in everyone if p["status"] in ("PAID", "PARTIAL_CANCELLED")
            and p["channel"]["pgProvider"] in ("KCP_V2", "INICIS_V2")
            and start <= _ts(p["requestedAt"]) <= until}
    assert want                                       # the filter selects something, and not everything
    f = PaymentFilterInput(status=["PAID", "PARTIAL_CANCELLED"], pg_provider=["KCP_V2", "INICIS_V2"],
                           timestamp_type="CREATED_AT", from_=rfc3339(start), until=rfc3339(until))
    first = sdk.get_payments(page=PageInput(number=0, size=5), filter=f)
    assert first.page.total_count == len(want) and first.page.size == 5
    got, number = [], 0
    while number * 5 < first.page.total_count:
        got += sdk.get_payments(page=PageInput(number=number, size=5), filter=f).items
        number += 1
    assert {p.id for p in got} == want and len(got) == len(want)
    assert [p.requested_at for p in got] == sorted((p.requested_at for p in got), reverse=True)   # newest first
    # the SDK sends a GET's input as the requestBody query parameter (JSON)
    seen = sandbox_v2.requests_seen("/payments", "GET")[-1]
    assert '"pgProvider"' in seen["params"]["requestBody"]


def test_list_by_status_change_time_uses_each_payments_last_change(sandbox_v2, sdk):
    everyone = sandbox_v2.all_payments(status="CANCELLED")
    start, until = SESSION_ANCHOR - 10 * DAY, SESSION_ANCHOR
    want = {p["id"] for p in everyone if start <= _ts(p["statusChangedAt"]) <= until}
    by_created = {p["id"] for p in everyone if start <= _ts(p["requestedAt"]) <= until}
    assert want != by_created                         # the two time types select different payments here
    got = sdk.get_payments(page=PageInput(size=1000), filter=PaymentFilterInput(
        status=["CANCELLED"], timestamp_type="STATUS_CHANGED_AT", from_=rfc3339(start), until=rfc3339(until)))
    assert {p.id for p in got.items} == want


def test_an_unimplemented_filter_is_refused_not_ignored(sdk):
    with pytest.raises(errors.InvalidRequestError):
        sdk.get_payments(filter=PaymentFilterInput(card_brand="VISA"))


def test_cursor_listing_visits_every_seeded_payment_once_oldest_first(sandbox_v2, sdk):
    everyone = {p["id"] for p in sandbox_v2.all_payments()}
    seen, cursor, pages = [], None, 0
    while True:
        r = sdk.get_all_payments_by_cursor(from_=rfc3339(SESSION_ANCHOR - 91 * DAY),
                                           until=rfc3339(SESSION_ANCHOR + DAY), cursor=cursor, size=37)
        if not r.items:
            break
        seen += [i.payment for i in r.items]
        cursor, pages = r.items[-1].cursor, pages + 1
    assert len(seen) == len(everyone) == 400 and {p.id for p in seen} == everyone
    assert pages == -(-400 // 37)
    assert [p.requested_at for p in seen] == sorted(p.requested_at for p in seen)
    assert not any(isinstance(p, dict) for p in seen)          # each one decoded into its SDK type
    with pytest.raises(errors.InvalidRequestError):
        sdk.get_all_payments_by_cursor(cursor="not-a-cursor")


def test_payment_events_by_cursor_include_a_new_deposit(v2, sdk):
    def all_events():
        out, cursor = [], None
        while True:
            r = sdk.get_all_payment_events_by_cursor(cursor=cursor, size=500,
                                                     until=rfc3339(time.time() + 60))
            if not r.items:
                return out
            out += [i.payment_event for i in r.items]
            cursor = r.items[-1].cursor
    before = all_events()
    assert len(before) == v2.stats()["events"] and len(before) > 300
    assert {type(e) for e in before} >= {PaidPaymentEvent, CancelledPaymentEvent}
    issued = v2.pick("VIRTUAL_ACCOUNT_ISSUED", where=lambda p: p["sandbox"]["expires"] > time.time())
    v2.deposit(issued["id"])
    after = all_events()
    assert after[:-1] == before and isinstance(after[-1], PaidPaymentEvent)
    assert after[-1].payment_id == issued["id"] and after[-1].event_amount == issued["amount"]["total"]


# ------------------------------------------------------------------ writes
def test_close_an_issued_virtual_account(v2, sdk):
    issued = v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="TOSSPAYMENTS")
    closed = sdk.close_virtual_account(payment_id=issued["id"])
    got = sdk.get_payment(payment_id=issued["id"])
    assert isinstance(got, CancelledPayment) and got.cancelled_at == closed.closed_at
    assert got.cancellations == [] and got.amount.paid == 0
    with pytest.raises(errors.PaymentNotWaitingForDepositError):
        sdk.close_virtual_account(payment_id=issued["id"])
    with pytest.raises(errors.PaymentNotWaitingForDepositError):
        sdk.close_virtual_account(payment_id=v2.pick("PAID")["id"])
    with pytest.raises(errors.PaymentNotFoundError):
        sdk.close_virtual_account(payment_id="no-such-payment")


def test_cancel_a_paid_virtual_account_with_refund_account_and_checksum(v2, sdk):
    p = paid_untouched(v2)
    total = p["amount"]["total"]
    with pytest.raises(errors.InvalidRequestError):                      # a virtual account needs a refund account
        sdk.cancel_payment(payment_id=p["id"], amount=1000, reason="환불", current_cancellable_amount=total)
    with pytest.raises(errors.InvalidRequestError):                      # the V2 bank enum, not a KFTC code
        sdk.cancel_payment(payment_id=p["id"], amount=1000, reason="환불", current_cancellable_amount=total,
                           refund_account=CancelPaymentBodyRefundAccount(bank="088", number="110123456789",
                                                                         holder_name="홍길동"))
    with pytest.raises(errors.CancellableAmountConsistencyBrokenError):  # a stale checksum
        sdk.cancel_payment(payment_id=p["id"], amount=1000, reason="환불", current_cancellable_amount=total - 1,
                           refund_account=REFUND)
    with pytest.raises(errors.CancelAmountExceedsCancellableAmountError):
        sdk.cancel_payment(payment_id=p["id"], amount=total + 1, reason="환불", refund_account=REFUND)
    assert v2.payment(p["id"])["sandbox"]["cancellable"] == total        # nothing moved on any refusal

    part = sdk.cancel_payment(payment_id=p["id"], amount=1000, reason="부분 환불", current_cancellable_amount=total,
                              refund_account=REFUND).cancellation
    assert isinstance(part, SucceededPaymentCancellation) and part.total_amount == 1000
    got = sdk.get_payment(payment_id=p["id"])
    assert isinstance(got, PartialCancelledPayment) and got.amount.cancelled == 1000
    assert got.method.refund_status == "COMPLETED"
    with pytest.raises(errors.CancellableAmountConsistencyBrokenError):  # the old balance is stale now
        sdk.cancel_payment(payment_id=p["id"], reason="환불", current_cancellable_amount=total, refund_account=REFUND)
    rest = sdk.cancel_payment(payment_id=p["id"], reason="나머지 환불", current_cancellable_amount=total - 1000,
                              refund_account=REFUND).cancellation
    assert rest.total_amount == total - 1000
    got = sdk.get_payment(payment_id=p["id"])
    assert isinstance(got, CancelledPayment) and got.amount.cancelled == total and len(got.cancellations) == 2
    with pytest.raises(errors.PaymentAlreadyCancelledError):
        sdk.cancel_payment(payment_id=p["id"], reason="또 환불", refund_account=REFUND)


def test_cancel_refusals_carry_v2_http_statuses(v2, sdk):
    issued = v2.pick("VIRTUAL_ACCOUNT_ISSUED")
    with pytest.raises(errors.PaymentNotPaidError):
        sdk.cancel_payment(payment_id=issued["id"], reason="환불", refund_account=REFUND)
    h = {"Authorization": f"PortOne {SECRET}"}
    account = {"bank": "SHINHAN", "number": "110123456789", "holderName": "홍길동"}
    cases = [(issued["id"], {"reason": "x"}, 409, "PAYMENT_NOT_PAID"),
             (v2.pick("CANCELLED")["id"], {"reason": "x"}, 409, "PAYMENT_ALREADY_CANCELLED"),
             ("no-such-payment", {"reason": "x"}, 404, "PAYMENT_NOT_FOUND"),
             (issued["id"], {}, 400, "INVALID_REQUEST"),
             (paid_untouched(v2)["id"], {"reason": "x", "currentCancellableAmount": 1, "refundAccount": account},
              409, "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"),
             (v2.pick("PAID", method="CARD")["id"], {"reason": "x", "amount": 10**9}, 409,
              "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT"),
             (paid_untouched(v2)["id"], {"reason": "x", "refundAccount": dict(account, bank="088")}, 400,
              "INVALID_REQUEST")]
    for pid, body, status, kind in cases:
        r = requests.post(f"{v2.url}/payments/{pid}/cancel", json=body, headers=h)
        assert (r.status_code, r.json()["type"]) == (status, kind), (pid, body)


def test_a_card_payment_cancels_without_a_refund_account(v2, sdk):
    card = v2.pick("PAID", method="CARD")
    c = sdk.cancel_payment(payment_id=card["id"], reason="카드 취소",
                           current_cancellable_amount=card["amount"]["total"]).cancellation
    assert isinstance(c, SucceededPaymentCancellation)
    assert isinstance(sdk.get_payment(payment_id=card["id"]), CancelledPayment)


def test_async_cancel_stays_requested_until_the_pg_completes_it(v2, sdk):
    p = paid_untouched(v2, pg=ASYNC_PG)
    total = p["amount"]["total"]
    c = sdk.cancel_payment(payment_id=p["id"], reason="환불", current_cancellable_amount=total,
                           refund_account=REFUND).cancellation
    assert isinstance(c, RequestedPaymentCancellation) and c.total_amount == total
    got = sdk.get_payment(payment_id=p["id"])
    assert isinstance(got, PaidPayment) and got.amount.cancelled == 0
    assert [type(x) for x in got.cancellations] == [RequestedPaymentCancellation]
    assert got.method.refund_status == "PENDING"
    with pytest.raises(errors.CancelAmountExceedsCancellableAmountError):  # the requested amount is spoken for
        sdk.cancel_payment(payment_id=p["id"], amount=1000, reason="또", refund_account=REFUND)
    with pytest.raises(errors.CancellableAmountConsistencyBrokenError):
        sdk.cancel_payment(payment_id=p["id"], reason="또", current_cancellable_amount=total, refund_account=REFUND)

    v2.complete_cancellation(p["id"], c.id)
    got = sdk.get_payment(payment_id=p["id"])
    assert isinstance(got, CancelledPayment) and got.amount.cancelled == total
    assert isinstance(got.cancellations[0], SucceededPaymentCancellation)
    last = sdk.get_all_payment_events_by_cursor(until=rfc3339(time.time() + 60), size=1000).items
    assert any(isinstance(e.payment_event, CancelledPaymentEvent) and e.payment_event.payment_id == p["id"]
               for e in last)


def test_a_requested_cancel_can_be_stopped_or_fail_and_the_balance_comes_back(v2, sdk):
    p = paid_untouched(v2, pg=ASYNC_PG)
    total = p["amount"]["total"]
    c = sdk.cancel_payment(payment_id=p["id"], amount=1000, reason="환불", refund_account=REFUND).cancellation
    stopped = sdk.stop_payment_cancellation(payment_id=p["id"], cancellation_id=c.id)
    assert stopped.stopped_at
    got = sdk.get_payment(payment_id=p["id"])
    assert isinstance(got, PaidPayment) and isinstance(got.cancellations[0], FailedPaymentCancellation)
    with pytest.raises(errors.PaymentCancellationNotPendingError):
        sdk.stop_payment_cancellation(payment_id=p["id"], cancellation_id=c.id)
    with pytest.raises(errors.PaymentCancellationNotFoundError):
        sdk.stop_payment_cancellation(payment_id=p["id"], cancellation_id="cancel-nope")
    c2 = sdk.cancel_payment(payment_id=p["id"], amount=2000, reason="환불", current_cancellable_amount=total,
                            refund_account=REFUND).cancellation
    v2.fail_cancellation(p["id"], c2.id)
    assert v2.payment(p["id"])["sandbox"]["cancellable"] == total
    assert isinstance(sdk.get_payment(payment_id=p["id"]), PaidPayment)


def test_a_fault_answers_5xx_for_the_next_call_only(v2, sdk):
    p = v2.pick("PAID")
    v2.fault(path_prefix="/payments/", method="GET", status=503, times=1)
    with pytest.raises(errors.UnknownError):
        sdk.get_payment(payment_id=p["id"])
    assert sdk.get_payment(payment_id=p["id"]).id == p["id"]


def test_the_seed_is_deterministic(v2):
    ids = [(p["id"], p["status"], p["amount"]["total"]) for p in v2.all_payments()]
    v2.reset()
    assert [(p["id"], p["status"], p["amount"]["total"]) for p in v2.all_payments()] == ids
    v2.reset(seed=8)
    assert [(p["id"], p["status"], p["amount"]["total"]) for p in v2.all_payments()] != ids


def _ts(rfc: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(rfc).timestamp()


def test_a_cancel_whose_reply_never_arrives_was_still_done(v2):
    """A hang after processing (fault ``after: timeout``): the caller's read times out, yet the cancellation is in —
    the unknown outcome a V2 client must re-read rather than resend."""
    p = paid_untouched(v2, pg="NICE_V2")
    v2.fault(path_prefix=f"/payments/{p['id']}/cancel", method="POST", after="timeout", hang_s=3, times=1)
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{v2.url}/payments/{p['id']}/cancel", timeout=1, headers={"Authorization": f"PortOne {SECRET}"},
                      json={"reason": "환불", "amount": 1000, "refundAccount": {"bank": "HANA", "number": "123456789",
                                                                             "holderName": "홍길동"}})
    assert v2.payment(p["id"])["status"] == "PARTIAL_CANCELLED"
    assert [r["path"] for r in v2.requests_seen(f"/payments/{p['id']}/cancel")] == [f"/payments/{p['id']}/cancel"]


def test_a_sandbox_with_a_database_file_keeps_its_payments_across_a_restart(tmp_path):
    from tests.v2.harness import SandboxV2
    db = str(tmp_path / "v2.sqlite3")
    first = SandboxV2("--db", db, payments=60)
    try:
        p = first.pick("VIRTUAL_ACCOUNT_ISSUED", where=lambda p: p["sandbox"]["expires"] > time.time())
        first.client().close_virtual_account(payment_id=p["id"])
        ids = {x["id"] for x in first.all_payments()}
    finally:
        first.stop()
    second = SandboxV2("--db", db, "--seed", "99", payments=60)       # a stored database is not re-seeded
    try:
        assert {x["id"] for x in second.all_payments()} == ids
        assert isinstance(second.client().get_payment(payment_id=p["id"]), CancelledPayment)
    finally:
        second.stop()


def test_a_new_issued_account_comes_after_the_last_cursor_and_can_be_paid(v2, sdk):
    until = rfc3339(time.time() + 3600)
    last = None
    while True:                                      # the cursor at the end of every seeded payment
        r = sdk.get_all_payments_by_cursor(cursor=last, size=1000, until=until)
        if not r.items:
            break
        last = r.items[-1].cursor
    assert sdk.get_all_payments_by_cursor(cursor=last, until=until).items == []
    new = v2.issue(pg="NICE_V2", amount=33_000, dueInDays=2)
    after = sdk.get_all_payments_by_cursor(cursor=last, until=until).items
    assert [i.payment.id for i in after] == [new["id"]]
    got = after[0].payment
    assert isinstance(got, VirtualAccountIssuedPayment) and got.amount.total == 33_000
    assert got.channel.pg_provider == "NICE_V2" and isinstance(got.method, PaymentMethodVirtualAccount)
    v2.deposit(new["id"])
    assert isinstance(sdk.get_payment(payment_id=new["id"]), PaidPayment)


@pytest.mark.parametrize("path, query, body", [
    ("/payments", {"requestBody": '{"filter": {"platformType": ["PC"]}}'}, None),
    ("/payments", {"requestBody": '{"filter": {"from": "2026-01-01"}}'}, None),     # no time of day, no zone
    ("/payments", {"requestBody": '{"page": {"size": 0}}'}, None),
    ("/payments", {"requestBody": "{not json"}, None),
    ("/payments-by-cursor", {"requestBody": '{"size": 5000}'}, None),
    ("/payment-events-by-cursor", {"requestBody": '{"cursor": 12}'}, None),
    ("/payments/{paid}/cancel", None, {"reason": "x", "amount": 1.5}),
    ("/payments/{paid}/cancel", None, {"reason": "x", "refundAccount": {"bank": ["SHINHAN"], "number": "123456",
                                                                       "holderName": "홍길동"}}),
    ("/payments/{paid}/cancel", None, {"reason": "   "}),
])
def test_odd_input_is_invalid_request_never_a_server_error(sandbox_v2, path, query, body):
    path = path.replace("{paid}", sandbox_v2.pick("PAID")["id"])
    r = requests.request("POST" if body is not None else "GET", sandbox_v2.url + path, params=query, json=body,
                         headers={"Authorization": f"PortOne {SECRET}"})
    assert (r.status_code, r.json()["type"]) == (400, "INVALID_REQUEST"), r.text


def test_an_overdue_account_takes_no_deposit_but_can_be_closed(v2, sdk):
    overdue = v2.pick("VIRTUAL_ACCOUNT_ISSUED", where=lambda p: p["sandbox"]["expires"] < time.time())
    r = v2.http.post(f"{v2.url}/sandbox/payments/{overdue['id']}/deposit", json={})
    assert r.status_code == 409 and r.json()["type"] == "PAYMENT_NOT_WAITING_FOR_DEPOSIT"
    assert isinstance(sdk.get_payment(payment_id=overdue["id"]), VirtualAccountIssuedPayment)
    sdk.close_virtual_account(payment_id=overdue["id"])
    assert isinstance(sdk.get_payment(payment_id=overdue["id"]), CancelledPayment)
