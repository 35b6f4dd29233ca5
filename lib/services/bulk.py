"""Bulk changes of pending accounts — due dates extended, or accounts cancelled (가상계좌 발급취소) — one write per
account, each its own lock, re-read and audit records; a row that fails never stops the others, and every row given
is listed with what happened to it. More than ``rules.bulk_approval_above_count`` accounts go through an approved
request, claimed here in the statement that checks it."""

from __future__ import annotations

from datetime import datetime

from lib.db.appdb import AppDb
from lib.db.approvals import ApprovalProblem
from lib.domain.clock import KST
from lib.domain.fmt import kst
from lib.domain.i18n import _
from lib.domain.identity import Actor
from lib.domain.kinds import Action, BulkOutcome, Outcome, RequestKind, WriteKind
from lib.domain.models import Payment
from lib.domain.outcomes import BulkRow
from lib.domain.refusals import Busy, NeedsApproval, Stale
from lib.domain.rules import InvalidInput, Seen, bulk_confirmation, check_bulk_plan, plan_due
from lib.domain.settings import Rules
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError
from lib.services.revoke import revoke_vbank
from lib.services.update import _update_vbank


def _bulk_content(payments: list[Payment], extend_days: int | None, to: datetime | None) -> dict:
    return {"imp_uids": sorted(p.imp_uid for p in payments), "extend_days": extend_days,
            "to": to.isoformat() if to else None}


# =============================================================== bulk extend
def bulk_extend(client: IamportClient, db: AppDb, *, operator: Actor, payments: list[Payment],
                extend_days: int | None = None, to: datetime | None = None, rules: Rules,
                note: str | None = None, approval_id: str | None = None,
                approval_note: str | None = None, typed_confirmation: str | None = None,
                now: datetime | None = None) -> list[BulkRow]:
    """Extend the due dates of several pending accounts: one update per row, each with its own lock, re-read
    and audit records. A row that fails never stops the others. More than ``rules.bulk_approval_above_count``
    rows go through an approved request, claimed here in the statement that checks it."""
    check_bulk_plan(payments, extend_days, to, rules)
    now = now or datetime.now(KST)
    must_type = bulk_confirmation(payments, extend_days, to, rules, now)
    if must_type and not approval_id and (typed_confirmation or "").strip() != must_type:
        raise InvalidInput([_("Some of these accounts would move by more than {days} days or to an earlier date: "
                              "type {text} to confirm. Nothing was sent.").format(
                                  days=rules.update_typed_confirm_due_days, text=must_type)])
    if approval_id:
        try:
            db.approvals.claim(approval_id, approver=operator, kind=RequestKind.BULK_EXTEND, imp_uid=None,
                                      amount=len(payments), content=_bulk_content(payments, extend_days, to),
                                      note=approval_note)
        except ApprovalProblem as e:
            raise (Busy(str(e)) if e.busy else NeedsApproval(str(e))) from None
        db.audit.record(operator=operator.email, action=Action.BULK_EXTEND_REQUEST, outcome=Outcome.APPROVED,
                     correlation_id=approval_id, detail={"note": approval_note, "accounts": len(payments)})
    else:
        operator.require(WriteKind.UPDATE)
        if len(payments) > rules.bulk_approval_above_count:
            raise NeedsApproval(_("Changing more than {n} accounts at once needs a second person's approval.").format(
                n=rules.bulk_approval_above_count))
    run = _BulkRun.start(db, _bulk_content(payments, extend_days, to))
    out: list[BulkRow] = []
    for p in payments:
        new_due = plan_due(p.vbank_date, extend_days=extend_days, to=to, now=now)
        if new_due is None:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.SKIPPED, _("This account has no due date to extend.")))
            continue
        earlier = run.sent_before(p.imp_uid)
        if earlier is not None:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.SKIPPED, _(
                "Already changed by this same bulk change at {time}, before it was interrupted: not sent again.").format(
                    time=kst(earlier))))
            continue
        try:
            r = _update_vbank(client, db, operator=operator, imp_uid=p.imp_uid, seen=Seen.of(p), new_due=new_due,
                              new_amount=None, rules=rules, note=note, approval_id=approval_id, bulk_run=run.id,
                              action_key=run.action_key(p.imp_uid))
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome(r.outcome), r.message, new_due, r.correlation_id))
        except InvalidInput as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.REFUSED, " ".join(e.problems), new_due))
        except Stale as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.REFUSED, _("Changed since loaded: ") + "; ".join(e.changes),
                               new_due))
        except Busy as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.REFUSED, str(e), new_due))
        except ApiError as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.FAILED, f"“{e.message}”", new_due))
    run.finish()
    return out


