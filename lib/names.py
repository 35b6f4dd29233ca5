"""How the finance team names things: PGs by their Korean trade names (the code as a detail), payment statuses as
the PortOne console says them."""

from __future__ import annotations

PG_NAMES = {
    "html5_inicis": "KG이니시스", "inicis": "KG이니시스 (구모듈)", "inicis_unified": "KG이니시스 (통합)",
    "kcp": "NHN KCP", "kcp_billing": "NHN KCP (정기)", "kcp_quick": "NHN KCP (퀵페이)",
    "tosspayments": "토스페이먼츠", "uplus": "LG U+", "nice": "나이스페이먼츠", "nice_v2": "나이스페이먼츠 (신모듈)",
    "kicc": "KICC", "settle": "헥토파이낸셜(세틀뱅크)", "smartro": "스마트로 (구모듈)", "smartro_v2": "스마트로",
    "daou": "키움페이", "danal": "다날", "danal_tpay": "다날", "welcome": "웰컴페이먼츠", "ksnet": "KSNET",
}
STATUS_NAMES = {"ready": "입금대기", "paid": "결제완료", "cancelled": "취소", "failed": "실패"}


def pg_name(code: str | None) -> str:
    """KG이니시스 (html5_inicis); an unknown code as it is."""
    if not code:
        return "—"
    name = PG_NAMES.get(code)
    return f"{name} ({code})" if name else code


def status_name(status: str | None) -> str:
    """입금대기 (ready)."""
    if not status:
        return "—"
    name = STATUS_NAMES.get(status)
    return f"{name} ({status})" if name else status
