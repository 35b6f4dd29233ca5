"""How the end of a write is known and recorded, shared by the three writes (lib/services/write.py) and by the
settling of unknown outcomes (lib/services/unknowns.py):

* per kind of write, what a re-read must show to prove **our own** request took effect, and the state recorded
  after it (``SPECS``);
* the "sent" audit record of a write, read back when its outcome is settled later;
* the approval request a write carried out, finished as the write ended;
* the listeners told that data may have changed (the caches of every page).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lib.db.appdb import AppDb
from lib.domain.clock import to_unix
from lib.domain.i18n import N_
from lib.domain.kinds import REQUEST_STATUS_OF, Action, Outcome, RequestKind, RequestStatus, WriteKind
from lib.domain.models import Payment
from lib.domain.text import WRITE_TAG_RX

# Called after every write that may have changed data (cache invalidation in lib/ui/loaders.py).
WRITE_LISTENERS: list[Callable[[], None]] = []
# Called with the payments a write touched, before the caches are dropped (the payments mirror re-reads them:
# lib/ui/mirror.py). A listener that fails is ignored: the write's outcome is already recorded.
PAYMENT_LISTENERS: list[Callable[[list[str]], None]] = []


def notify(db: AppDb, imp_uids: Iterable[str] = ()) -> None:
    """Data may have changed: bump the shared data version (every app instance drops its cached lists when it moves),
    then tell this instance's listeners at once."""
    db.shared.bump_data_version()
    ids = [i for i in imp_uids if i]
    for pfn in list(PAYMENT_LISTENERS) if ids else ():
        try:
            pfn(ids)
        except Exception:       # noqa: BLE001 - a mirror that could not be refreshed catches up on its next sync
            pass
    for fn in list(WRITE_LISTENERS):
        fn()


def _update_landed(req: dict, p: Payment) -> bool:
    return all(["amount" not in req or p.amount == req["amount"],
                "vbank_due" not in req or to_unix(p.vbank_date) == req["vbank_due"]])


def _refund_landed(req: dict, p: Payment) -> bool:
    # Only our own refund proves it: an entry whose reason carries this write's tag (lib/domain/text.write_tag), of
    # this amount. A refund of the same amount made elsewhere meanwhile (the PG console) has no tag: no proof.
    m = WRITE_TAG_RX.search(str(req.get("reason") or ""))
    if "amount" not in req or not m:
        return False
    tag = f"[vd:{m.group(1)}]"
    return any(e.amount == int(req["amount"]) and tag in (e.reason or "") for e in p.cancel_history)


def _revoke_landed(req: dict, p: Payment) -> bool:
    # The account was pending when re-read right before the request left; closed now, with nothing refunded, it was
    # closed by this request or by one at the same moment — either way the account is closed and no money moved.
    # PortOne V2 shows a closed account as failed (or cancelled), with nothing paid in.
    closed = ("cancelled", "failed") if (p.model_extra or {}).get("api_version") == "v2" else ("cancelled",)
    return p.status in closed and not p.cancel_amount and not p.paid_at


@dataclass(frozen=True)
class KindSpec:
    what: str                                   # message id: the write in a sentence ("a refund", …)
    landed: Callable[[dict, Payment], bool]     # does this payment prove the request (as sent) took effect?
    after: Callable[[Payment], dict]            # what the audit keeps of the payment after it


SPECS: dict[WriteKind, KindSpec] = {
    WriteKind.UPDATE: KindSpec(N_("change"), _update_landed,
                               lambda p: {"amount": p.amount, "vbank_due": to_unix(p.vbank_date)}),
    WriteKind.REFUND: KindSpec(N_("refund"), _refund_landed,
                               lambda p: {"cancel_amount": p.cancel_amount, "status": p.status}),
    WriteKind.REVOKE: KindSpec(N_("account cancellation"), _revoke_landed,
                               lambda p: {"status": p.status, "cancelled_at": to_unix(p.cancelled_at)}),
}


def sent_record(db: AppDb, correlation_id: str) -> dict | None:
    """The request a write recorded as ``sent`` (None: it never claimed the send)."""
    df = db.audit.records(correlation_id=correlation_id, outcome=Outcome.SENT)
    if df.empty:
        return None
    row = df.iloc[-1]
    return {"request": json.loads(row["request"] or "{}"), "detail": json.loads(row["detail"] or "{}"),
            "at": row["at"].timestamp()}


def finish_approvals(db: AppDb, kind: WriteKind, imp_uid: str, outcome: Outcome, why: str,
                     *, correlation_id: str | None = None) -> None:
    """A write settled after the fact (its app stopped mid-send, or someone resolved its unknown outcome) may have
    been an approved request's: finish that request as the write ended — executed, failed or unknown —, which frees
    the payment for new requests and erases the sealed full numbers. ``why`` is a code (lib/domain/names.py)."""
    if kind != WriteKind.REFUND:
        return
    status = REQUEST_STATUS_OF[outcome]
    store = db.approvals
    for req in store.unfinished(imp_uid, RequestKind.REFUND):
        if status == RequestStatus.UNKNOWN and req.status == RequestStatus.UNKNOWN:
            continue
        if store.finish(req.id, status, {"why": why, "correlation_id": correlation_id}):
            db.audit.record(operator="vbank-desk", action=Action.REFUND_REQUEST, outcome=outcome, correlation_id=req.id,
                         imp_uid=imp_uid, detail={"why": why, "write": correlation_id, "request_status": status})
