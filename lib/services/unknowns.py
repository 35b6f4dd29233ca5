"""(split from lib.services)"""

from __future__ import annotations

from lib.db.audit import AuditStore
from lib.iamport.client import IamportClient
from lib.domain.identity import Actor
from lib.db.locks import Lock
from lib.services.write import KINDS, WriteResult, _resolve, _settle_abandoned


def resolve_unknown(client: IamportClient, audit: AuditStore, *, operator: Actor, kind: str, imp_uid: str,
                    operator_confirms_not_applied: bool = False) -> WriteResult:
    """Settle a write whose outcome is unknown (``kind``: ``refund`` or ``vbank``): by a re-read that shows it
    landed, or by an operator who checked the PG and confirms it did not. Only then can that payment be
    written again."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    perm = "refund" if kind == "refund" else "update_vbank"
    # The operators who send, and the approvers who may have sent it through a request, may resolve it.
    operator.require(perm if operator.can(perm) or not operator.can("approve_refund") else "approve_refund")
    return _resolve(client, audit, operator=operator, kind=kind, imp_uid=imp_uid,
                    confirm_not_applied=operator_confirms_not_applied)


def resolve_unknown_refund(client, audit, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    return resolve_unknown(client, audit, operator=operator, kind="refund", imp_uid=imp_uid,
                           operator_confirms_not_applied=operator_confirms_not_applied)


def resolve_unknown_update(client, audit, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    return resolve_unknown(client, audit, operator=operator, kind="vbank", imp_uid=imp_uid,
                           operator_confirms_not_applied=operator_confirms_not_applied)


def open_outcome(client: IamportClient | None, audit: AuditStore, *, kind: str, imp_uid: str,
                 operator: Actor | None = None) -> Lock | None:
    """The lock of an unresolved write of this payment, after settling an abandoned one (if an operator is
    given): what a page shows at the top, with the ways to resolve it."""
    held = audit.lock(f"{kind}:{imp_uid}")
    if held is not None and held.abandoned() and operator is not None and client is not None:
        _settle_abandoned(client, audit, held, operator)
        held = audit.lock(f"{kind}:{imp_uid}")
    return held
