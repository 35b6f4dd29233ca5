"""Words as the files write them: a header normalised to compare it with known names (NFKC, no spaces, units or
brackets, lower case), and a PG as a file names it (a code, a Korean trade name, an English name) told as its
pg_provider code and the family of codes that share its trade name."""

from __future__ import annotations

import re
import unicodedata

_NORM_RX = re.compile(r"\((?:원|krw|₩)\)|[\s_()\[\]\-./·:*]", re.IGNORECASE)


def norm_header(text: str) -> str:
    """A header as compared with known layouts: "출금액(원)" → "출금액", "거래 일시" → "거래일시", "거래금액（원）" (full
    width) → "거래금액", lower case."""
    return _NORM_RX.sub("", unicodedata.normalize("NFKC", str(text))).lower()


PG_NAME_TO_CODE: dict[str, str] = {}


def pg_code(value: str) -> str:
    """A PG as a file names it (a code, the Korean trade name, an English name) → the pg_provider code, or ""."""
    if not PG_NAME_TO_CODE:
        from lib.domain.names import PG_NAMES
        for code, name in PG_NAMES.items():
            PG_NAME_TO_CODE.setdefault(norm_header(code), code)
            PG_NAME_TO_CODE.setdefault(norm_header(name), code)
        for alias, code in {"이니시스": "html5_inicis", "kg이니시스": "html5_inicis", "inicis": "html5_inicis",
                            "kcp": "kcp", "nhnkcp": "kcp", "토스페이먼츠": "tosspayments", "toss": "tosspayments",
                            "나이스페이먼츠": "nice", "나이스페이": "nice", "nicepay": "nice", "헥토파이낸셜": "settle",
                            "세틀뱅크": "settle", "hecto": "settle", "스마트로": "smartro_v2", "키움페이": "daou",
                            "다날": "danal_tpay", "kicc": "kicc", "lgu+": "uplus", "lg유플러스": "uplus",
                            "웰컴페이먼츠": "welcome"}.items():
            PG_NAME_TO_CODE.setdefault(norm_header(alias), code)
    return PG_NAME_TO_CODE.get(norm_header(value), "")


def pg_family(code: str) -> set[str]:
    """Every pg_provider code a file's PG name may stand for: a PG's old and new modules share one trade name in
    its own files (나이스페이먼츠 = nice and nice_v2, 스마트로 = smartro and smartro_v2, KG이니시스, 다날)."""
    from lib.domain.names import PG_NAMES

    def base(c: str) -> str:
        return norm_header(PG_NAMES.get(c, c).split(" (")[0].split("(")[0])
    b = base(code)
    return {code} | {c for c in PG_NAMES if base(c) == b}
