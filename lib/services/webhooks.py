"""PortOne's webhooks received (the watcher mounts the receiver: watcher/webhooks.py), and the payments paid in the API
whose webhook never arrived — the most common merchant complaint.

* **V2** (``receive_v2``): verified by the official SDK's verifier (lib/iamport/v2/webhook.py: a forged signature, a
  missing header or a timestamp more than five minutes off is refused); a message already received (its
  ``webhook-id``) is a duplicate and changes nothing; then the payment is **re-read** — the webhook is a hint, the
  API is the fact.
* **V1** (``receive_v1``): unsigned, so trusted only after re-reading the payment by its ``imp_uid``: the status
  recorded is the API's, not the body's; one re-read per payment and status a minute, so a stranger posting ids
  cannot make the desk call the API without bound; when the re-read fails nothing is recorded (PortOne retries).
* every accepted webhook is a row of ``webhook_receipts`` (lib/db/webhook_receipts.py); the caches and the payments
  mirror are told the payment moved (lib/services/settle.notify).
* ``missing_webhooks``: of the paid payments given, those without a webhook within N minutes of being paid;
  ``recent_paid`` reads the payments paid in the last day (the payments mirror when it is there, else each API's
  paid listing: one call per version), and ``missing_now`` puts the two together for the watcher's event and /admin —
  counted only from when the receiver started listening (``LISTENING_SINCE``: a payment paid before could not have
  reached it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from pydantic import SecretStr

from lib.db.appdb import AppDb
from lib.db.mirror import Mirror
from lib.db.webhook_receipts import WebhookReceipts
from lib.domain.clock import to_unix
from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError, NotFound
from lib.iamport.v2.client import PortOneV2Client
from lib.iamport.v2.webhook import MAX_BODY, BadWebhook, verify_webhook
from lib.services.settle import notify

V1_REREAD_EVERY_S = 60.0        # one re-read per V1 payment and status this often at most
PAID_KIND_V2 = "Transaction.Paid"
MISSING_AFTER_MIN = 10          # a paid payment without its webhook this long is listed (VBANK_WEBHOOK_MISSING_MIN)
RECENT_S = 86400                # payments paid in the last day are checked
LISTENING_SINCE = "webhooks_since"    # watch_state: when the watcher's receiver first listened
LISTENING_AT = "webhooks_last"        # watch_state: the last pass of a watcher with its receiver up
MISSING_MIN_KEY = "webhooks_missing_min"   # watch_state: the watcher's minutes (/admin lists with the same)
PAID_FIELDS = ("imp_uid", "merchant_uid", "pay_method", "pg_provider", "status", "amount", "buyer_name", "paid_at")


@dataclass(frozen=True)
class Received:
    """What a webhook did: ``accepted`` (recorded, the payment re-read), ``duplicate`` (seen before: nothing done)."""

    api: str
    imp_uid: str
    kind: str
    duplicate: bool = False
    payment: Payment | None = None          # as re-read (None: the re-read failed; the next sync reads it)
    reread_error: str | None = None


def receipts(db: AppDb) -> WebhookReceipts:
    return WebhookReceipts(db.engine)


def _reread(client: IamportClient | PortOneV2Client, imp_uid: str) -> tuple[Payment | None, str | None]:
    try:
        return client.get_payment(imp_uid), None
    except NotFound:
        raise
    except ApiError as e:
        return None, e.message


def receive_v2(client: PortOneV2Client, db: AppDb, secret: SecretStr | None, body: bytes,
               headers: Mapping[str, str], *, store_id: str | None = None) -> Received:
    """A V2 webhook: verified, recorded once, its payment re-read. ``BadWebhook`` when refused (nothing recorded)."""
    hook = verify_webhook(secret, body, headers)
    if store_id and hook.store_id and hook.store_id != store_id:
        raise BadWebhook("OTHER_STORE", _("The webhook is for another store."))
    if not hook.payment_id:         # a billing-key webhook, or a type the SDK does not know: verified, nothing to do
        return Received("v2", "", hook.type)
    store = receipts(db)
    rid = store.record(api="v2", imp_uid=hook.payment_id, kind=hook.type, at=time.time(), webhook_id=hook.webhook_id,
                       detail={"timestamp": hook.timestamp, "cancellation_id": hook.cancellation_id,
                               "known": hook.known})
    if rid is None:
        return Received("v2", hook.payment_id, hook.type, duplicate=True)
    try:
        p, err = _reread(client, hook.payment_id)
    except NotFound:
        p, err = None, _("no such payment")
    store.set_status(rid, p.status if p else None)
    notify(db, [hook.payment_id])
    return Received("v2", hook.payment_id, hook.type, payment=p, reread_error=err)


def _v1_fields(body: bytes, content_type: str) -> dict[str, str]:
    """``imp_uid`` / ``merchant_uid`` / ``status`` of a V1 notification (JSON, or a form)."""
    text = body.decode("utf-8", "replace")
    doc: Any
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise BadWebhook("NOT_JSON", _("The webhook's body is not JSON.")) from None
    else:
        doc = {k: v[-1] for k, v in parse_qs(text).items()}
    if not isinstance(doc, dict):
        raise BadWebhook("NOT_JSON", _("The webhook's body is not JSON."))
    return {k: str(doc[k])[:200] for k in ("imp_uid", "merchant_uid", "status") if isinstance(doc.get(k), (str, int))}


def receive_v1(client: IamportClient, db: AppDb, body: bytes, content_type: str = "application/json") -> Received:
    """A V1 webhook (unsigned): believed only as far as a re-read of the payment by its ``imp_uid`` shows; the status
    recorded is the API's. ``BadWebhook`` when it names no payment the API knows."""
    if len(body) > MAX_BODY:
        raise BadWebhook("TOO_LARGE", _("The webhook is too large."))
    fields = _v1_fields(body, content_type)
    imp_uid = fields.get("imp_uid", "").strip()
    if not imp_uid:
        raise BadWebhook("NO_PAYMENT", _("The webhook names no payment (imp_uid)."))
    claimed = fields.get("status", "")[:20] or "unknown"
    store = receipts(db)
    if store.recent("v1", imp_uid, claimed, time.time() - V1_REREAD_EVERY_S):
        return Received("v1", imp_uid, claimed, duplicate=True)
    try:
        p, err = _reread(client, imp_uid)
    except NotFound:
        raise BadWebhook("NO_PAYMENT", _("The webhook names a payment the API does not know.")) from None
    if p is None:                   # nothing proves it: not recorded; PortOne sends it again later
        raise BadWebhook("UNCONFIRMED", _("The payment could not be re-read to confirm the webhook ({message}).").format(
            message=err))
    store.record(api="v1", imp_uid=imp_uid, kind=claimed, at=time.time(), status=p.status,
                 detail={"claimed": claimed})
    notify(db, [imp_uid])
    return Received("v1", imp_uid, claimed, payment=p)


