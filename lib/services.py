"""The two money-moving writes, each end to end in one function:
validate → take the in-flight lock → re-read the payment and refuse if it
changed → audit "sent" → send once → audit the outcome → release → tell the
caches. After a timeout the payment is re-read to learn what happened; the
request is never resent.

Nothing here imports streamlit: pages call these and show the result.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import banks
from .audit import AuditStore, new_correlation_id
from .client import ApiError, IamportClient, OutcomeUnknown
from .fmt import digits_only, krw, kst, now_kst
from .identity import Actor, Forbidden  # noqa: F401  (Forbidden re-exported for pages)
from .models import Payment, to_unix
from .settings import Rules

# Called after every write that may have changed data (cache invalidation).
WRITE_LISTENERS: list[Callable[[], None]] = []


def _notify() -> None:
    for fn in list(WRITE_LISTENERS):
        fn()


class InvalidInput(Exception):
    """Input the operator can fix; ``problems`` are sentences for the form."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class Busy(Exception):
    """Another write to the same payment is in flight (or its outcome is unknown)."""


class NeedsApproval(Exception):
    """Above the four-eyes threshold: this must be requested and approved by a second person."""


class Stale(Exception):
    """The payment changed since the operator looked at it; ``changes`` says how."""

    def __init__(self, changes: list[str], payment: Payment | None):
        super().__init__("; ".join(changes))
        self.changes, self.payment = changes, payment


@dataclass(frozen=True)
class Seen:
    """What the operator saw when the form loaded: a write is refused if any of it changed."""

    status: str
    amount: int
    cancel_amount: int
    vbank_due: int          # UNIX seconds, 0 if none

    @classmethod
    def of(cls, p: Payment) -> "Seen":
        return cls(p.status, p.amount, p.cancel_amount, to_unix(p.vbank_date))


@dataclass
class WriteResult:
    outcome: str                    # succeeded | failed | unknown
    message: str                    # a sentence for the operator
    correlation_id: str
    payment: Payment | None = None
    api_code: int | None = None
    api_message: str | None = None
    confirmed_by_reread: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "succeeded"


def _changes(seen: Seen, now: Payment) -> list[str]:
    out = []
    if now.status != seen.status:
        out.append(f"status is now '{now.status}' (was '{seen.status}')")
    if now.amount != seen.amount:
        out.append(f"amount is now {krw(now.amount)} (was {krw(seen.amount)})")
    if now.cancel_amount != seen.cancel_amount:
        out.append(f"refunded so far is now {krw(now.cancel_amount)} (was {krw(seen.cancel_amount)})")
    if to_unix(now.vbank_date) != seen.vbank_due:
        out.append(f"due is now {kst(now.vbank_date)} (was {kst(datetime.fromtimestamp(seen.vbank_due, now_kst().tzinfo)) if seen.vbank_due else '—'})")
    return out


@contextmanager
def _guarded(client: IamportClient, audit: AuditStore, *, operator: Actor, action: str, key: str, imp_uid: str,
             seen: Seen):
    """The common front of both writes: take the in-flight lock, re-read the payment right before sending,
    refuse if it changed. Yields (correlation id, fresh payment, state); the body sets state["sent"] just
    before sending. On an exception the lock is freed if nothing was sent, or kept as "unknown" if
    something was sent without a recorded outcome (never resent blindly)."""
    cid = new_correlation_id()
    held = audit.acquire(key, correlation_id=cid, operator=operator.email, action=action)
    if held:
        raise Busy(_lock_busy_message(held))
    state = {"sent": False}
    try:
        fresh = client.get_payment(imp_uid)
        changes = _changes(seen, fresh)
        if changes:
            raise Stale(changes, fresh)
        yield cid, fresh, state
    except BaseException:
        _release_or_hold(audit, key, cid, state["sent"])
        raise


def _lock_busy_message(held) -> str:
    if held.state == "unknown":
        return (f"A previous {held.action} of this payment by {held.operator} at {kst(held.since)} has an unknown "
                f"outcome. Resolve it first (check the payment) — nothing will be sent until then.")
    return f"{held.operator} is already sending a {held.action} for this payment (since {kst(held.since)})."


