"""The desk's PortOne V2 client (lib/iamport/v2): a V2 payment, as the official SDK decodes it, mapped to the desk's
V1-shaped payment; the SDK's failures as the desk's error tree; the secret in no repr or message; and the client
against the real V2 sandbox over loopback (get, list, cursor, close, cancel with a refund account, a stale
``currentCancellableAmount`` refused, an asynchronous cancel left REQUESTED)."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest
from portone_server_sdk._generated.common.invalid_request_error import InvalidRequestError as InternalInvalid
from portone_server_sdk._generated.common.pg_provider_error import PgProviderError as InternalPg
from portone_server_sdk._generated.payment.cancellable_amount_consistency_broken_error import (
    CancellableAmountConsistencyBrokenError as InternalBroken,
)
from portone_server_sdk._generated.payment.payment import _deserialize_payment
from portone_server_sdk.errors import CancellableAmountConsistencyBrokenError, InvalidRequestError, PgProviderError
from pydantic import SecretStr

from lib.domain import payment_table
from lib.iamport.errors import ApiUnavailable, NotFound, OutcomeUnknown, Refused
from lib.iamport.v2 import mapping
from lib.iamport.v2.client import PortOneV2Client, V2Config
from lib.iamport.v2.transport import classify

T0 = "2026-12-01T01:02:03Z"
DUE = "2026-12-10T14:59:59.123456789Z"          # V2 times may carry nanoseconds


def ts(s: str) -> int:
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")[:19] + "+00:00").timestamp())


def v2_doc(status: str = "VIRTUAL_ACCOUNT_ISSUED", *, pg: str = "KCP_V2", bank: str = "SHINHAN", total: int = 55_000,
           cancelled: int = 0, cancellations: list | None = None, **more) -> dict:
    """A V2 payment as the API sends it (camelCase JSON), for the SDK to decode."""
    doc = {
        "status": status, "id": "order-1", "transactionId": "tx-1", "merchantId": "merchant-1", "storeId": "store-1",
        "channel": {"type": "LIVE", "pgProvider": pg, "pgMerchantId": "MID"}, "version": "V2",
        "requestedAt": T0, "updatedAt": T0, "statusChangedAt": T0, "orderName": "주문 1",
        "amount": {"total": total, "taxFree": 0, "discount": 0, "paid": total if status != "VIRTUAL_ACCOUNT_ISSUED"
                   else 0, "cancelled": cancelled, "cancelledTaxFree": 0},
        "currency": "KRW", "customer": {"name": "김고객", "phoneNumber": "01012345678"},
        "origin": {"platformType": "PC", "ipAddress": "203.0.113.1", "userAgent": "ua"},
        "method": {"type": "PaymentMethodVirtualAccount", "accountNumber": "56211012345678", "bank": bank,
                   "remitteeName": "상점", "expiredAt": DUE, "issuedAt": T0},
    }
    if status in ("PAID", "PARTIAL_CANCELLED", "CANCELLED"):
        doc["paidAt"] = "2026-12-02T00:00:00Z"
    if status == "PAID":
        doc["disputes"] = []
    if cancellations is not None:
        doc["cancellations"] = cancellations
    doc.update(more)
    return doc


def cancellation(status: str, amount: int, n: int = 1) -> dict:
    c = {"status": status, "id": f"cancel-{n}", "totalAmount": amount, "taxFreeAmount": 0, "vatAmount": 0,
         "reason": f"고객 요청 [vd:{n:016x}]", "requestedAt": "2026-12-03T00:00:00Z"}
    if status == "SUCCEEDED":
        c["cancelledAt"] = "2026-12-03T00:00:05Z"
    return c


def sdk_payment(doc: dict):
    p = _deserialize_payment(doc)
    assert not isinstance(p, dict), "the SDK decoded it as its own type"
    return p


# ------------------------------------------------------------------ mapping
def test_an_issued_virtual_account_reads_as_a_pending_v1_payment():
    p = mapping.to_payment(sdk_payment(v2_doc()))
    assert (p.imp_uid, p.merchant_uid, p.status, p.pay_method) == ("order-1", "order-1", "ready", "vbank")
    assert p.pg_provider == "kcp" and p.pg_id == "MID"
    assert (p.vbank_code, p.vbank_name, p.vbank_num, p.vbank_holder) == ("088", "신한은행", "56211012345678", "상점")
    assert int(p.vbank_date.timestamp()) == ts(DUE) and int(p.started_at.timestamp()) == ts(T0)
    assert (p.amount, p.cancel_amount, p.refundable) == (55_000, 0, 55_000)
    assert p.model_extra["api_version"] == "v2" and p.model_extra["v2_status"] == "VIRTUAL_ACCOUNT_ISSUED"
    assert (p.buyer_name, p.buyer_tel, p.name) == ("김고객", "01012345678", "주문 1")


@pytest.mark.parametrize("v2, desk", [("INICIS_V2", "html5_inicis"), ("KCP_V2", "kcp"),
                                      ("TOSSPAYMENTS", "tosspayments"), ("NICE_V2", "nice_v2"),
                                      ("SMARTRO_V2", "smartro_v2"), ("KSNET", "ksnet"), ("SOMETHING_NEW", "something_new")])
def test_the_v2_pg_enum_reads_as_the_desks_pg_code(v2, desk):
    assert mapping.to_payment(sdk_payment(v2_doc(pg=v2))).pg_provider == desk


@pytest.mark.parametrize("bank, code, name", [("KOOKMIN", "004", "KB국민은행"), ("NONGHYUP", "011", "NH농협은행"),
                                              ("K_BANK", "089", "케이뱅크"), ("JEJU", "JEJU", "JEJU")])
def test_the_v2_bank_enum_reads_as_the_desks_bank(bank, code, name):
    p = mapping.to_payment(sdk_payment(v2_doc(bank=bank)))
    assert (p.vbank_code, p.vbank_name) == (code, name)


def test_a_partly_refunded_payment_is_paid_with_its_cancel_amount_and_only_done_refunds_in_its_history():
    doc = v2_doc("PARTIAL_CANCELLED", cancelled=5_000, cancelledAt="2026-12-03T00:00:05Z",
                 cancellations=[cancellation("SUCCEEDED", 5_000, 1), cancellation("REQUESTED", 7_000, 2),
                                cancellation("FAILED", 1_000, 3)])
    p = mapping.to_payment(sdk_payment(doc))
    assert (p.status, p.amount, p.cancel_amount, p.refundable) == ("paid", 55_000, 5_000, 50_000)
    assert [(h.amount, h.cancellation_id) for h in p.cancel_history] == [(5_000, "cancel-1")]
    assert p.cancel_history[0].cancelled_at is not None and "[vd:" in p.cancel_history[0].reason
    assert p.model_extra["cancel_requested_amount"] == 7_000
    assert [c["cancellation_id"] for c in p.model_extra["cancel_requests"]] == ["cancel-2"]
    assert [c["cancellation_id"] for c in p.model_extra["cancel_failures"]] == ["cancel-3"]


@pytest.mark.parametrize("status, desk", [("PAID", "paid"), ("CANCELLED", "cancelled"), ("FAILED", "failed"),
                                          ("READY", "ready")])
def test_statuses(status, desk):
    more = {"failedAt": T0, "failure": {"reason": "마감", "pgMessage": "입금기한 만료"}} if status == "FAILED" else {}
    if status == "CANCELLED":
        more = {"cancelledAt": T0, "cancellations": []}
    p = mapping.to_payment(sdk_payment(v2_doc(status, **more)))
    assert p.status == desk
    if status == "FAILED":
        assert p.fail_reason == "입금기한 만료" and p.failed_at is not None


def test_a_payment_of_a_shape_the_sdk_does_not_know_is_not_guessed():
    with pytest.raises(mapping.UnknownShape):
        mapping.as_dict({"status": "SOMETHING_NEW", "id": "x"})


def test_times_with_nanoseconds_and_offsets():
    assert mapping.unix("2026-12-10T14:59:59.123456789Z") == ts("2026-12-10T14:59:59Z")
    assert mapping.unix("2026-12-10T23:59:59+09:00") == ts("2026-12-10T14:59:59Z")
    assert mapping.unix(None) is None and mapping.unix("not a time") is None


def test_v2_rows_make_the_v1_listing_table():
    rows = [mapping.as_dict(sdk_payment(v2_doc())), mapping.as_dict(sdk_payment(
        v2_doc("PARTIAL_CANCELLED", cancelled=5_000, cancelledAt=T0, cancellations=[cancellation("SUCCEEDED", 5_000)])))]
    t = payment_table.from_dicts(rows)
    assert t.schema == payment_table.schema()
    assert t.column("cancel_amount").to_pylist() == [0, 5_000]
    assert t.column("cancel_history").to_pylist()[1][0]["cancellation_id"] == "cancel-1"


# ------------------------------------------------------------------ errors
def test_no_connection_is_unavailable_for_reads_and_writes():
    e = httpx.ConnectError("refused")
    assert type(classify(e, write=True, method="POST", path="/p", status=None)) is ApiUnavailable
    assert type(classify(e, write=False, method="GET", path="/p", status=None)) is ApiUnavailable


def test_a_timeout_after_a_write_left_is_an_unknown_outcome_but_only_unavailable_for_a_read():
    e = httpx.ReadTimeout("slow")
    assert isinstance(classify(e, write=True, method="POST", path="/p", status=None), OutcomeUnknown)
    read = classify(e, write=False, method="GET", path="/p", status=None)
    assert isinstance(read, ApiUnavailable) and not isinstance(read, OutcomeUnknown)


def test_the_apis_own_refusal_is_refused_with_its_message_quoted():
    e = CancellableAmountConsistencyBrokenError(InternalBroken(message="취소 가능 잔액 검증에 실패했습니다."))
    err = classify(e, write=True, method="POST", path="/p", status=409)
    assert isinstance(err, Refused) and err.message == "취소 가능 잔액 검증에 실패했습니다." and err.http_status == 409
    assert isinstance(classify(InvalidRequestError(InternalInvalid(message="bad")), write=False, method="GET",
                               path="/p", status=404), NotFound)


def test_a_5xx_from_the_pg_after_a_write_is_unknown_not_refused():
    e = PgProviderError(InternalPg(pg_code="E1", pg_message="PG 응답 지연", message="PG사 오류"))
    err = classify(e, write=True, method="POST", path="/p", status=502)
    assert isinstance(err, OutcomeUnknown) and not isinstance(err, Refused)
    assert "PG 응답 지연" in err.message


def test_a_reply_that_is_not_portones_is_unknown_after_a_write():
    assert isinstance(classify(ValueError("Expecting value"), write=True, method="POST", path="/p", status=502),
                      OutcomeUnknown)


def test_the_secret_is_in_no_repr_and_no_error():
    secret = "sk-live-do-not-show-1234"
    c = PortOneV2Client(V2Config(api_url="http://127.0.0.1:9", secret=SecretStr(secret), store_id="store-1",
                                 connect_timeout=0.5, read_timeout=0.5))
    assert secret not in repr(c) and secret not in repr(c.config)
    with pytest.raises(ApiUnavailable) as info:
        c.get_payment("order-1")
    e = info.value
    assert secret not in str(e) and secret not in repr(e) and e.__cause__ is None and e.__suppress_context__


def test_update_is_refused_without_sending():
    c = PortOneV2Client(V2Config(api_url="http://127.0.0.1:9", secret=SecretStr("x")))
    with pytest.raises(Refused, match="cannot change"):
        c.update_vbank("order-1", amount=1000)


def test_an_id_that_cannot_name_a_payment_is_not_sent():
    c = PortOneV2Client(V2Config(api_url="http://127.0.0.1:9", secret=SecretStr("x")))
    for bad in ("", " ", "..", "a\nb"):
        with pytest.raises(NotFound):
            c.get_payment(bad)


def test_the_sdks_client_is_replaced_by_one_with_the_desks_timeouts():
    c = PortOneV2Client(V2Config(api_url="http://127.0.0.1:9", secret=SecretStr("x"), connect_timeout=1.5,
                                 read_timeout=7.0))
    http = c._sdk._sync_client
    assert http is c.wire.http and http.timeout.read == 7.0 and http.timeout.connect == 1.5



# ================================================================== against the V2 sandbox (loopback HTTP)
DAY = 86400
REFUND = dict(refund_bank="SHINHAN", refund_account="110-123-456789", refund_holder="홍길동",
              refund_tel="010-1234-5678")


@pytest.fixture
def v2(sandbox_v2):
    sandbox_v2.reset()
    yield sandbox_v2
    sandbox_v2.clear_faults()


@pytest.fixture
def desk_v2(sandbox_v2):
    from tests.v2.harness import SECRET, STORE_ID
    c = PortOneV2Client(V2Config(api_url=sandbox_v2.url, secret=SecretStr(SECRET), store_id=STORE_ID))
    yield c
    c.close()


def paid_untouched(v2, pg: str = "KCP_V2") -> dict:
    return v2.pick("PAID", pg=pg, where=lambda p: not p.get("cancellations") and p["amount"]["total"] >= 10_000)


def test_get_reads_the_sandboxs_payment(sandbox_v2, desk_v2):
    want = sandbox_v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="INICIS_V2")
    p = desk_v2.get_payment(want["id"])
    assert (p.imp_uid, p.status, p.pg_provider, p.pay_method) == (want["id"], "ready", "html5_inicis", "vbank")
    assert p.vbank_num == want["method"]["accountNumber"] and p.amount == want["amount"]["total"]
    assert p.vbank_date is not None and int(p.vbank_date.timestamp()) == mapping.unix(want["method"]["expiredAt"])
    with pytest.raises(NotFound):
        desk_v2.get_payment("no-such-payment")
    assert [x.imp_uid for x in desk_v2.get_payments([want["id"], "no-such-payment", want["id"]])] == [want["id"]]


def test_the_api_version_marks_both_clients(desk_v2):
    from lib.iamport.client import IamportClient
    assert desk_v2.api_version == "v2" and IamportClient.api_version == "v1"


@pytest.mark.parametrize("status, v2_statuses", [("ready", {"READY", "VIRTUAL_ACCOUNT_ISSUED", "PENDING"}),
                                                 ("paid", {"PAID", "PARTIAL_CANCELLED"}),
                                                 ("cancelled", {"CANCELLED"})])
def test_list_columns_gives_the_v1_table_of_every_payment_of_the_status(sandbox_v2, desk_v2, status, v2_statuses):
    from devtools.processes import SESSION_ANCHOR
    want = {p["id"] for p in sandbox_v2.all_payments(method="VIRTUAL_ACCOUNT") if p["status"] in v2_statuses}
    assert want
    t = desk_v2.list_columns(status, int(SESSION_ANCHOR - 200 * DAY), int(SESSION_ANCHOR + 400 * DAY),
                             fields=("imp_uid", "status", "amount", "cancel_amount", "vbank_num"), pay_method="vbank")
    assert t.schema == payment_table.schema(("imp_uid", "status", "amount", "cancel_amount", "vbank_num"))
    assert set(t.column("imp_uid").to_pylist()) == want and t.num_rows == len(want)
    assert set(t.column("status").to_pylist()) == {status}
    asked = json.loads(sandbox_v2.requests_seen("/payments", "GET")[-1]["params"]["requestBody"])["filter"]
    assert asked["version"] == "V2" and asked["methods"] == ["VIRTUAL_ACCOUNT"]      # V1 payments: the V1 client


def test_list_reads_every_page(sandbox_v2, desk_v2, monkeypatch):
    from devtools.processes import SESSION_ANCHOR
    from lib.iamport.v2 import client as v2client
    monkeypatch.setattr(v2client, "PAGE_SIZE", 7)
    want = {p["id"] for p in sandbox_v2.all_payments() if p["status"] in ("PAID", "PARTIAL_CANCELLED")}
    seen: list[tuple[int, int]] = []
    t = desk_v2.list_columns("paid", int(SESSION_ANCHOR - 200 * DAY), int(SESSION_ANCHOR + 400 * DAY),
                             progress=lambda a, b: seen.append((a, b)))
    assert set(t.column("imp_uid").to_pylist()) == want and t.num_rows == len(want)
    assert len(seen) == -(-len(want) // 7) and seen[-1][0] == seen[-1][1]


def test_changed_since_walks_the_cursor_once_over_every_payment(sandbox_v2, desk_v2, monkeypatch):
    from devtools.processes import SESSION_ANCHOR
    from lib.iamport.v2 import client as v2client
    monkeypatch.setattr(v2client, "PAGE_SIZE", 50)
    monkeypatch.setattr(v2client, "CURSOR_PAGES", 3)            # a call reads 150 at most; the next goes on
    everyone = {p["id"] for p in sandbox_v2.all_payments()}
    got: list[str] = []
    cursor, calls = None, 0
    while True:
        t, after = desk_v2.changed_since(cursor, int(SESSION_ANCHOR - 200 * DAY))
        calls += 1
        got += t.column("imp_uid").to_pylist()
        if t.num_rows == 0:
            assert after == cursor                          # nothing new: the same cursor back
            break
        cursor = after
        assert calls < 20
    assert sorted(got) == sorted(everyone) and calls == -(-len(everyone) // 150) + 1
    assert t.schema == payment_table.schema()


def test_close_an_issued_account_then_a_second_close_is_the_apis_refusal(v2, desk_v2):
    want = v2.pick("VIRTUAL_ACCOUNT_ISSUED", pg="KCP_V2")
    p = desk_v2.revoke_vbank(want["id"])
    assert p.status in ("cancelled", "failed") and not p.cancel_amount
    assert p.model_extra["closed_at"] and v2.payment(want["id"])["status"] in ("CANCELLED", "FAILED")
    with pytest.raises(Refused) as info:
        desk_v2.revoke_vbank(want["id"])
    assert info.value.http_status == 409 and "입금 대기" in info.value.message


def test_cancel_with_a_refund_account_and_the_balance_as_checksum(v2, desk_v2):
    want = paid_untouched(v2)
    before = desk_v2.get_payment(want["id"])
    v2.clear_requests()
    p = desk_v2.cancel(imp_uid=want["id"], amount=5_000, checksum=before.refundable, reason="고객 요청 [vd:1]",
                       **REFUND)
    assert p.model_extra["cancel_status"] == "succeeded" and p.model_extra["cancellation_id"]
    assert (p.status, p.cancel_amount) == ("paid", 5_000) and p.cancel_history[-1].reason == "고객 요청 [vd:1]"
    sent = v2.requests_seen(f"/payments/{want['id']}/cancel", "POST")
    assert len(sent) == 1
    body = sent[0]["params"]
    assert body["currentCancellableAmount"] == before.refundable and body["amount"] == 5_000
    assert body["refundAccount"] == {"bank": "SHINHAN", "number": "110-123-456789", "holderName": "홍길동",
                                     "holderPhoneNumber": "010-1234-5678"}
    assert body["storeId"] == "store-sandbox" and body["requester"] == "ADMIN"


def test_a_stale_current_cancellable_amount_is_refused_and_nothing_moves(v2, desk_v2):
    want = paid_untouched(v2)
    before = desk_v2.get_payment(want["id"])
    with pytest.raises(Refused) as info:
        desk_v2.cancel(imp_uid=want["id"], amount=5_000, checksum=before.refundable + 1_000, reason="x", **REFUND)
    assert "취소 가능 잔액" in info.value.message and info.value.http_status == 409
    assert desk_v2.get_payment(want["id"]).cancel_amount == 0


def test_an_async_cancel_comes_back_requested_and_is_not_counted_as_refunded(v2, desk_v2):
    from tests.v2.harness import ASYNC_PG
    want = paid_untouched(v2, ASYNC_PG)
    before = desk_v2.get_payment(want["id"])
    p = desk_v2.cancel(imp_uid=want["id"], amount=4_000, checksum=before.refundable, reason="고객 요청", **REFUND)
    assert p.model_extra["cancel_status"] == "requested"
    assert p.cancel_amount == 0 and p.cancel_history == [] and p.model_extra["cancel_requested_amount"] == 4_000
    v2.complete_cancellation(want["id"], p.model_extra["cancellation_id"])
    done = desk_v2.get_payment(want["id"])
    assert done.cancel_amount == 4_000 and done.model_extra["cancel_requested_amount"] == 0


def test_a_timeout_after_the_cancel_left_is_an_unknown_outcome_and_it_was_sent_once(v2, sandbox_v2):
    from tests.v2.harness import SECRET, STORE_ID
    want = paid_untouched(v2)
    c = PortOneV2Client(V2Config(api_url=sandbox_v2.url, secret=SecretStr(SECRET), store_id=STORE_ID,
                                 read_timeout=0.5))
    before = c.get_payment(want["id"])
    v2.fault(path_prefix=f"/payments/{want['id']}/cancel", after="timeout", hang_s=2.0, times=1)
    v2.clear_requests()
    with pytest.raises(OutcomeUnknown):
        c.cancel(imp_uid=want["id"], amount=3_000, checksum=before.refundable, reason="r", **REFUND)
    assert len(v2.requests_seen(f"/payments/{want['id']}/cancel", "POST")) == 1
    c.close()
