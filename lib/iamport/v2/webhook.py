"""PortOne V2 webhooks verified by the official SDK's verifier (``portone_server_sdk.webhook.verify``, the Standard
Webhooks scheme: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` = ``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`` keyed by the webhook secret ``whsec_<base64>``). A forged signature, a missing header or
a timestamp more than five minutes off (a replay of an old message) is refused; a body that is not UTF-8 JSON is
refused before anything is parsed. What a verified webhook says is only a hint: the payment is re-read
(lib/services/webhooks.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portone_server_sdk.webhook import InvalidInputError, WebhookVerificationError, verify
from pydantic import SecretStr

from lib.domain.errors import DeskError
from lib.domain.i18n import _

MAX_BODY = 64 * 1024           # a PortOne webhook is a few hundred bytes


class BadWebhook(DeskError):
    """A webhook refused: ``reason`` is the SDK's code (NO_MATCHING_SIGNATURE, TIMESTAMP_TOO_OLD …) or the desk's
    (NOT_JSON, TOO_LARGE, NO_SECRET)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedWebhook:
    webhook_id: str
    timestamp: int              # the signed webhook-timestamp (UNIX seconds)
    type: str                   # Transaction.Paid, Transaction.CancelPending …
    payment_id: str | None
    store_id: str | None
    transaction_id: str | None
    cancellation_id: str | None
    known: bool                 # False: signed, but of a type this SDK does not know (kept, not acted on)


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def verify_webhook(secret: SecretStr | None, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
    """The webhook ``body`` with ``headers``, verified with ``secret`` (see the module's docstring); ``BadWebhook``
    when it is refused. The clock is the SDK's (time.time, five minutes either way)."""
    if secret is None:
        raise BadWebhook("NO_SECRET", _("No PortOne V2 webhook secret is configured (PORTONE_V2_WEBHOOK_SECRET)."))
    if len(body) > MAX_BODY:
        raise BadWebhook("TOO_LARGE", _("The webhook is too large."))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadWebhook("NOT_JSON", _("The webhook is not UTF-8 text.")) from None
    h = _headers(headers)
    known = True
    try:
        verify(secret.get_secret_value(), text, h)
    except WebhookVerificationError as e:
        raise BadWebhook(e.reason, _("The webhook was refused: {message}").format(message=e.message)) from None
    except InvalidInputError:
        raise BadWebhook("NO_SECRET", _("The PortOne V2 webhook secret is not a valid base64 secret.")) from None
    except (ValueError, KeyError, TypeError):
        # Raised only after a signature matched (the SDK parses the body last): authentic, of a type it does not know.
        known = False
    try:
        doc: Any = json.loads(text)
    except ValueError:
        raise BadWebhook("NOT_JSON", _("The webhook's body is not JSON.")) from None
    doc = doc if isinstance(doc, dict) else {}
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}

    def s(v: object) -> str | None:
        return v[:200] if isinstance(v, str) and v else None

    return VerifiedWebhook(h["webhook-id"][:200], int(h["webhook-timestamp"]), s(doc.get("type")) or "",
                           s(data.get("paymentId")), s(data.get("storeId")), s(data.get("transactionId")),
                           s(data.get("cancellationId")), known)