# ================================================================ update vbank
def validate_update(p: Payment, *, new_amount: int | None, new_due: datetime | None, rules: Rules,
                    now: datetime | None = None) -> list[str]:
    now = now or now_kst()
    problems = []
    if not p.is_vbank:
        problems.append("This payment is not a virtual account.")
    if p.status != "ready":
        problems.append(f"Only a virtual account still waiting for its deposit can be changed (status is '{p.status}').")
    if p.pg_provider not in rules.vbank_update_pgs:
        problems.append(f"Changing a virtual account is not offered for PG '{p.pg_provider}': the product supports "
                        f"{', '.join(rules.vbank_update_pgs)}.")
    if new_amount is not None:
        if isinstance(new_amount, bool) or not isinstance(new_amount, int):
            problems.append("The new amount must be a whole number of won.")
        elif new_amount <= 0:
            problems.append("The new amount must be more than ₩0.")
        elif rules.update_amount_ceiling and new_amount > rules.update_amount_ceiling:
            problems.append(f"The new amount is above the ceiling of {krw(rules.update_amount_ceiling)}.")
    if new_due is not None:
        if new_due.tzinfo is None:
            problems.append("The new due time needs a time zone (KST).")
        elif new_due <= now:
            problems.append(f"The new due time {kst(new_due)} is not in the future.")
        elif rules.update_max_horizon_days and new_due > now + timedelta(days=rules.update_max_horizon_days):
            problems.append(f"The new due time is more than {rules.update_max_horizon_days} days ahead.")
    changed_amount = new_amount is not None and new_amount != p.amount
    changed_due = new_due is not None and to_unix(new_due) != to_unix(p.vbank_date)
    if not problems and not changed_amount and not changed_due:
        problems.append("Nothing changed: the amount and due time are what the account already has.")
    return problems


def update_vbank(client: IamportClient, audit: AuditStore, *, operator: Actor, imp_uid: str, seen: Seen,
                 new_amount: int | None = None, new_due: datetime | None = None, rules: Rules,
                 note: str | None = None, approval_id: str | None = None) -> WriteResult:
    """PUT /vbanks/{imp_uid} with only the changed fields, once."""
    operator.require("approve_refund" if approval_id else "update_vbank")
    key = f"vbank:{imp_uid}"
    with _guarded(client, audit, operator=operator, action="update_vbank", key=key, imp_uid=imp_uid,
                  seen=seen) as (cid, fresh, state):
        problems = validate_update(fresh, new_amount=new_amount, new_due=new_due, rules=rules)
        if problems:
            raise InvalidInput(problems)
        body: dict = {}
        if new_amount is not None and new_amount != fresh.amount:
            body["amount"] = new_amount
        if new_due is not None and to_unix(new_due) != to_unix(fresh.vbank_date):
            body["vbank_due"] = to_unix(new_due)
        before = {"amount": fresh.amount, "vbank_due": to_unix(fresh.vbank_date)}
        audit.record(operator=operator.email, action="update_vbank", outcome="sent", correlation_id=cid, imp_uid=imp_uid,
                     merchant_uid=fresh.merchant_uid, request=body,
                     detail={"before": before, "note": note, "approval_id": approval_id})
        state["sent"] = True
        try:
            updated = client.update_vbank(imp_uid, amount=body.get("amount"), vbank_due=body.get("vbank_due"))
        except OutcomeUnknown as e:
            return _update_after_unknown(client, audit, operator, imp_uid, fresh, body, cid, key, e)
        except ApiError as e:
            audit.record(operator=operator.email, action="update_vbank", outcome="failed", correlation_id=cid,
                         imp_uid=imp_uid, merchant_uid=fresh.merchant_uid, request=body, api_code=e.code,
                         api_message=e.message, detail={"http_status": e.http_status})
            audit.release(key, cid)
            return WriteResult("failed", f"The API refused the change: “{e.message}”. Nothing was changed.", cid,
                               fresh, e.code, e.message)
        after = {"amount": updated.amount, "vbank_due": to_unix(updated.vbank_date)}
        audit.record(operator=operator.email, action="update_vbank", outcome="succeeded", correlation_id=cid,
                     imp_uid=imp_uid, merchant_uid=updated.merchant_uid, request=body, api_code=0,
                     detail={"before": before, "after": after})
        audit.release(key, cid)
        _notify()
        return WriteResult("succeeded", "The virtual account was updated.", cid, updated, 0)


