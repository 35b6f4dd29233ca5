"""The wire under the official V2 SDK: one ``httpx.Client`` with the desk's timeouts (the SDK's own waits 60 s), given
to the SDK's payment client, and what an SDK call's failure means for the desk (``classify``).

No V2 request is written here: the SDK builds and sends every one; this module only chooses the client it sends
with and reads what went wrong. The HTTP status of the last reply on this thread is kept by an event hook
(``last_status``): the SDK's errors do not carry it, and for a write a 5xx says "unknown", not "refused".

What an exception means (for a write only ``Refused`` means "not applied"):

* no connection could be made (connect error / timeout, no free connection in the pool) → ``ApiUnavailable``;
* anything else from the wire (a read timeout, a cut connection, a reply that cannot be read) → for a write
  ``OutcomeUnknown`` (it may have been applied: re-read, never resend), for a read ``ApiUnavailable``;
* the API's own typed error (``{"type", "message"}``) with a status below 500 → ``Refused`` (``NotFound`` for a
  missing payment, ``AuthFailed`` for a refused secret), its message quoted;
* a 5xx (the PG's error included) or a body that is not the API's → for a write ``OutcomeUnknown``, for a read
  ``ApiUnavailable``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from portone_server_sdk.errors import (
    PaymentNotFoundError,
    PgProviderError,
    PortOneError,
    UnauthorizedError,
    UnknownError,
)
from portone_server_sdk.payment import PaymentClient
from pydantic import SecretStr

from lib.domain.i18n import _
from lib.iamport.errors import ApiError, ApiUnavailable, AuthFailed, NotFound, OutcomeUnknown, Refused


class Wire:
    """One pooled ``httpx.Client`` for the SDK (bounded connections, the desk's timeouts), and the status of the last
    reply each thread got through it."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, concurrency: int,
                 transport: httpx.BaseTransport | None = None):
        self._seen = threading.local()
        self.http = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max(2, concurrency + 2)), transport=transport,
            follow_redirects=False, event_hooks={"response": [self._answered]})

    def _answered(self, response: httpx.Response) -> None:
        self._seen.status = response.status_code

    def start(self) -> None:
        self._seen.status = None

    @property
    def last_status(self) -> int | None:
        return getattr(self._seen, "status", None)

    def payment_client(self, *, secret: SecretStr, base_url: str, store_id: str | None) -> PaymentClient:
        """The SDK's payment client, sending through this wire (its own 60-second client is closed)."""
        sdk = PaymentClient(secret=secret.get_secret_value(), base_url=base_url, store_id=store_id)
        own = sdk._sync_client
        sdk._sync_client = self.http        # the SDK offers no timeout setting: its client is replaced whole
        own.close()
        return sdk

    def close(self) -> None:
        self.http.close()


def _api_message(e: PortOneError) -> str:
    if isinstance(e, PgProviderError):
        return " — ".join(x for x in (e.message, f"{e.pg_message} ({e.pg_code})" if e.pg_message else None) if x)
    if isinstance(e, UnknownError):
        err = e.error if isinstance(e.error, dict) else {}
        return str(err.get("message") or err.get("type") or e.message or _("no message"))
    return str(e.message or type(e).__name__)


def classify(e: BaseException, *, write: bool, method: str, path: str, status: int | None) -> ApiError:
    """What ``e``, raised by an SDK call (or the wire under it), means for the desk (see the module's docstring)."""
    if isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)):
        return ApiUnavailable(_("Could not connect to PortOne V2 ({name}).").format(name=type(e).__name__),
                              method=method, path=path)
    if isinstance(e, httpx.TimeoutException):
        what = _("No reply in time")
    elif isinstance(e, httpx.HTTPError):
        what = _("The connection was cut before the API's reply arrived")
    elif isinstance(e, PortOneError) and status is not None and status < 500:
        message = _api_message(e)
        if isinstance(e, UnauthorizedError):
            return AuthFailed(_("PortOne V2 refused the API secret: {message}").format(message=message),
                              method=method, path=path, http_status=status)
        cls = NotFound if isinstance(e, PaymentNotFoundError) or status == 404 else Refused
        return cls(message, method=method, path=path, http_status=status)
    elif isinstance(e, PortOneError):
        what = _("PortOne answered HTTP {status}: “{message}”").format(status=status or "?", message=_api_message(e))
    elif isinstance(e, (ValueError, KeyError, TypeError, json.JSONDecodeError)):
        what = _("The answer was not PortOne's reply (HTTP {status})").format(status=status or "?")
    else:
        what = _("The call failed ({name})").format(name=type(e).__name__)
    if write:
        return OutcomeUnknown(_("{what}; the request may have been processed.").format(what=what), method=method,
                              path=path, http_status=status)
    return ApiUnavailable(what + ".", method=method, path=path, http_status=status)


def call(wire: Wire, fn: Any, *, write: bool, method: str, path: str) -> Any:
    """``fn()`` (one SDK call), its failures as the desk's errors. Never retried here."""
    wire.start()
    try:
        return fn()
    except Exception as e:      # noqa: BLE001 — every failure becomes one of the desk's errors, without the request
        raise classify(e, write=write, method=method, path=path, status=wire.last_status) from None
