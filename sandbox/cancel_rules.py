"""The refund (cancel) rules of the V1 API as one function over a payment and the request's parameters: the
checksum, the refundable balance, virtual-account refund fields per PG (bank codes, account format, refund_tel
for Smartro), and Danal's refusal. Returns the API's Korean refusal, or None when the cancel may proceed."""

from __future__ import annotations

import re

from . import reference as ref


def cancel_refusal(p: dict | None, prm: dict, amount: int | None, checksum: int | None) -> str | None:
    if p is None:
        return "취소할 결제건이 존재하지 않습니다."
    if p["status"] == "cancelled":
        return "이미 전액취소된 주문입니다."
    if p["status"] != "paid":
        what = "입금 전인 가상계좌" if p["pay_method"] == "vbank" else "결제완료 상태가 아닌 거래"
        return f"{what}는 취소할 수 없습니다. (status: {p['status']})"
    refundable = p["amount"] - p["cancel_amount"]
    if checksum is not None and checksum != refundable:
        return (f"[Checksum] 취소 가능 잔액이 일치하지 않습니다. "
                f"(요청 checksum: {checksum}, 취소 가능 잔액: {refundable})")
    amount = refundable if not amount else amount
    if amount < 0:
        return "취소 요청금액은 0보다 커야 합니다."
    if amount > refundable:
        return f"취소 요청금액({amount})이 취소 가능 잔액({refundable})을 초과합니다."
    if p["pay_method"] == "vbank":
        pg = p["pg_provider"]
        if pg in ref.NO_VBANK_REFUND_PGS:
            return "다날 가상계좌는 API를 통한 환불을 지원하지 않습니다."
        for f in ("refund_holder", "refund_bank", "refund_account"):
            if not str(prm.get(f) or "").strip():
                return f"가상계좌 환불 시 {f}는 필수입니다."
        codes = ref.REFUND_BANK_CODES.get(pg)
        if codes is not None and str(prm["refund_bank"]) not in codes:
            return f"환불 은행코드({prm['refund_bank']})가 {pg}에서 사용할 수 없는 코드입니다."
        if not re.fullmatch(r"[0-9-]{6,20}", str(prm["refund_account"])):
            return "환불 계좌번호 형식이 올바르지 않습니다."
        if pg in ref.REFUND_TEL_REQUIRED_PGS and not str(prm.get("refund_tel") or "").strip():
            return "스마트로 가상계좌 환불 시 refund_tel(예금주 연락처)은 필수입니다."
    return None
