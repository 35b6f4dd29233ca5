"""The refund wizard's state: its answers step by step (``RefundDraft``, kept in the session; the send re-checks
everything) and the moves between steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from lib.domain.holder_check import HolderCheck
from lib.domain.models import Payment
from lib.domain.rules import RefundRequest, Seen
from lib.ui import keys


@dataclass
class RefundDraft:
    """The refund wizard's answers, step by step (kept in the session; the send re-checks everything)."""

    step: int = 1
    imp_uid: str = ""
    payment: dict | None = None            # the payment as chosen in step 1 (the API's fields)
    seen: Seen | None = None
    amount: int | None = None
    reason_code: str | None = None
    note: str = ""
    tax_free: int | None = None
    vat_amount: int | None = None
    holder: str = ""
    bank: str | None = None
    account: str = ""
    tel: str = ""
    holder_check: HolderCheck | None = None   # the bank's check the operator asked for (lib/domain/holder_check.py)
    holder_override: str = ""              # why to send although the bank's name differs / the check failed
    action: str | None = None              # one id per confirmation: the send happens once for it
    extra: dict[str, Any] = field(default_factory=dict)
    api: str = "v1"                        # the payment's API ("v2": PortOne V2 — its bank list, no holder lookup)

    @property
    def v2(self) -> bool:
        return self.api == "v2"

    def chosen(self) -> Payment:
        return Payment.model_validate(self.payment)

    def request(self) -> RefundRequest:
        return RefundRequest(imp_uid=self.imp_uid, amount=int(self.amount or 0), reason_code=self.reason_code or "",
                             note=self.note, refund_holder=self.holder, refund_bank=self.bank or "",
                             refund_account=self.account, refund_tel=self.tel, tax_free=self.tax_free,
                             vat_amount=self.vat_amount, holder_override=self.holder_override)

    def current_check(self) -> HolderCheck | None:
        """The holder check when it was made for exactly the account details typed now (else None: stale)."""
        chk = self.holder_check
        return chk if chk is not None and chk.current_for(self.bank or "", self.account, self.holder) else None

    def holder_needs_reason(self) -> bool:
        """The current check did not confirm the name (it differs, or the lookup failed)."""
        chk = self.current_check()
        return bool(chk and chk.needs_reason())

    def holder_mismatch(self) -> str | None:
        """The bank's name for the account when it differs from the holder typed and the check is current."""
        chk = self.current_check()
        return chk.mismatch() if chk else None


def draft(query_imp_uid: str | None) -> RefundDraft:
    """This session's draft; a new one for a payment named in the URL (unless a result is being shown)."""
    d = st.session_state.get(keys.REFUND_DRAFT)
    if not isinstance(d, RefundDraft):
        d = st.session_state[keys.REFUND_DRAFT] = RefundDraft()
    if query_imp_uid and d.imp_uid != query_imp_uid and d.step < 6:
        d = st.session_state[keys.REFUND_DRAFT] = RefundDraft(imp_uid=query_imp_uid)
        d.api = "v2" if st.query_params.get("api") == "v2" else "v1"
    return d


def current() -> RefundDraft:
    d = st.session_state.get(keys.REFUND_DRAFT)
    return d if isinstance(d, RefundDraft) else draft(None)


def go(step: int) -> None:
    current().step = step


def restart() -> None:
    st.session_state[keys.REFUND_DRAFT] = RefundDraft()
    st.query_params.clear()
