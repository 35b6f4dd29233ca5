"""Which action the desk offers on a virtual account, per API version and PG: the capability matrix the pages ask
before they show a button (``actions``), with the words for each action, Korean first (``label``).

From the specifications:

* **V1** (PortOne V1 REST API, ``tests/spec/portone-v1.openapi.json``):
  - refund a paid account — ``POST /payments/cancel`` with ``refund_bank`` in the PG's own code table
    (lib/domain/banks.py); not for Danal's accounts (lib/domain/pg_rules.NO_VBANK_REFUND, partial-cancel-limits.md);
  - revoke an issued account — ``DELETE /vbanks/{imp_uid}``, the PGs its description names
    (pg_rules.REVOKE_SUPPORTED), KG이니시스 excepted (it also wants its own key: pg_rules.REVOKE_NEEDS_PG_KEY);
  - change the amount / due date — ``PUT /vbanks/{imp_uid}``, the PGs of ``settings.rules.vbank_update_pgs``.
* **V2** (PortOne V2 REST API, as the official ``portone-server-sdk`` carries it):
  - refund a paid account — ``POST /payments/{paymentId}/cancel`` with ``refundAccount`` (the standard ``Bank``
    enum, number, holder name) and ``currentCancellableAmount``, for every PG; the cancel may be **asynchronous**
    (``REQUESTED`` until its webhook or a re-read says it is done); Danal's accounts excepted, as in V1 (a limit of
    the PG, not of the API);
  - close an issued account — ``POST /payments/{paymentId}/virtual-account/close``, every PG;
  - **no** endpoint changes an issued account's amount or due date: the desk offers "close and issue a new account"
    instead, with the warning that the customer gets a new account number.
"""

from __future__ import annotations

from enum import StrEnum

from lib.domain import banks, pg_rules
from lib.domain.i18n import N_, _
from lib.domain.portone_v2 import V1, V2
from lib.domain.settings import Rules


class Capability(StrEnum):
    REFUND = "refund"                        # refund a paid virtual account to the customer's account
    REVOKE = "revoke"                        # V1: 가상계좌 발급취소; V2: close the account
    CHANGE_AMOUNT = "change_amount"
    CHANGE_DUE = "change_due"
    CLOSE_AND_REISSUE = "close_and_reissue"  # V2's way to "change" an account: a new account number
    ASYNC_CANCEL = "async_cancel"            # a refund may come back REQUESTED (환불 요청됨) and finish later


LABELS: dict[Capability, str] = {
    Capability.REFUND: N_("Refund"),
    Capability.REVOKE: N_("Cancel the virtual account"),
    Capability.CHANGE_AMOUNT: N_("Change the amount"),
    Capability.CHANGE_DUE: N_("Change the due date"),
    Capability.CLOSE_AND_REISSUE: N_("Close and issue a new account"),
    Capability.ASYNC_CANCEL: N_("A refund may be processed later (refund requested)"),
}

REISSUE_WARNING = N_("PortOne V2 cannot change an issued account. Closing it and issuing a new one gives the customer "
                     "a new account number: tell the customer, or a deposit into the old account is refused.")


def actions(api_version: str, pg_provider: str | None, rules: Rules | None = None) -> frozenset[Capability]:
    """What the desk may offer on a virtual account of ``pg_provider`` (the desk's PG code) taken through
    ``api_version`` (``"v1"`` or ``"v2"``). Whether a given payment's state allows it (paid, waiting …) is the
    rules' business (lib/domain/rules.py, portone_v2.py): this is the matrix of what the API can do at all."""
    pg = pg_provider or ""
    if api_version == V2:
        out = {Capability.REVOKE, Capability.CLOSE_AND_REISSUE}
        if pg not in pg_rules.NO_VBANK_REFUND:          # Danal refunds no virtual account, whatever the API
            out |= {Capability.REFUND, Capability.ASYNC_CANCEL}
        return frozenset(out)
    if api_version != V1:
        raise ValueError(f"unknown API version {api_version!r}")
    rules = rules or Rules()
    out = set()
    if pg not in pg_rules.NO_VBANK_REFUND and banks.table_for(pg) is not None:
        out.add(Capability.REFUND)
    if pg in pg_rules.REVOKE_SUPPORTED and pg not in pg_rules.REVOKE_NEEDS_PG_KEY:
        out.add(Capability.REVOKE)
    if pg in rules.vbank_update_pgs:
        out |= {Capability.CHANGE_AMOUNT, Capability.CHANGE_DUE}
    return frozenset(out)


def label(capability: Capability) -> str:
    """The action in words, in the run's language (Korean first)."""
    return _(LABELS[capability])


def reissue_warning() -> str:
    return _(REISSUE_WARNING)


def offers_change(api_version: str, pg_provider: str | None, rules: Rules | None = None) -> Capability | None:
    """What a "change the amount / due date" button does here: ``CHANGE_DUE`` (the change itself), ``CLOSE_AND_REISSUE``
    (V2: the guided close and new account, with ``reissue_warning``) or None (nothing: the PG's console)."""
    can = actions(api_version, pg_provider, rules)
    if Capability.CHANGE_DUE in can:
        return Capability.CHANGE_DUE
    if Capability.CLOSE_AND_REISSUE in can:
        return Capability.CLOSE_AND_REISSUE
    return None


def table(pg_providers: list[str], rules: Rules | None = None) -> list[dict[str, object]]:
    """The matrix as rows (PG × version → the actions), for the README's table and the admin page."""
    return [{"pg_provider": pg, "api_version": v, "actions": sorted(actions(v, pg, rules))}
            for pg in pg_providers for v in (V1, V2)]
