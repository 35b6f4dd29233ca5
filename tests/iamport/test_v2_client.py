"""The desk's PortOne V2 client (lib/iamport/v2): a V2 payment, as the official SDK decodes it, mapped to the desk's
V1-shaped payment; the SDK's failures as the desk's error tree; the secret in no repr or message. The calls against
the real V2 sandbox over loopback are in tests/iamport/test_v2_sandbox.py."""

from __future__ import annotations

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