def _release_or_hold(audit: AuditStore, key: str, cid: str, sent: bool) -> None:
    """On an exception: free the lock if nothing was sent; if something was sent and no outcome
    was recorded, keep the payment locked as "unknown" so it is never resent blindly."""
    lock = audit.lock(key)
    if not lock or lock.correlation_id != cid:
        return
    if not sent:
        audit.release(key, cid)
    elif lock.state == "in_flight":
        audit.mark_unknown(key, cid, "interrupted after sending")


def _update_after_unknown(client, audit, operator, imp_uid, before_p: Payment, body, cid, key, err) -> WriteResult:
    try:
        now_p = client.get_payment(imp_uid)
    except ApiError as e2:
        note = f"No reply to the change ({err.message}) and the re-read failed ({e2.message})."
        audit.record(operator=operator.email, action="update_vbank", outcome="unknown", correlation_id=cid, imp_uid=imp_uid,
                     merchant_uid=before_p.merchant_uid, request=body, api_message=note)
        audit.mark_unknown(key, cid, note)
        _notify()
        return WriteResult("unknown", note + " Open the payment to check it before trying again.", cid, before_p)
    applied = all([
        "amount" not in body or now_p.amount == body["amount"],
        "vbank_due" not in body or to_unix(now_p.vbank_date) == body["vbank_due"],
    ])
    outcome = "succeeded" if applied else "failed"
    msg = (f"The API did not reply ({err.message}), but a re-read shows the change took effect."
           if applied else f"The API did not reply ({err.message}); a re-read shows the change did NOT take effect. "
                           "Nothing was resent. You can try again.")
    audit.record(operator=operator.email, action="update_vbank", outcome=outcome, correlation_id=cid, imp_uid=imp_uid,
                 merchant_uid=now_p.merchant_uid, request=body, api_message=err.message,
                 detail={"confirmed_by_reread": True,
                         "after": {"amount": now_p.amount, "vbank_due": to_unix(now_p.vbank_date)}})
    audit.release(key, cid)
    _notify()
    return WriteResult(outcome, msg, cid, now_p, confirmed_by_reread=True)


# ====================================================================== refund
@dataclass(frozen=True)
class RefundRequest:
    imp_uid: str
    amount: int
    reason_code: str
    note: str = ""
    refund_holder: str = ""
    refund_bank: str = ""        # the PG's own code
    refund_account: str = ""     # as typed; hyphens allowed
    refund_tel: str = ""
    tax_free: int | None = None
    vat_amount: int | None = None

    def reason_text(self, rules: Rules) -> str:
        label = rules.refund_reasons.get(self.reason_code, self.reason_code)
        return f"[{self.reason_code}] {label}" + (f" — {self.note.strip()}" if self.note.strip() else "")


def refund_blockers(p: Payment) -> list[str]:
    """Why this payment cannot be refunded through the wizard at all (empty: it can)."""
    out = []
    if not p.is_vbank:
        out.append(f"This is not a virtual-account payment (pay method '{p.pay_method}'); use the PG console for it.")
    if p.status == "cancelled" or (p.status == "paid" and p.refundable <= 0):
        out.append("This payment is already fully refunded.")
    elif p.status != "paid":
        out.append(f"Only a paid payment can be refunded (status is '{p.status}').")
    if p.pg_provider in banks.NO_VBANK_REFUND:
        out.append(f"{p.pg_provider} does not refund virtual accounts through the API; refund the customer directly.")
    elif p.is_vbank and banks.table_for(p.pg_provider) is None:
        out.append(f"vbank-desk has no refund bank-code table for PG '{p.pg_provider}'.")
    return out


