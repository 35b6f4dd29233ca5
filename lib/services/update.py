"""(split from lib.services)"""

from __future__ import annotations

from datetime import datetime
from lib.db.audit import AuditStore
from lib.iamport.client import IamportClient
from lib.domain.clock import to_unix
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.settings import Rules
from lib.domain.rules import InvalidInput, Seen, update_confirmation, validate_update
from lib.domain.text import NOTE_MAX, clean
from lib.services.write import WriteResult, _after, _guarded, _notify, _what, _write


# ================================================================ update vbank
def update_vbank(client: IamportClient, audit: AuditStore, *, operator: Actor, imp_uid: str, seen: Seen,
                 new_amount: int | None = None, new_due: datetime | None = None, rules: Rules,
                 note: str | None = None, typed_confirmation: str | None = None) -> WriteResult:
    """PUT /vbanks/{imp_uid} with only the changed fields, once. A drastic change (``update_confirmation``) is
    sent only with the confirmation typed."""
    operator.require("update_vbank")
    return _update_vbank(client, audit, operator=operator, imp_uid=imp_uid, seen=seen, new_amount=new_amount,
                         new_due=new_due, rules=rules, note=note, typed_confirmation=typed_confirmation or "")


def _update_vbank(client, audit, *, operator: Actor, imp_uid: str, seen: Seen, new_amount, new_due, rules: Rules,
                  note: str | None, approval_id: str | None = None,
                  typed_confirmation: str | None = None) -> WriteResult:
    """``typed_confirmation`` None: a bulk change (confirmed as a whole, or approved); else checked when the
    change is drastic. Checks the role itself (an approver executing an approved bulk request, or an operator)."""
    if not (approval_id and operator.can("approve_refund")):
        operator.require("update_vbank")
    note = clean(note, multiline=True) or None
    if note and len(note) > NOTE_MAX:
        raise InvalidInput([_("The note is too long ({n:,} characters; {max} at most).").format(
            n=len(note), max=NOTE_MAX)])
    with _guarded(client, audit, operator=operator, kind="vbank", imp_uid=imp_uid, seen=seen,
                  rules=rules) as ctx:
        fresh = ctx.fresh
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
        before = {"amount": fresh.amount, "vbank_due": to_unix(fresh.vbank_date)}
        res, updated = _write(client, audit, ctx, operator=operator, kind="vbank", imp_uid=imp_uid, body=body,
                              detail={"before": before, "note": note, "approval_id": approval_id},
                              call=lambda: client.update_vbank(imp_uid, amount=body.get("amount"),
                                                               vbank_due=body.get("vbank_due")),
                              what=_what("vbank"), refused_msg=_("The API refused the change: “{msg}”. Nothing was "
                                                                 "changed."))
        if res is not None:
            return res
        audit.record(operator=operator.email, action="update_vbank", outcome="succeeded", correlation_id=ctx.cid,
                     imp_uid=imp_uid, merchant_uid=updated.merchant_uid, request=body, api_code=0,
                     detail={"before": before, "after": _after("vbank", updated)})
        audit.release(ctx.key, ctx.cid)
        _notify()
        return WriteResult("succeeded", _("The virtual account was updated."), ctx.cid, updated, 0)
