"""Refund bank codes by PG (shared/reference/docs-ko/bank-codes-by-pg.md).

The same bank has a different code per PG: KFTC 3-digit (Toss Payments, Danal,
Nice (old), KICC, Smartro, Hecto/settle), 2-digit for KG Inicis, ``BKxx`` for
NHN KCP, Kiwoom Pay (daou) has its own table, nice_v2 and welcome support a
subset. The account-holder lookup (GET /vbanks/holder) always takes the KFTC code.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.domain.i18n import lang

# Bank key -> (English name, Korean name, KFTC 3-digit code)
BANKS: dict[str, tuple[str, str, str]] = {
    "KB": ("KB Kookmin Bank", "KB국민은행", "004"),
    "SC": ("SC First Bank", "SC제일은행", "023"),
    "KYONGNAM": ("Kyongnam Bank", "경남은행", "039"),
    "GWANGJU": ("Gwangju Bank", "광주은행", "034"),
    "IBK": ("IBK Industrial Bank", "IBK기업은행", "003"),
    "NH": ("NongHyup Bank", "NH농협은행", "011"),
    "DGB": ("iM Bank (formerly Daegu Bank)", "iM뱅크", "031"),          # renamed from 대구은행 in 2024
    "BUSAN": ("Busan Bank", "부산은행", "032"),
    "KDB": ("KDB Korea Development Bank", "산업은행", "002"),
    "MG": ("MG Saemaul Geumgo", "새마을금고", "045"),
    "SUHYUP": ("Suhyup Bank", "수협", "007"),
    "SHINHAN": ("Shinhan Bank", "신한은행", "088"),
    "CU": ("Shinhyup (Credit Union)", "신협", "048"),
    "HANA": ("Hana Bank", "하나은행", "081"),                           # KEB 외환은행 merged into it
    "WOORI": ("Woori Bank", "우리은행", "020"),
    "POST": ("Korea Post (Epost)", "우체국", "071"),
    "JEONBUK": ("Jeonbuk Bank", "전북은행", "037"),
    "NHLIVESTOCK": ("NH Livestock Cooperative", "축협", "012"),
    "KAKAO": ("Kakao Bank", "카카오뱅크", "090"),
    "KBANK": ("K Bank", "케이뱅크", "089"),
    "CITI": ("Citibank Korea", "한국씨티은행", "027"),
    "TOSS": ("Toss Bank", "토스뱅크", "092"),
}


_ALL = list(BANKS)


_KFTC = {k: BANKS[k][2] for k in _ALL}


# Per-PG code tables: bank key -> code sent as refund_bank.
_TABLES: dict[str, dict[str, str]] = {
    "kftc": dict(_KFTC),
    "inicis": {k: c[1:] for k, c in _KFTC.items()},
    "kcp": {k: "BK" + c[1:] for k, c in _KFTC.items()},
    "daou": {"KB": "04", "SC": "11", "IBK": "03", "NH": "08", "BUSAN": "15", "SHINHAN": "10",
             "HANA": "05", "WOORI": "09", "POST": "31"},
    "nice_v2": {k: _KFTC[k] for k in ("KB", "SC", "GWANGJU", "IBK", "NH", "DGB", "BUSAN", "SHINHAN",
                                       "HANA", "WOORI", "POST", "KBANK")},
    "welcome": {k: _KFTC[k] for k in ("KB", "GWANGJU", "KYONGNAM", "IBK", "DGB", "BUSAN", "SUHYUP",
                                       "SHINHAN", "HANA", "WOORI", "JEONBUK", "KBANK")},
}


# Kiwoom Pay lists "외환은행 05" and "하나은행 12" separately; since the KEB merger both are Hana.
# We offer Hana once, with the code the table gives for 하나은행.
_TABLES["daou"]["HANA"] = "12"

# 외환은행's own codes, kept by the PG documents and the official spec (KFTC 005 in the holder lookup's table, Kiwoom
# Pay's 05) for accounts opened before the 2015 merger: they are read as 하나은행 wherever a stored code or a PG's reply
# names them, and never offered (a refund goes to Hana with Hana's code: 12 for Kiwoom Pay, 081 elsewhere).
LEGACY: dict[str, dict[str, str]] = {"daou": {"05": "HANA"}, "kftc": {"005": "HANA"}}


PG_TABLE: dict[str, str] = {
    "html5_inicis": "inicis", "inicis": "inicis", "inicis_unified": "inicis",
    "kcp": "kcp", "kcp_billing": "kcp", "kcp_quick": "kcp",
    "daou": "daou", "nice_v2": "nice_v2", "welcome": "welcome",
    "tosspayments": "kftc", "uplus": "kftc", "danal_tpay": "kftc", "danal": "kftc", "nice": "kftc",
    "kicc": "kftc", "smartro": "kftc", "smartro_v2": "kftc", "settle": "kftc",
}


@dataclass(frozen=True)
class BankOption:
    key: str
    name: str
    name_ko: str
    code: str        # the PG's own code, sent as refund_bank
    kftc: str        # KFTC 3-digit, for GET /vbanks/holder

    @property
    def label(self) -> str:
        """Korean first: KB국민은행 (in English: KB국민은행 (KB Kookmin Bank))."""
        return self.name_ko if lang() == "ko" else f"{self.name_ko} ({self.name})"


def table_for(pg_provider: str | None) -> dict[str, str] | None:
    name = PG_TABLE.get(pg_provider or "")
    return _TABLES[name] if name else None


def refund_banks(pg_provider: str | None) -> list[BankOption]:
    """The banks a refund through this PG can go to, with the PG's own code. Empty: PG unknown."""
    table = table_for(pg_provider) or {}
    return [BankOption(k, BANKS[k][0], BANKS[k][1], code, BANKS[k][2]) for k, code in table.items()]


def bank_by_code(pg_provider: str | None, code: str) -> BankOption | None:
    """The bank a PG's refund code names (a legacy code such as Kiwoom Pay's 외환은행 05 reads as the bank it is now,
    with the code it is offered under)."""
    found = next((b for b in refund_banks(pg_provider) if b.code == code), None)
    legacy = LEGACY.get(PG_TABLE.get(pg_provider or "", ""), {}).get(code)
    if found is None and legacy is not None:
        found = next((b for b in refund_banks(pg_provider) if b.key == legacy), None)
    return found


def bank_label(pg_provider: str | None, code: str | None) -> str:
    """The bank a PG's refund code names, Korean first; an unknown code as it is."""
    b = bank_by_code(pg_provider, code or "")
    return b.label if b else (code or "")


def bank_name_for_kftc(code: str | None) -> str:
    if code in LEGACY["kftc"]:
        code = BANKS[LEGACY["kftc"][code]][2]
    for en, ko, kftc in BANKS.values():
        if kftc == code:
            return ko if lang() == "ko" else f"{ko} ({en})"
    return code or ""