def validate_refund(p: Payment, r: RefundRequest, rules: Rules) -> list[str]:
    problems = refund_blockers(p)
    if problems:
        return problems
    if isinstance(r.amount, bool) or not isinstance(r.amount, int):
        problems.append("The refund amount must be a whole number of won.")
    elif r.amount <= 0:
        problems.append("The refund amount must be more than ₩0.")
    elif r.amount > p.refundable:
        problems.append(f"The refund amount {krw(r.amount)} is more than the refundable balance {krw(p.refundable)}.")
    if r.reason_code not in rules.refund_reasons:
        problems.append("Pick a refund reason from the list.")
    if len(r.reason_text(rules)) > 256:
        problems.append("The reason is too long (256 characters at most).")
    if not r.refund_holder.strip():
        problems.append("Enter the refund account holder's name.")
    if banks.bank_by_code(p.pg_provider, r.refund_bank) is None:
        problems.append(f"Pick the customer's bank from the list for {p.pg_provider}.")
    acct = r.refund_account.strip()
    if not acct:
        problems.append("Enter the refund account number.")
    elif not all(ch.isdigit() or ch in "- " for ch in acct):
        problems.append("The account number may hold digits and hyphens only.")
    elif not 8 <= len(digits_only(acct)) <= 16:
        problems.append("The account number should have 8 to 16 digits.")
    if p.pg_provider in banks.REFUND_TEL_REQUIRED:
        tel = digits_only(r.refund_tel)
        if not 9 <= len(tel) <= 11:
            problems.append("This PG (old Smartro module) needs the account holder's phone number (9–11 digits).")
    for name, v in (("tax-free amount", r.tax_free), ("VAT amount", r.vat_amount)):
        if v is not None and (not isinstance(v, int) or v < 0 or v > r.amount):
            problems.append(f"The {name} must be between ₩0 and the refund amount.")
    return problems


def refund_vbank(client: IamportClient, audit: AuditStore, *, operator: Actor, request: RefundRequest, seen: Seen,
                 rules: Rules, approval_id: str | None = None) -> WriteResult:
    """POST /payments/cancel for a paid virtual account, once, with checksum = the refundable balance just read.

    Above ``rules.refund_approval_above`` a refund is only sent through an approved request
    (``approval_id``, by an approver who is not the requester: lib/approvals.py)."""
    if approval_id:
        operator.require("approve_refund")
    else:
        operator.require("refund")
        if request.amount > rules.refund_approval_above:
            raise NeedsApproval(f"Refunds above {krw(rules.refund_approval_above)} need a second person's approval: "
                                "request it, and an approver sends it.")
    imp_uid = request.imp_uid
    key = f"refund:{imp_uid}"
    with _guarded(client, audit, operator=operator, action="refund", key=key, imp_uid=imp_uid,
                  seen=seen) as (cid, fresh, state):
        problems = validate_refund(fresh, request, rules)
        if problems:
            raise InvalidInput(problems)
        body = {"imp_uid": imp_uid, "amount": request.amount, "checksum": fresh.refundable,
                "reason": request.reason_text(rules), "refund_holder": request.refund_holder.strip(),
                "refund_bank": request.refund_bank, "refund_account": digits_only(request.refund_account)}
        if fresh.pg_provider in banks.REFUND_TEL_REQUIRED or request.refund_tel.strip():
            body["refund_tel"] = digits_only(request.refund_tel)
        if request.tax_free is not None:
            body["tax_free"] = request.tax_free
        if request.vat_amount is not None:
            body["vat_amount"] = request.vat_amount
        before = {"amount": fresh.amount, "cancel_amount": fresh.cancel_amount, "refundable": fresh.refundable}
        audit.record(operator=operator.email, action="refund", outcome="sent", correlation_id=cid, imp_uid=imp_uid,
                     merchant_uid=fresh.merchant_uid, request=body,
                     detail={"before": before, "approval_id": approval_id})
        state["sent"] = True
        try:
            result = client.cancel(**body)
        except OutcomeUnknown as e:
            return _refund_after_unknown(client, audit, operator, fresh, request, body, cid, key, e)
        except ApiError as e:
            audit.record(operator=operator.email, action="refund", outcome="failed", correlation_id=cid, imp_uid=imp_uid,
                         merchant_uid=fresh.merchant_uid, request=body, api_code=e.code, api_message=e.message,
                         detail={"http_status": e.http_status})
            audit.release(key, cid)
            return WriteResult("failed", f"The API refused the refund: “{e.message}”. No money moved.", cid, fresh,
                               e.code, e.message)
        entry = result.cancel_history[-1].model_dump(mode="json") if result.cancel_history else None
        audit.record(operator=operator.email, action="refund", outcome="succeeded", correlation_id=cid, imp_uid=imp_uid,
                     merchant_uid=result.merchant_uid, request=body, api_code=0,
                     detail={"before": before, "after": {"cancel_amount": result.cancel_amount,
                                                         "status": result.status}, "cancel_history_entry": entry})
        audit.release(key, cid)
        _notify()
        return WriteResult("succeeded", "Refund registered — the PG pays the customer on the next business day.",
                           cid, result, 0, extra={"cancel_history_entry": entry})


