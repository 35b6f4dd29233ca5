"""PortOne V2's codes in the desk's words, and the V2 rules of the two writes V2 has (refund, close), pure.

* ``PG_PROVIDERS``: the V2 ``PgProvider`` enum (the SDK's ``portone_server_sdk`` types) → the V1 ``pg_provider`` code
  the desk already knows (names, fees, settlement days, reconciliation): ``INICIS_V2`` is ``html5_inicis``, ``KCP_V2``
  is ``kcp`` … (the V2 codes of PortOne's deposit-notice page: tosspayments, smartro_v2, nice_v2, inicis_v2, kpn,
  kcp_v2).
* ``BANKS``: the V2 ``Bank`` enum (one standard list for every PG, unlike V1's per-PG refund codes) → the desk's bank
  keys (lib/domain/banks.py: names and KFTC codes).
* The V2 refund's checks: the refund account names a V2 bank (not a PG's own code) and the holder's phone is never
  required by a PG; the rest (amount, reason, holder name, account digits) is the V1 wizard's own rules.
"""

from __future__ import annotations

from dataclasses import replace

from lib.domain import banks, pg_rules
from lib.domain.banks import BankOption
from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.domain.names import pg_name, status_name
from lib.domain.rules import InvalidInput, RefundRequest, payment_refund_blockers, validate_refund_amount
from lib.domain.settings import Rules
from lib.domain.text import NAME_MAX, NOTE_MAX, ascii_digits, clean, has_invisible, is_account_text

V1, V2 = "v1", "v2"

PG_PROVIDERS: dict[str, str] = {
    "INICIS_V2": "html5_inicis", "HTML5_INICIS": "html5_inicis", "INICIS": "inicis",
    "INICIS_UNIFIED": "inicis_unified", "KCP_V2": "kcp", "KCP": "kcp", "KCP_BILLING": "kcp_billing",
    "KCP_QUICK": "kcp_quick", "TOSSPAYMENTS": "tosspayments", "UPLUS": "uplus", "NICE_V2": "nice_v2", "NICE": "nice",
    "SMARTRO_V2": "smartro_v2", "SMARTRO": "smartro", "KSNET": "ksnet", "KICC": "kicc", "KICC_V2": "kicc",
    "SETTLE": "settle", "DAOU": "daou", "DANAL": "danal", "DANAL_TPAY": "danal_tpay", "WELCOME": "welcome",
    "KPN": "kpn", "PAYCO": "payco", "KAKAOPAY": "kakaopay", "NAVERPAY": "naverpay", "TOSSPAY": "tosspay",
    "TOSSPAY_V2": "tosspay", "MOBILIANS": "mobilians", "MOBILIANS_V2": "mobilians", "EXIMBAY": "eximbay",
    "EXIMBAY_V2": "eximbay", "PAYPAL": "paypal", "PAYPAL_V2": "paypal_v2", "HYPHEN": "hyphen",
}

# V2 Bank enum → the desk's bank key (lib/domain/banks.BANKS). LOCAL_NONGHYUP is 지역 농·축협 (KFTC 012).
BANKS: dict[str, str] = {
    "KOOKMIN": "KB", "STANDARD_CHARTERED": "SC", "KYONGNAM": "KYONGNAM", "KWANGJU": "GWANGJU", "IBK": "IBK",
    "NONGHYUP": "NH", "LOCAL_NONGHYUP": "NHLIVESTOCK", "DAEGU": "DGB", "BUSAN": "BUSAN", "KDB": "KDB", "KFCC": "MG",
    "SUHYUP": "SUHYUP", "SHINHAN": "SHINHAN", "SHINHYUP": "CU", "HANA": "HANA", "WOORI": "WOORI", "POST": "POST",
    "JEONBUK": "JEONBUK", "KAKAO": "KAKAO", "K_BANK": "KBANK", "CITI": "CITI", "TOSS": "TOSS",
}

# V2 PaymentStatus → the desk's (V1) status. PENDING (결제 완료 대기) has not been paid yet.
STATUSES: dict[str, str] = {"READY": "ready", "VIRTUAL_ACCOUNT_ISSUED": "ready", "PENDING": "ready", "PAID": "paid",
                            "PARTIAL_CANCELLED": "paid", "CANCELLED": "cancelled", "FAILED": "failed"}
# The desk's status list → the V2 statuses it covers (a partly refunded payment is "paid" on the desk, as in V1).
STATUS_FILTER: dict[str, list[str]] = {"ready": ["READY", "VIRTUAL_ACCOUNT_ISSUED", "PENDING"],
                                       "paid": ["PAID", "PARTIAL_CANCELLED"], "cancelled": ["CANCELLED"],
                                       "failed": ["FAILED"]}


def pg_code(provider: str | None) -> str | None:
    """The desk's PG code for a V2 ``PgProvider`` (an unknown one in lower case, as V1 writes its codes)."""
    if not provider:
        return None
    return PG_PROVIDERS.get(provider, provider.lower())


