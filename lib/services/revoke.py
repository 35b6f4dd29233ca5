"""DELETE /vbanks/{imp_uid} (가상계좌 발급취소): close a pending virtual account that will never be paid (an order
cancelled, a customer who ordered twice), once, through the same write as the other two (lib/services/write.py).
Closed, the account refuses deposits; the payment reads ``cancelled`` with nothing refunded."""

from __future__ import annotations

from lib.db.appdb import AppDb
from lib.domain import portone_v2
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import RequestKind, WriteKind
from lib.domain.outcomes import WriteResult
from lib.domain.rules import InvalidInput, Seen, revoke_blockers
from lib.domain.settings import Rules
from lib.iamport.v2.client import DeskClient
from lib.services.update import clean_note
from lib.services.write import Write, approved_row


def revoke_vbank(client: DeskClient, db: AppDb, *, operator: Actor, imp_uid: str, seen: Seen,
                 rules: Rules, note: str | None = None, approval_id: str | None = None,
                 action_key: str | None = None) -> WriteResult:
    """Close the account, once. Refused before sending when the account is no longer pending (paid meanwhile:
    ``Stale``), when its PG cannot close accounts through the API, or for a role that may not. A PortOne V2 account
    (the payment read through ``PortOneV2Client``) is closed with V2's own endpoint, for every PG."""
    if approval_id:          # permission only as part of the approved bulk request being carried out, by its approver
        approved_row(db, approval_id, operator=operator, kind=RequestKind.BULK_REVOKE, imp_uid=imp_uid)
    else:
        operator.require(WriteKind.REVOKE)
    note = clean_note(note)
    write = Write(client, db, operator=operator, kind=WriteKind.REVOKE, imp_uid=imp_uid,
                  lease_s=float(rules.lock_lease_seconds), action_key=action_key)
    with write.claim(seen):
        fresh = write.fresh
        assert fresh is not None
        v2 = portone_v2.api_version(fresh) == portone_v2.V2
        problems = portone_v2.revoke_blockers(fresh) if v2 else revoke_blockers(fresh)
        if problems:
            raise InvalidInput(problems)
        write.before = {"status": fresh.status, "amount": fresh.amount, "vbank_num": fresh.vbank_num}
        return write.send({"imp_uid": imp_uid}, lambda: client.revoke_vbank(imp_uid),
                          detail={"note": note, "approval_id": approval_id},
                          refused=_("The API refused to cancel the account: “{msg}”. The account stays open."),
                          done=_("The virtual account was cancelled: it no longer accepts deposits."))