def _refund_after_unknown(client, audit, operator, before_p: Payment, request, body, cid, key, err) -> WriteResult:
    try:
        now_p = client.get_payment(before_p.imp_uid)
    except ApiError as e2:
        now_p = None
        reread_error = e2.message
    else:
        reread_error = None
    if now_p is not None and now_p.cancel_amount == before_p.cancel_amount + request.amount:
        audit.record(operator=operator.email, action="refund", outcome="succeeded", correlation_id=cid,
                     imp_uid=before_p.imp_uid, merchant_uid=before_p.merchant_uid, request=body,
                     api_message=err.message, detail={"confirmed_by_reread": True,
                                                      "after": {"cancel_amount": now_p.cancel_amount}})
        audit.release(key, cid)
        _notify()
        return WriteResult("succeeded", f"The API did not reply ({err.message}), but a re-read shows the refund was "
                           "registered (refunded total grew by this amount). Nothing was resent.", cid, now_p,
                           confirmed_by_reread=True)
    seen_now = (f"refunded total is {krw(now_p.cancel_amount)} (was {krw(before_p.cancel_amount)})"
                if now_p is not None else f"the re-read failed too ({reread_error})")
    note = (f"No reply to the refund ({err.message}); {seen_now}. Check the PG console and the payment's cancel "
            "history; then resolve this refund on the wizard. Nothing will be resent until then.")
    audit.record(operator=operator.email, action="refund", outcome="unknown", correlation_id=cid, imp_uid=before_p.imp_uid,
                 merchant_uid=before_p.merchant_uid, request=body, api_message=err.message, detail={"note": note})
    audit.mark_unknown(key, cid, note)
    _notify()
    return WriteResult("unknown", note, cid, now_p or before_p)


def _expected_after(audit: AuditStore, correlation_id: str) -> int | None:
    """The refunded total the payment should show if the refund recorded as "sent" landed."""
    sent = audit.records(correlation_id=correlation_id, outcome="sent")
    if sent.empty:
        return None
    import json
    before = json.loads(sent.iloc[0]["detail"] or "{}").get("before", {})
    req = json.loads(sent.iloc[0]["request"] or "{}")
    if "cancel_amount" in before and "amount" in req:
        return int(before["cancel_amount"]) + int(req["amount"])
    return None