def api_version(p: object) -> str:
    """The API a payment (or a client) belongs to: ``"v2"`` for those read through PortOne V2, else ``"v1"``."""
    extra = getattr(p, "model_extra", None) or {}
    return str(extra.get("api_version") or getattr(p, "api_version", None) or V1)


def bank_option(enum: str) -> BankOption | None:
    """The V2 bank ``enum`` as the desk's bank (names, KFTC code), with the enum as the code sent."""
    key = BANKS.get(enum)
    if key is None:
        return None
    en, ko, kftc = banks.BANKS[key]
    return BankOption(key, en, ko, enum, kftc)


def refund_banks() -> list[BankOption]:
    """The banks a V2 refund can go to (every PG takes the same list), Korean names first."""
    return [b for b in (bank_option(e) for e in BANKS) if b is not None]


def bank_label(enum: str | None) -> str:
    b = bank_option(enum or "")
    return b.label if b else (enum or "")


def bank_for_kftc(kftc: str | None) -> str | None:
    """The V2 bank enum of a KFTC code (a V1 refund account offered again for a V2 refund), None when unknown."""
    for enum, key in BANKS.items():
        if banks.BANKS[key][2] == kftc:
            return enum
    return None


# ================================================================ the V2 writes' rules
def refund_blockers(p: Payment) -> list[str]:
    """Why this V2 payment cannot be refunded through the wizard at all (empty: it can). V2 refunds every PG's
    virtual account to an account of the standard bank list: no per-PG code table is needed."""
    out = payment_refund_blockers(p)
    requested = int((p.model_extra or {}).get("cancel_requested_amount") or 0)
    if requested:
        out.append(_("A refund of this payment is still being processed by the PG (refund requested): wait for it to "
                     "finish before sending another."))
    return out


def validate_refund_account(p: Payment, r: RefundRequest) -> list[str]:
    """The customer's refund account for a V2 refund: a bank of the standard list, holder name, 8–16 digits, and the
    holder's phone where the PG wants it (``holderPhoneNumber``: 스마트로, as in V1)."""
    problems = []
    holder = clean(r.refund_holder)
    if not holder:
        problems.append(_("Enter the refund account holder's name."))
    elif len(holder) > NAME_MAX:
        problems.append(_("The account holder's name is too long ({max} characters at most).").format(max=NAME_MAX))
    elif has_invisible(r.refund_holder):
        problems.append(_("The account holder's name holds invisible characters (zero-width or direction marks); "
                          "type it again."))
    if bank_option(r.refund_bank) is None:
        problems.append(_("Pick the customer's bank from the list."))
    acct = (r.refund_account or "").strip()
    if not acct:
        problems.append(_("Enter the refund account number."))
    elif not is_account_text(acct):
        problems.append(_("The account number may hold the digits 0–9 and hyphens only."))
    elif not 8 <= len(ascii_digits(acct)) <= 16:
        problems.append(_("The account number should have 8 to 16 digits."))
    tel = (r.refund_tel or "").strip()
    if pg_rules.needs_refund_tel(p.pg_provider) and not tel:
        problems.append(_("{pg} needs the account holder's phone number for a virtual-account refund (9–11 digits, "
                          "0–9 and hyphens only).").format(pg=pg_name(p.pg_provider)))
    elif tel and (not is_account_text(tel) or not 9 <= len(ascii_digits(tel)) <= 11):
        problems.append(_("The account holder's phone number should have 9 to 11 digits (0–9 and hyphens only)."))
    if len(r.holder_override or "") > NOTE_MAX:
        problems.append(_("The reason for going on despite the holder check is too long ({max} characters at "
                          "most).").format(max=NOTE_MAX))
    return problems


def validate_refund(p: Payment, r: RefundRequest, rules: Rules) -> list[str]:
    """Everything a V2 refund must satisfy before it is sent (V2's ``vatAmount`` is taken for every PG)."""
    blockers = refund_blockers(p)
    if blockers:
        return blockers
    amount = validate_refund_amount(p, replace(r, vat_amount=None), rules)
    if r.vat_amount is not None and (isinstance(r.vat_amount, bool) or not isinstance(r.vat_amount, int)
                                     or r.vat_amount < 0 or (isinstance(r.amount, int) and r.vat_amount > r.amount)):
        amount.append(_("{name} must be between ₩0 and the refund amount.").format(name=_("The VAT amount")))
    return amount + validate_refund_account(p, r)


def revoke_blockers(p: Payment) -> list[str]:
    """Why this V2 virtual account cannot be closed (empty: it can): V2 closes any PG's issued account
    (``POST /payments/{paymentId}/virtual-account/close``), only while it waits for its deposit."""
    out = []
    if not p.is_vbank:
        out.append(_("This payment is not a virtual account."))
    if p.status != "ready" or not p.vbank_num:
        out.append(_("Only a virtual account still waiting for its deposit can be cancelled (status is {status}).").format(
            status=status_name(p.status)))
    return out


def no_update() -> InvalidInput:
    """The refusal of a change of amount or due date on V2, with the way that exists instead."""
    return InvalidInput([_("PortOne V2 cannot change an issued virtual account's amount or due date. Close this account "
                           "and issue a new one instead: the customer then gets a new account number to pay into.")])
