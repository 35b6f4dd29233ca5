"""How the finance team names things: PGs by their Korean trade names (the code as a detail), payment statuses as
the PortOne console says them, and vbank-desk's own codes (audit actions and outcomes, lock states, approval
request states, pages) in words. Each table holds message ids (``N_``), translated when shown."""

from __future__ import annotations

from typing import Any

from lib.domain.i18n import N_, _

PG_NAMES = {
    "html5_inicis": "KG이니시스", "inicis": "KG이니시스 (구모듈)", "inicis_unified": "KG이니시스 (통합)",
    "kcp": "NHN KCP", "kcp_billing": "NHN KCP (정기)", "kcp_quick": "NHN KCP (퀵페이)",
    "tosspayments": "토스페이먼츠", "uplus": "LG U+", "nice": "나이스페이먼츠", "nice_v2": "나이스페이먼츠 (신모듈)",
    "kicc": "KICC", "settle": "헥토파이낸셜(세틀뱅크)", "smartro": "스마트로 (구모듈)", "smartro_v2": "스마트로",
    "daou": "키움페이", "danal": "다날", "danal_tpay": "다날", "welcome": "웰컴페이먼츠", "ksnet": "KSNET",
}


# In Korean as the PortOne console says them (입금대기, 결제완료, 취소, 실패: locale/ko).
STATUS_NAMES = {"ready": N_("Awaiting deposit"), "paid": N_("Paid"), "cancelled": N_("Cancelled"),
                "failed": N_("Failed")}


METHOD_NAMES = {"vbank": N_("Virtual account"), "card": N_("Card"), "trans": N_("Bank transfer"),
                "phone": N_("Mobile phone"), "point": N_("Points")}


ACTION_NAMES = {"update_vbank": N_("Change of a virtual account"), "refund": N_("Refund"),
                "revoke_vbank": N_("Cancellation of a virtual account"),
                "refund_request": N_("Refund approval"), "bulk_extend_request": N_("Bulk extension approval"),
                "bulk_revoke_request": N_("Bulk cancellation approval"),
                "approval": N_("Approval"), "reveal_personal": N_("Full numbers shown"),
                "recon_preset": N_("Reconciliation preset"), "saved_view": N_("Saved view"),
                "recon_resolution": N_("Reconciliation exception"), "sign_in": N_("Sign-in"),
                "account": N_("Account")}


OUTCOME_NAMES = {"sent": N_("sent"), "succeeded": N_("applied"), "failed": N_("not applied"),
                 "refused": N_("refused"), "unknown": N_("outcome unknown"), "resolved": N_("resolved"),
                 "requested": N_("requested"), "approved": N_("approved"), "rejected": N_("rejected"),
                 "withdrawn": N_("withdrawn"), "expired": N_("expired"), "executed": N_("approved and sent"),
                 "revealed": N_("shown"), "saved": N_("saved"), "freed": N_("freed")}


LOCK_STATES = {"in_flight": N_("being prepared"), "sending": N_("sent, waiting for the reply"),
               "unknown": N_("outcome unknown")}


REQUEST_STATUS = {"pending": N_("waiting"), "approving": N_("approved, sending"), "approved": N_("approved"),
                  "executed": N_("approved and sent"), "rejected": N_("rejected"), "withdrawn": N_("withdrawn"),
                  "expired": N_("expired"), "failed": N_("approved, not applied"),
                  "unknown": N_("approved, outcome unknown")}


PERMISSION_NAMES = {"read": N_("read"), "export": N_("export"), "update_vbank": N_("change a virtual account"),
                    "revoke_vbank": N_("cancel a virtual account"), "refund": N_("refund"),
                    "approve_refund": N_("approve a request"), "admin": N_("administer the app"),
                    "reveal_personal": N_("see full account and phone numbers"),
                    "save_settings": N_("save shared settings")}


ROLE_NAMES = {"viewer": N_("viewer"), "operator": N_("operator"), "approver": N_("approver"), "admin": N_("admin")}


# Why a write ended as it did, or why its outcome is unknown (kept as these codes in the audit log, the lock and the
# approval request; records from before the codes hold a sentence, shown as it is).
WHY = {"stopped_before_sending": N_("the app stopped before sending it: nothing was sent"),
       "stopped_after_sending": N_("the app that sent it stopped before recording the outcome"),
       "nothing_sent": N_("nothing was sent for it"),
       "applied_reread": N_("a re-read shows it took effect"),
       "not_applied_checked": N_("not applied (an operator checked the PG)"),
       "no_reply": N_("no clear reply from the API; it may still apply it"),
       "interrupted": N_("interrupted after sending; the outcome was not recorded"),
       "payment_changed": N_("the payment changed since the request, so nothing was sent"),
       "api_refused": N_("the API's refusal"),
       "never_sent": N_("never sent (no connection or no token)")}