def resolve_unknown_refund(client: IamportClient, audit: AuditStore, *, operator: Actor, imp_uid: str,
                           operator_confirms_not_applied: bool = False) -> WriteResult:
    """Settle a refund whose outcome is unknown: by a re-read showing it landed (the refunded total reached
    what the audit's "sent" record implies), or by an operator who checked the PG and confirms it did not.
    Only then can a refund of this payment be sent again."""
    operator.require("refund")
    key = f"refund:{imp_uid}"
    held = audit.lock(key)
    if held is None or held.state != "unknown":
        return WriteResult("succeeded", "There is no unresolved refund for this payment.", "", None)
    p = client.get_payment(imp_uid)
    expected = _expected_after(audit, held.correlation_id)
    if expected is not None and p.cancel_amount >= expected:
        audit.record(operator=operator.email, action="refund", outcome="resolved", correlation_id=held.correlation_id,
                     imp_uid=imp_uid, merchant_uid=p.merchant_uid,
                     detail={"resolution": "applied", "cancel_amount": p.cancel_amount})
        audit.release(key, held.correlation_id)
        _notify()
        return WriteResult("succeeded", "A re-read shows the refund was registered. Resolved.", held.correlation_id, p)
    if not operator_confirms_not_applied:
        return WriteResult("unknown", "The re-read does not show the refund yet. If the PG console confirms it was "
                           "not registered, resolve it as not applied.", held.correlation_id, p)
    audit.record(operator=operator.email, action="refund", outcome="resolved", correlation_id=held.correlation_id,
                 imp_uid=imp_uid, merchant_uid=p.merchant_uid,
                 detail={"resolution": "not applied (operator checked the PG)", "cancel_amount": p.cancel_amount})
    audit.release(key, held.correlation_id)
    _notify()
    return WriteResult("failed", "Resolved as not applied. A new refund can be sent.", held.correlation_id, p)


# =============================================================== bulk extend
@dataclass
class BulkRow:
    imp_uid: str
    merchant_uid: str
    outcome: str            # succeeded | failed | unknown | refused | skipped
    message: str
    new_due: datetime | None = None
    correlation_id: str | None = None


def plan_due(current: datetime | None, *, extend_days: int | None, to: datetime | None) -> datetime | None:
    """The new due time for one account: current + N days, or a fixed time."""
    if to is not None:
        return to
    if current is None or not extend_days:
        return None
    return current + timedelta(days=extend_days)


def bulk_extend(client: IamportClient, audit: AuditStore, *, operator: Actor, payments: list[Payment],
                extend_days: int | None = None, to: datetime | None = None, rules: Rules,
                note: str | None = None, approval_id: str | None = None) -> list[BulkRow]:
    """Extend the due dates of several pending accounts: one update_vbank per row, each with its own
    lock, re-read and audit records. A row that fails never stops the others. More than
    ``rules.bulk_approval_above_count`` rows go through an approved request."""
    if approval_id:
        operator.require("approve_refund")
    else:
        operator.require("update_vbank")
        if len(payments) > rules.bulk_approval_above_count:
            raise NeedsApproval(f"Changing more than {rules.bulk_approval_above_count} accounts at once needs a "
                                "second person's approval.")
    if len(payments) > rules.bulk_extend_max_rows:
        raise InvalidInput([f"At most {rules.bulk_extend_max_rows} accounts can be changed at once."])
    if (extend_days is None) == (to is None):
        raise InvalidInput(["Give either a number of days to extend by or a new due date, not both."])
    if extend_days is not None and extend_days <= 0:
        raise InvalidInput(["Extend by at least one day."])
    out: list[BulkRow] = []
    for p in payments:
        new_due = plan_due(p.vbank_date, extend_days=extend_days, to=to)
        if new_due is None:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "skipped", "This account has no due date to extend."))
            continue
        try:
            r = update_vbank(client, audit, operator=operator, imp_uid=p.imp_uid, seen=Seen.of(p),
                             new_due=new_due, rules=rules, note=note, approval_id=approval_id)
            out.append(BulkRow(p.imp_uid, p.merchant_uid, r.outcome, r.message, new_due, r.correlation_id))
        except InvalidInput as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "refused", " ".join(e.problems), new_due))
        except Stale as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "refused", "Changed since loaded: " + "; ".join(e.changes),
                               new_due))
        except Busy as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "refused", str(e), new_due))
        except ApiError as e:
            out.append(BulkRow(p.imp_uid, p.merchant_uid, "failed", f"“{e.message}”", new_due))
    return out