class _BulkRun:
    """One bulk extension, keyed by what it changes (the accounts, the days or the date) like a single write is by
    its payment: each row's change is audited with the run's id. A run that did not finish (the app stopped in the
    middle) is resumed by the same bulk change given again within ``RESUME_S``: the rows it already sent are not sent
    again (a fresh re-read would otherwise plan them "+N days" once more). A finished run is not resumed: the same
    change made again on purpose is a new run."""

    RESUME_S = 86_400
    WHO = "(bulk runs)"

    def __init__(self, db: AppDb, run_id: str, mark: str):
        self.db, self.id, self.mark = db, run_id, mark

    @classmethod
    def start(cls, db: AppDb, content: dict) -> "_BulkRun":
        import time
        import uuid

        from lib.db.approvals import request_hash
        shared = db.shared
        mark = "bulk_run:" + request_hash(RequestKind.BULK_EXTEND, content)[:40]
        held = shared.mark(cls.WHO, mark)
        if held and ":" in held:
            run_id, started = held.split(":", 1)
            if time.time() - float(started) < cls.RESUME_S and shared.mark(cls.WHO, "bulk_done:" + run_id) is None:
                return cls(db, run_id, mark)
        run_id = uuid.uuid4().hex
        shared.set_mark(cls.WHO, mark, f"{run_id}:{time.time():.0f}")
        return cls(db, run_id, mark)

    def action_key(self, imp_uid: str) -> str:
        """The idempotency key of this run's change of one account (lib/db/writes.py): sent once, ever."""
        return f"bulk:{self.id}:{imp_uid}"

    def sent_before(self, imp_uid: str) -> datetime | None:
        """When this run already sent (or may have sent) this row's change; None when it did not."""
        row = self.db.writes.by_action_key(self.action_key(imp_uid))
        return None if row is None else datetime.fromtimestamp(int(row["sent_at"]), KST)

    def finish(self) -> None:
        self.db.shared.set_mark(self.WHO, "bulk_done:" + self.id, "1")


# =============================================================== bulk cancel (발급취소)
def _revoke_content(payments: list[Payment]) -> dict:
    return {"imp_uids": sorted(p.imp_uid for p in payments), "revoke": True}


def revoke_confirmation(payments: list[Payment]) -> str:
    """What must be typed to cancel these accounts (it cannot be undone): their number."""
    return str(len(payments))


def check_revoke_plan(payments: list[Payment], rules: Rules) -> None:
    if not payments:
        raise InvalidInput([_("Choose at least one account.")])
    if len(payments) > rules.bulk_extend_max_rows:
        raise InvalidInput([_("At most {n} accounts can be changed at once.").format(n=rules.bulk_extend_max_rows)])


def bulk_revoke(client: IamportClient, db: AppDb, *, operator: Actor, payments: list[Payment], rules: Rules,
                note: str | None = None, approval_id: str | None = None, approval_note: str | None = None,
                typed_confirmation: str | None = None) -> list[BulkRow]:
    """Cancel several pending accounts, each through the one revoke write (lib/services/revoke.py). The number of
    accounts is typed to confirm (nothing of it can be undone); an approved request was confirmed by its requester."""
    check_revoke_plan(payments, rules)
    must_type = revoke_confirmation(payments)
    if not approval_id and (typed_confirmation or "").strip() != must_type:
        raise InvalidInput([_("Cancelling accounts cannot be undone: type {text} (the number of accounts) to confirm. "
                              "Nothing was sent.").format(text=must_type)])
    if approval_id:
        try:
            db.approvals.claim(approval_id, approver=operator, kind=RequestKind.BULK_REVOKE, imp_uid=None,
                                     amount=len(payments), content=_revoke_content(payments), note=approval_note)
        except ApprovalProblem as e:
            raise (Busy(str(e)) if e.busy else NeedsApproval(str(e))) from None
        db.audit.record(operator=operator.email, action=Action.BULK_REVOKE_REQUEST, outcome=Outcome.APPROVED,
                     correlation_id=approval_id, detail={"note": approval_note, "accounts": len(payments)})
    else:
        operator.require(WriteKind.REVOKE)
        if len(payments) > rules.bulk_approval_above_count:
            raise NeedsApproval(_("Changing more than {n} accounts at once needs a second person's approval.").format(
                n=rules.bulk_approval_above_count))
    out: list[BulkRow] = []
    for p in payments:
        try:
            r = revoke_vbank(client, db, operator=operator, imp_uid=p.imp_uid, seen=Seen.of(p), rules=rules,
                             note=note, approval_id=approval_id)
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome(r.outcome), r.message, None, r.correlation_id))
        except InvalidInput as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.REFUSED, " ".join(e.problems)))
        except Stale as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.REFUSED,
                               _("Changed since loaded: ") + "; ".join(e.changes)))
        except Busy as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.REFUSED, str(e)))
        except ApiError as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, BulkOutcome.FAILED, f"“{e.message}”"))
    return out
