"""PUT /vbanks/{imp_uid}: change a pending virtual account's amount and/or due date, once (lib/services/write.py)."""

from __future__ import annotations

from datetime import datetime

from lib.db.appdb import AppDb
from lib.domain import portone_v2
from lib.domain.clock import to_unix
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import RequestKind, WriteKind
from lib.domain.models import Payment
from lib.domain.outcomes import WriteResult
from lib.domain.refusals import NeedsApproval
from lib.domain.rules import InvalidInput, Seen, plan_due, update_confirmation, validate_update
from lib.domain.settings import Rules
from lib.domain.text import NOTE_MAX, clean
from lib.iamport.v2.client import DeskClient, version_of
from lib.services.write import Write, approved_row


def update_vbank(client: DeskClient, db: AppDb, *, operator: Actor, imp_uid: str, seen: Seen,
                 new_amount: int | None = None, new_due: datetime | None = None, rules: Rules,
                 note: str | None = None, typed_confirmation: str | None = None,
                 action_key: str | None = None) -> WriteResult:
    """PUT /vbanks/{imp_uid} with only the changed fields, once. A drastic change (``update_confirmation``) is
    sent only with the confirmation typed. ``action_key``: the page's send-once id (lib/db/writes.py)."""
    operator.require(WriteKind.UPDATE)
    return _update_vbank(client, db, operator=operator, imp_uid=imp_uid, seen=seen, new_amount=new_amount,
                         new_due=new_due, rules=rules, note=note, typed_confirmation=typed_confirmation or "",
                         action_key=action_key)


def clean_note(note: str | None) -> str | None:
    note = clean(note, multiline=True) or None
    if note and len(note) > NOTE_MAX:
        raise InvalidInput([_("The note is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    return note


def _update_vbank(client: DeskClient, db: AppDb, *, operator: Actor, imp_uid: str, seen: Seen,
                  new_amount: int | None, new_due: datetime | None, rules: Rules, note: str | None,
                  approval_id: str | None = None, typed_confirmation: str | None = None,
                  bulk_run: str | None = None, action_key: str | None = None) -> WriteResult:
    """``typed_confirmation`` None: a bulk change (confirmed as a whole, or approved); else checked when the
    change is drastic. Checks the role itself (an approver executing an approved bulk request, or an operator).
    PortOne V2 has no way to change an issued account: refused before anything, offering close-and-reissue."""
    if version_of(client) == portone_v2.V2:
        raise portone_v2.no_update()
    if approval_id:          # permission only as part of the approved bulk request being carried out, by its approver
        req = approved_row(db, approval_id, operator=operator, kind=RequestKind.BULK_EXTEND, imp_uid=imp_uid)
        to = datetime.fromisoformat(req.payload["to"]) if req.payload.get("to") else None
        approved = {p.imp_uid: p for p in map(Payment.model_validate, req.payload.get("payments", []))}
        plan = plan_due(approved[imp_uid].vbank_date, extend_days=req.payload.get("extend_days"), to=to)
        if new_amount is not None or new_due is None or plan is None or to_unix(new_due) != to_unix(plan):
            raise NeedsApproval(_("Approval request {request_id} does not cover this change of {imp_uid}: nothing "
                                  "was sent.").format(request_id=approval_id, imp_uid=imp_uid))
    else:
        operator.require(WriteKind.UPDATE)
    note = clean_note(note)
    write = Write(client, db, operator=operator, kind=WriteKind.UPDATE, imp_uid=imp_uid,
                  lease_s=float(rules.lock_lease_seconds), action_key=action_key)
    with write.claim(seen):
        fresh = write.fresh
        assert fresh is not None
        problems = validate_update(fresh, new_amount=new_amount, new_due=new_due, rules=rules)
        if problems:
            raise InvalidInput(problems)
        if typed_confirmation is not None:
            need = update_confirmation(seen, new_amount=new_amount, new_due=new_due, rules=rules)
            if need is not None and typed_confirmation.replace(",", "").strip() != need.replace(",", ""):
                raise InvalidInput([_("This change is large: type “{need}” to confirm it.").format(need=need)])
        body: dict = {}
        if new_amount is not None and new_amount != fresh.amount:
            body["amount"] = new_amount
        if new_due is not None and to_unix(new_due) != to_unix(fresh.vbank_date):
            body["vbank_due"] = to_unix(new_due)
        write.before = {"amount": fresh.amount, "vbank_due": to_unix(fresh.vbank_date)}
        return write.send(body, lambda: client.update_vbank(imp_uid, amount=body.get("amount"),
                                                             vbank_due=body.get("vbank_due")),
                          detail={"note": note, "approval_id": approval_id,
                                  **({"bulk_run": bulk_run} if bulk_run else {})},
                          refused=_("The API refused the change: “{msg}”. Nothing was changed."),
                          done=_("The virtual account was updated."))