# What a check of the audit chain found broken (lib/domain/chain.ChainReport.reason and its params).
CHAIN_BREAKS = {"link_broken": N_("its link to the record before is broken (a record was removed or inserted)"),
                "content_changed": N_("its content was changed after it was written"),
                "signature_mismatch": N_("its signature does not match: the record was written or re-chained "
                                         "without the audit key"),
                "anchor_differs": N_("it differs from the anchor you exported: the log was rewritten since then"),
                "head_signature_missing": N_("the head record carries no signature although an audit key is configured: "
                                    "signatures were removed"),
                "head_signature_mismatch": N_("the head record's signature does not match: it was rewritten without "
                                              "the audit key"),
                "no_head": N_("the log has no head record: it was not written by vbank-desk, or the head was removed"),
                "newest_removed": N_("{removed} of the newest records were removed (the head says {head_count})"),
                "end_mismatch": N_("the end of the log does not match its head ({n} records, the head says "
                                   "{head_count})"),
                "fewer_than_anchor": N_("the log has {n} records but had {anchor_count} when the anchor was exported: "
                                        "records were removed")}


# Reconciliation statuses in the words of PortOne's 거래대사 and of bank 입금대사 — the team's own terms, in both
# languages (as the PG names on screen).
RECON_STATUS_WORDS = {"matched": "일치", "mismatched": "불일치", "file_only": "대사불능 (파일에만)",
                      "import_only": "대사불능 (아임포트에만)", "payout_matched": "일치", "short": "부족 입금",
                      "over": "초과 입금", "missing": "미입금", "unexpected": "예상 외 입금",
                      "offset": "입금 없음 (상계)"}


# Where "show full numbers" was switched on (kept as this code in the audit record).
PAGE_NAMES = {"pending list": N_("pending list"), "payment": N_("payment detail"), "search": N_("payment search"),
              "approval": N_("approval request")}


def _named(table: dict[str, str], code: str | None, empty: str = "") -> str:
    """The code's name in the current language; an unknown code as it is (it came from outside)."""
    if not code:
        return empty
    return _(table[code]) if code in table else code


def pg_name(code: str | None) -> str:
    """KG이니시스 (html5_inicis); an unknown code as it is."""
    if not code:
        return "—"
    name = PG_NAMES.get(code)
    return f"{name} ({code})" if name else code


def pg_short(code: str | None) -> str:
    """KG이니시스: the trade name alone, for a narrow picker (pg_name gives the code with it); unknown codes as they are."""
    if not code:
        return "—"
    return PG_NAMES.get(code, code)


def bank_name(code: str | None, pg_provider: str | None = None) -> str:
    """A refund bank code (each PG has its own: 004, 04, BK04 …) as the bank's name: by the PG's table when the PG
    is known, else by the one bank every table agrees the code names; a code no table knows as it is."""
    from lib.domain import banks
    c = (code or "").strip()
    if not c:
        return ""
    if pg_provider:
        b = banks.bank_by_code(pg_provider, c)
        if b is not None:
            return b.label
    keys = {k for table in banks._TABLES.values() for k, v in table.items() if v == c}
    if len(keys) == 1:
        k = keys.pop()
        en, ko, _kftc = banks.BANKS[k]
        return banks.BankOption(k, en, ko, c, _kftc).label
    return c


def status_name(status: str | None) -> str:
    """입금대기 / Awaiting deposit."""
    return _named(STATUS_NAMES, status, "—")


def method_name(method: str | None) -> str:
    return _named(METHOD_NAMES, method, "—")


def action_name(action: str | None) -> str:
    return _named(ACTION_NAMES, action)


def outcome_name(outcome: str | None) -> str:
    return _named(OUTCOME_NAMES, outcome)


def lock_state(state: str | None) -> str:
    return _named(LOCK_STATES, state)


def request_status(status: str | None) -> str:
    return _named(REQUEST_STATUS, status)


def page_name(code: str | None) -> str:
    return _named(PAGE_NAMES, code)


def role_name(role: str | None) -> str:
    return _named(ROLE_NAMES, role)


def why(code: str | None) -> str:
    """A write's ending in words (lib/domain/kinds and the audit's ``why`` codes)."""
    return _named(WHY, code)


def chain_break(reason: str, params: dict[str, Any] | None = None) -> str:
    """What a check of the audit chain found, in words."""
    return _named(CHAIN_BREAKS, reason).format(**(params or {})) if reason in CHAIN_BREAKS else reason


def permission_name(permission: str | None) -> str:
    return _named(PERMISSION_NAMES, permission)


def recon_status(code: str | None) -> str:
    """일치 / 불일치 / 대사불능 (…) / 부족 입금 …: a reconciliation status code in the team's words."""
    return RECON_STATUS_WORDS.get(code or "", code or "")