def api_of(p: Payment) -> str:
    """"v2" for a payment read through the V2 client, else "v1"."""
    return "v2" if (p.model_extra or {}).get("api_version") == "v2" else "v1"


@dataclass(frozen=True)
class MissingWebhook:
    payment: Payment
    paid_at: int
    webhook_at: float | None        # a paid webhook that came, but late (None: none at all)


def missing_webhooks(db: AppDb, paid: list[Payment], *, within_minutes: int = 10,
                     now: float | None = None) -> list[MissingWebhook]:
    """Of the ``paid`` payments (either API), those paid more than ``within_minutes`` ago without a paid webhook
    received within ``within_minutes`` of being paid (a late one is named with its time)."""
    now = time.time() if now is None else now
    window = within_minutes * 60
    due = [p for p in paid if p.paid_at is not None and to_unix(p.paid_at) + window <= now]
    seen = receipts(db).for_payments([p.imp_uid for p in due])
    out = []
    for p in due:
        paid_at = to_unix(p.paid_at)
        api = api_of(p)
        # V2: a verified Transaction.Paid; V1 (unsigned): a webhook whose re-read showed the payment paid
        arrivals = [r["received_at"] for r in seen.get(p.imp_uid, ()) if r["api"] == api
                    and (r["status"] == "paid" or (api == "v2" and r["kind"] == PAID_KIND_V2))]
        if any(paid_at - 300 <= at <= paid_at + window for at in arrivals):
            continue
        late = [at for at in arrivals if at > paid_at + window]
        out.append(MissingWebhook(p, paid_at, min(late) if late else None))
    return out


def recent_paid(clients: Mapping[str, IamportClient | PortOneV2Client], now: float, *, mirror: Mirror | None = None,
                within_s: int = RECENT_S) -> list[Payment]:
    """The payments paid in the last ``within_s`` seconds, of each API version in ``clients`` ("v1", "v2"): from the
    payments mirror when it has been written (no API call), else one paid listing per version."""
    t_from, t_to = int(now) - within_s, int(now) + 1
    out: list[Payment] = []
    for api, client in clients.items():
        if mirror is not None and mirror.exists():
            t = mirror.read(PAID_FIELDS, t_from=t_from, t_to=t_to, time_field="paid_at", status="paid", api=api)
        else:
            t = client.list_columns("paid", t_from, t_to, fields=PAID_FIELDS)
        out += [Payment.model_validate({**r, "api_version": api}) for r in t.to_pylist()
                if r.get("status") == "paid" and r.get("paid_at")]
    return out


def missing_now(db: AppDb, paid: Sequence[Payment], now: float, *,
                within_minutes: int | None = None) -> list[MissingWebhook]:
    """``missing_webhooks`` of the payments paid since the receiver first listened (none while it never has: no
    receiver, no complaint), newest first; ``within_minutes`` by default the watcher's (``listening``)."""
    since = db.watch.get(LISTENING_SINCE)
    if since is None:
        return []
    if within_minutes is None:
        within_minutes = int(db.watch.get(MISSING_MIN_KEY) or MISSING_AFTER_MIN)
    start = float(since)
    fresh = [p for p in paid if p.paid_at is not None and to_unix(p.paid_at) >= start]
    got = missing_webhooks(db, fresh, within_minutes=within_minutes, now=now)
    return sorted(got, key=lambda m: -m.paid_at)


def listening(db: AppDb, now: float, within_minutes: int = MISSING_AFTER_MIN) -> None:
    """The watcher's receiver is up (each pass): kept for /admin and ``missing_now``."""
    db.watch.set_once(LISTENING_SINCE, repr(now))
    db.watch.set(LISTENING_AT, repr(now))
    db.watch.set(MISSING_MIN_KEY, str(within_minutes))
