"""Per-PG field rules for a virtual-account refund (POST /payments/cancel), from the official V1 spec's own
notes on each field (``x-portone-per-pg``, ``x-portone-supported-pgs``). One table; tests/test_pg_rules.py
reads the vendored spec and fails when the two disagree.
"""

from __future__ import annotations

# refund_tel: "(가상계좌, 스마트로 - 구모듈 취소인 경우 필수)" for smartro; "가상계좌, 계좌이체 거래건 환불시
# 필수입력" for smartro_v2.
REFUND_TEL_REQUIRED: frozenset[str] = frozenset({"smartro", "smartro_v2"})


# refund_holder / refund_bank / refund_account: required for every virtual-account refund (the field
# descriptions), and named again for smartro_v2.
REFUND_ACCOUNT_REQUIRED_NOTED: frozenset[str] = frozenset({"smartro_v2"})


# vat_amount: "지원되는 PG사" — only these take it; to any other PG it is not sent.
VAT_AMOUNT_SUPPORTED: frozenset[str] = frozenset({"nice", "html5_inicis", "welcome", "nice_v2"})


# tax_free: these do not default a missing tax_free to 0: for a payment with a tax-free part it must be sent.
TAX_FREE_MUST_BE_SENT: frozenset[str] = frozenset({"kcp", "kcp_quick", "kicc", "nice", "payco", "smartro_v2",
                                                   "welcome"})


# Virtual accounts these PGs issued cannot be refunded through the API (partial-cancel-limits.md).
NO_VBANK_REFUND: frozenset[str] = frozenset({"danal", "danal_tpay"})


# DELETE /vbanks/{imp_uid} (가상계좌 발급취소): "지원되는 PG사" in the spec's description of revokeVbank, by code.
# KG이니시스 (html5_inicis, inicis) is listed but also wants its own pg_api_key in the query, which vbank-desk does not
# hold: it is refused before sending, with the reason (REVOKE_NEEDS_PG_KEY).
REVOKE_SUPPORTED: frozenset[str] = frozenset({"html5_inicis", "inicis", "kcp", "uplus", "tosspayments", "danal",
                                              "danal_tpay", "nice", "nice_v2", "kicc", "settle", "smartro",
                                              "smartro_v2", "ksnet", "welcome"})
REVOKE_NEEDS_PG_KEY: frozenset[str] = frozenset({"html5_inicis", "inicis"})


def needs_refund_tel(pg_provider: str | None) -> bool:
    return (pg_provider or "") in REFUND_TEL_REQUIRED


def takes_vat_amount(pg_provider: str | None) -> bool:
    return (pg_provider or "") in VAT_AMOUNT_SUPPORTED


def tax_free_must_be_sent(pg_provider: str | None) -> bool:
    return (pg_provider or "") in TAX_FREE_MUST_BE_SENT
