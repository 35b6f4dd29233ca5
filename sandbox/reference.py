"""Reference tables the sandbox needs, read independently of ``lib`` from the
PortOne documents in ``shared/reference/docs-ko`` (bank codes by PG, PG codes).

The client side (``lib/banks.py``) keeps its own copy on purpose: two
independent readings of the documents catch each other's mistakes.
"""

from __future__ import annotations

# KFTC standard 3-digit codes and names (GET /banks, GET /vbanks/holder).
KFTC_BANKS: dict[str, str] = {
    "002": "KDB산업은행",
    "003": "IBK기업은행",
    "004": "KB국민은행",
    "007": "수협은행",
    "011": "NH농협은행",
    "012": "지역농축협",
    "020": "우리은행",
    "023": "SC제일은행",
    "027": "한국씨티은행",
    "031": "대구은행",
    "032": "부산은행",
    "034": "광주은행",
    "035": "제주은행",
    "037": "전북은행",
    "039": "경남은행",
    "045": "새마을금고",
    "048": "신협",
    "071": "우체국",
    "081": "하나은행",
    "088": "신한은행",
    "089": "케이뱅크",
    "090": "카카오뱅크",
    "092": "토스뱅크",
}

_KFTC_FULL = {
    "004", "023", "039", "034", "003", "011", "031", "032", "002", "045",
    "007", "088", "048", "081", "020", "071", "037", "012", "090", "089", "027", "092",
}

# Refund bank codes accepted per pg_provider (docs-ko/bank-codes-by-pg.md).
REFUND_BANK_CODES: dict[str, set[str]] = {
    "kcp": {"BK" + c[1:] for c in _KFTC_FULL},
    "html5_inicis": {c[1:] for c in _KFTC_FULL},
    "inicis": {c[1:] for c in _KFTC_FULL},
    # Kiwoom Pay (daou) has its own table.
    "daou": {"04", "11", "03", "08", "15", "10", "05", "09", "31", "12"},
    "tosspayments": set(_KFTC_FULL),
    "uplus": set(_KFTC_FULL),
    "danal_tpay": set(_KFTC_FULL),
    "nice": set(_KFTC_FULL),
    "kicc": set(_KFTC_FULL),
    "smartro": set(_KFTC_FULL),
    "smartro_v2": set(_KFTC_FULL),
    "settle": set(_KFTC_FULL),
    "nice_v2": {"004", "023", "034", "003", "011", "031", "032", "088", "081", "020", "071", "089"},
    "welcome": {"004", "034", "039", "003", "031", "032", "007", "088", "081", "020", "037", "089"},
}

# PGs that cannot refund a virtual account at all.
NO_VBANK_REFUND_PGS = {"danal", "danal_tpay"}
# PGs whose (old) module needs the refund holder's phone number.
REFUND_TEL_REQUIRED_PGS = {"smartro", "smartro_v2"}   # the spec's per-PG notes on refund_tel
# PGs the product document lists for PUT /vbanks/{imp_uid}.
DEFAULT_VBANK_UPDATE_PGS = (
    "html5_inicis", "inicis", "kcp", "tosspayments", "uplus", "nice", "nice_v2",
    "kicc", "settle", "smartro", "smartro_v2",
)

# PGs seeded, with weights (pg-provider-codes.md).
SEED_PGS: list[tuple[str, int]] = [
    ("html5_inicis", 22), ("kcp", 16), ("tosspayments", 14), ("uplus", 4),
    ("nice", 6), ("nice_v2", 8), ("kicc", 6), ("settle", 8), ("smartro", 3),
    ("smartro_v2", 5), ("danal_tpay", 4), ("daou", 4),
]

SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용"
GIVEN = [
    "민준", "서연", "도윤", "서윤", "예준", "지우", "시우", "하윤", "주원", "지유",
    "하준", "서현", "지호", "수아", "준서", "지민", "건우", "채원", "현우", "다은",
    "우진", "예은", "선우", "수빈", "연우", "지아", "유준", "소율", "정우", "하은",
]
PRODUCTS = [
    "유기농 쌀 10kg", "겨울 패딩 점퍼", "무선 이어폰", "캠핑 의자 2개", "한우 선물세트",
    "아동 도서 전집", "스킨케어 세트", "러닝화", "커피 원두 1kg", "전기 포트",
    "요가 매트", "노트북 파우치", "제주 감귤 5kg", "가습기", "연간 구독권",
]
