"""What a page can do, as one object: the client, the stores and the rules bound to the person acting. Built once
per script run by ``lib/ui/session.desk()``; a page calls one method per action and shows what it returns or raises
(a ``Refusal`` is a sentence; a ``WriteResult`` says what the API did)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from lib.db.appdb import AppDb
from lib.db.approvals import ApprovalRequest
from lib.db.locks import Lock
from lib.db.refund_accounts import RefundAccount
from lib.domain import payment_table
from lib.domain.digest import Digest
from lib.domain.holder_check import HolderCheck
from lib.domain.identity import Actor
from lib.domain.kinds import WriteKind
from lib.domain.models import Payment
from lib.domain.outcomes import BulkRow, WriteResult
from lib.domain.rules import RefundRequest, Seen
from lib.domain.settings import Rules
from lib.domain.text import lookup_problem
from lib.iamport.client import IamportClient
from lib.iamport.errors import NotFound
from lib.services import approval_flow, bulk, unknowns, watcher
from lib.services import refund as services_refund
from lib.services import revoke as services_revoke
from lib.services import update as services_update
from lib.services.refund import RefundPlan

if False:  # typing only
    import pandas as pd  # noqa: F401


MAX_LOOKUPS = 300          # merchant_uids looked up one by one for a file (imp_uids go 100 per request)


MAX_IMP_LOOKUPS = 2_000    # imp_uids one file may look up (20 requests): 50,000 made-up ids cost no more


def payments_for_file(client: IamportClient, keys: "pd.DataFrame",
                      payments: pa.Table | list[dict]) -> tuple[pa.Table, int]:
    """Payments a file names (imp_uid, else merchant_uid) that the range listing did not bring — e.g. the refund
    today of a payment started months ago. (payments found, as a table of the listing's columns; ids not looked up
    because of the limit)."""
    listed = payments if isinstance(payments, pa.Table) else payment_table.from_dicts(payments)
    known_imp = set(listed["imp_uid"].to_pylist())
    known_m = set(listed["merchant_uid"].to_pylist()) if "merchant_uid" in listed.column_names else set()
    imp = sorted({x for x in keys["imp_uid"] if x and x not in known_imp and x.startswith("imp_")
                  and lookup_problem(x) is None})
    mer = sorted({m for i, m in zip(keys["imp_uid"], keys["merchant_uid"])
                  if not i and m and m not in known_m and lookup_problem(m) is None})
    found = [p.model_dump(mode="json") for p in client.get_payments(imp[:MAX_IMP_LOOKUPS])] if imp else []
    left = max(0, len(mer) - MAX_LOOKUPS) + max(0, len(imp) - MAX_IMP_LOOKUPS)

    def one(m: str) -> dict | None:
        try:
            return client.find_by_merchant_uid(m).model_dump(mode="json")
        except NotFound:
            return None
    found += [p for p in client._map(one, mer[:MAX_LOOKUPS]) if p]
    return payment_table.from_dicts(found, tuple(listed.column_names)), left


@dataclass
class Desk:
    client: IamportClient
    db: AppDb
    rules: Rules
    who: Actor
    # The merchant's other API's client (PortOne V2), when it is on both: an approval carries its payment's version,
    # and the approver's desk sends it through that version's client.
    v2: Any = None

    def client_for(self, api: str | None) -> Any:
        """The client of a payment's API version (V1's unless "v2" and a V2 client is bound)."""
        if api == "v2" and self.v2 is not None:
            return self.v2
        return self.client

    def client_of_id(self, imp_uid: str) -> Any:
        """The client a payment id belongs to: I'mport's ids start with imp_; anything else is a V2 paymentId when
        the merchant is on V2."""
        return self.client if imp_uid.startswith("imp_") or self.v2 is None else self.v2

    # ------------------------------------------------------------ reading
    def payment(self, imp_uid_or_merchant_uid: str) -> Payment:
        """A payment by imp_uid or merchant_uid; an id that cannot name one is NotFound without calling the API."""
        q = imp_uid_or_merchant_uid
        why = lookup_problem(q)
        if why:
            raise NotFound(why, method="GET", path="(not sent)", http_status=404)
        return self.client.get_payment(q) if q.startswith("imp_") else self.client.find_by_merchant_uid(q)

    def payments(self, imp_uids: list[str]) -> list[Payment]:
        """These payments read live, each through its own API (V2 paymentIds through V2 when configured)."""
        v1 = [i for i in imp_uids if self.client_of_id(i) is self.client]
        v2 = [i for i in imp_uids if self.client_of_id(i) is not self.client]
        return [*self.client.get_payments(v1), *(self.v2.get_payments(v2) if v2 else [])]

    def last_refund_account(self, imp_uid: str) -> RefundAccount | None:
        """The account this payment was last refunded to (offered again, masked), for someone who may refund."""
        if not self.who.can(WriteKind.REFUND):
            return None
        return self.db.refund_accounts.last(imp_uid)

    def digest(self) -> Digest:
        """오늘의 요약, now (the watcher posts the same every business morning)."""
        return watcher.today_digest(self.client, self.db, time.time())

    def holder_check(self, p: Payment, request: RefundRequest) -> HolderCheck:
        """The bank's account-holder check of the refund account typed (GET /vbanks/holder), for the wizard."""
        return services_refund.holder_check(self.client, p.pg_provider, request)

    def plan_refund(self, p: Payment, request: RefundRequest, holder_check: HolderCheck | None) -> RefundPlan:
        """The refund planned once: what the confirm step shows, then sends or asks approval for."""
        return services_refund.plan_refund(self.db, p, request, self.who, self.rules, holder_check=holder_check)

    def open_outcome(self, kind: str, imp_uid: str) -> Lock | None:
        return unknowns.open_outcome(self.client, self.db, kind=kind, imp_uid=imp_uid, operator=self.who)

    def locks_held(self) -> list[Lock]:
        """Every in-flight lock (writes being sent, or with an unknown outcome), for the audit page."""
        return self.db.locks.all()

    def waiting_request(self, imp_uid: str) -> ApprovalRequest | None:
        return self.db.approvals.pending_for(imp_uid)

    def approval_needed(self, p: Payment, amount: int) -> str | None:
        return services_refund.approval_needed(self.db, p, amount, self.who, self.rules)

    def requests(self, **kw: Any) -> list[ApprovalRequest]:
        return self.db.approvals.list(**kw)

    # ------------------------------------------------------------ writes
    def update(self, imp_uid: str, seen: Seen, *, new_amount: int | None, new_due: datetime | None,
               note: str | None = None, typed_confirmation: str | None = None,
               action_key: str | None = None) -> WriteResult:
        return services_update.update_vbank(self.client, self.db, operator=self.who, imp_uid=imp_uid, seen=seen,
                                     new_amount=new_amount, new_due=new_due, rules=self.rules, note=note,
                                     typed_confirmation=typed_confirmation, action_key=action_key)

    def bulk_extend(self, payments: list[Payment], *, extend_days: int | None, to: datetime | None,
                    note: str | None = None, typed_confirmation: str | None = None) -> list[BulkRow]:
        return bulk.bulk_extend(self.client, self.db, operator=self.who, payments=payments,
                                    extend_days=extend_days, to=to, rules=self.rules, note=note,
                                    typed_confirmation=typed_confirmation)

    def bulk_revoke(self, payments: list[Payment], *, note: str | None = None,
                    typed_confirmation: str | None = None) -> list[BulkRow]:
        return bulk.bulk_revoke(self.client, self.db, operator=self.who, payments=payments, rules=self.rules,
                                note=note, typed_confirmation=typed_confirmation)

    def request_bulk_revoke(self, payments: list[Payment], *, note: str | None = None,
                            typed_confirmation: str | None = None) -> ApprovalRequest:
        return approval_flow.request_bulk_revoke_approval(self.db, requester=self.who, payments=payments,
                                                          rules=self.rules, note=note,
                                                          typed_confirmation=typed_confirmation)

    def recent_changes(self, imp_uids: list[str], minutes: int = 15) -> dict[str, tuple[datetime, str]]:
        """Accounts whose due date or amount this app changed (or sent a change of) in the last ``minutes``:
        re-running a bulk right after a crash would extend them twice."""
        from lib.domain.clock import KST
        since = datetime.now(KST) - timedelta(minutes=minutes)
        rows = self.db.writes.recent(WriteKind.UPDATE, imp_uids, since=since.timestamp())
        return {r["imp_uid"]: (datetime.fromtimestamp(r["updated_at"], KST), r["operator"]) for r in rows}

    def cases_with_amount(self, amount: int) -> set[str]:
        """The writes and requests of this amount (the audit page's search)."""
        return self.db.writes.cases_with_amount(amount)

    def refund(self, plan: RefundPlan, *, context: dict | None = None, action_key: str | None = None) -> WriteResult:
        """Send the refund ``plan`` (``plan_refund``) once. ``context``: what the operator saw and accepted, kept in
        the audit; ``action_key``: the page's send-once id (lib/ui/send_once.py), the write's idempotency key."""
        return services_refund.refund_vbank(self.client, self.db, plan, operator=self.who, rules=self.rules,
                                            context=context, action_key=action_key)

    def revoke(self, imp_uid: str, seen: Seen, *, note: str | None = None,
               action_key: str | None = None) -> WriteResult:
        """Close a pending virtual account (가상계좌 발급취소), once."""
        return services_revoke.revoke_vbank(self.client, self.db, operator=self.who, imp_uid=imp_uid, seen=seen,
                                            rules=self.rules, note=note, action_key=action_key)

    def resolve(self, kind: str, imp_uid: str, *, confirm_not_applied: bool = False) -> WriteResult:
        return unknowns.resolve_unknown(self.client_of_id(imp_uid), self.db, operator=self.who, kind=kind, imp_uid=imp_uid,
                                        operator_confirms_not_applied=confirm_not_applied)

    # ------------------------------------------------------------ four eyes
    def request_refund(self, plan: RefundPlan, *, fee_preview: dict | None = None,
                       note: str | None = None) -> ApprovalRequest:
        """Ask a second person to approve the refund ``plan``; the request carries it."""
        return approval_flow.request_refund_approval(self.client, self.db, plan, requester=self.who, rules=self.rules,
                                                     fee_preview=fee_preview, note=note)

    def sealed_numbers(self, request_id: str) -> dict:
        """The full account and phone numbers of an open request, for someone whose role may see personal data (the
        page records the reveal in the audit log)."""
        self.who.require("reveal_personal")
        return self.db.approvals.sealed(request_id)

    def request_bulk(self, payments: list[Payment], *, extend_days: int | None, to: datetime | None,
                     note: str | None = None, typed_confirmation: str | None = None) -> ApprovalRequest:
        return approval_flow.request_bulk_approval(self.db, requester=self.who, payments=payments,
                                              extend_days=extend_days, to=to, rules=self.rules, note=note,
                                              typed_confirmation=typed_confirmation)

    def approve(self, request_id: str, note: str | None = None) -> WriteResult:
        return approval_flow.approve(self.client, self.db, approver=self.who, request_id=request_id, rules=self.rules,
                                     note=note, clients=self.client_for)

    def reject(self, request_id: str, note: str) -> ApprovalRequest:
        return approval_flow.reject(self.db, approver=self.who, request_id=request_id, note=note)

    def withdraw(self, request_id: str) -> ApprovalRequest:
        return approval_flow.withdraw(self.db, requester=self.who, request_id=request_id)
