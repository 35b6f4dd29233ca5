"""The I'mport V1 REST client: the only code that talks to the API.

* One ``requests.Session``. GETs retry with backoff on connection errors,
  timeouts, 429 and 502/503/504 — at most three tries and never past the
  read's total deadline (``ClientConfig.read_deadline_s``); writes are never
  retried (a write is sent at most once, ever).
* Tokens are cached until shortly before they expire, by the server's clock
  (``expired_at - now``). A token that is already expired when handed out is
  used for one call and not cached. HTTP 401 re-authenticates once and repeats
  the call once.
* Every failure is an ``ApiError`` carrying HTTP status, API code and message,
  method and path; never the token or the secret. The tree:
  ``Refused`` (the API's own envelope said no; ``NotFound`` for 404),
  ``AuthFailed`` (keys refused), ``ApiUnavailable`` (provably not sent) and
  ``OutcomeUnknown`` (a write left and no envelope came back: a timeout, a cut
  connection, a 5xx from the API or a gateway, an HTML page). For a write only
  ``Refused`` means "not applied"; ``OutcomeUnknown`` means "re-read, never resend".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.client import HTTPException
from typing import Any, NoReturn

import requests
from urllib3.exceptions import HTTPError, ReadTimeoutError

from lib.domain import i18n
from lib.domain.clock import to_unix
from lib.domain.i18n import _
from lib.domain.models import Bank, Payment, Token
from lib.iamport.errors import ApiUnavailable, AuthFailed, OutcomeUnknown, Refused
from lib.iamport.listing import Listing
from lib.iamport.transport import (
    BACKOFF_S,
    READ_TRIES,
    RETRY_STATUSES,
    ClientConfig,
    Reply,
    Transport,
    _envelope,
    _is_write,
    _never_sent,
    _parse,
    _seg,
)

TOKEN_MARGIN_S = 60          # renew this long before the server says it expires
HOLDER_WITHIN_S = 10.0       # the account-holder lookup gives up after this long


class IamportClient(Listing):
    """Resource methods (payments, vbanks, cancel, banks) over a requestor that owns the token, the 401
    re-authentication and the envelope → typed errors, over a transport that moves bytes."""

    api_version = "v1"          # the desk-level marker both clients carry (lib/iamport/v2/client.py: "v2")

    def __init__(self, config: Any, session: requests.Session | None = None):
        self.config = ClientConfig.of(config)
        self.settings = self.config              # older name
        self.base = self.config.api_url.rstrip("/")
        self.timeout = (self.config.connect_timeout, self.config.read_timeout)
        self.transport = Transport(self.config, session)
        self.session = self.transport.reads      # hooks for tests that watch what is sent
        self._token: str | None = None
        self._token_valid_until = 0.0
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IamportClient({self.base!r})"

    # ------------------------------------------------------------ transport
    def _headers(self, token: str | None) -> dict[str, str]:
        h = {"Accept": "application/json"}
        if token:
            h["Authorization"] = token
        if self.settings.tier:
            h["Tier"] = self.settings.tier
        return h

    def _send(self, method: str, path: str, *, token: str | None, params: dict[str, Any] | None = None,
              json_body: Any = None, deadline_s: float | None = None) -> Reply:
        """One request. A GET is tried again on a connection error, a timeout, 429 or 502/503/504 — at most
        ``READ_TRIES`` times and never past ``read_deadline_s`` in all (each attempt's timeout shrinks to what is
        left; a wait that would pass it is not made): an outage costs a read its deadline, not tries × timeout.
        Any other method is sent once."""
        if method.upper() != "GET":
            return self._send_once(method, path, token=token, params=params, json_body=json_body, timeout=self.timeout)
        deadline = time.monotonic() + min(deadline_s or self.config.read_deadline_s, self.config.read_deadline_s)
        for attempt in range(1, READ_TRIES + 1):
            left = deadline - time.monotonic()
            timeout = (min(self.timeout[0], max(left, 0.05)), min(self.timeout[1], max(left, 0.05)))
            try:
                reply = self._send_once(method, path, token=token, params=params, timeout=timeout)
            except ApiUnavailable:
                if attempt == READ_TRIES or not self._wait_before_retry(attempt, deadline, None):
                    raise
                continue
            if reply.status_code not in RETRY_STATUSES or attempt == READ_TRIES or \
                    not self._wait_before_retry(attempt, deadline, _retry_after(reply)):
                return reply
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _wait_before_retry(attempt: int, deadline: float, retry_after: float | None) -> bool:
        """Wait before the next attempt; False (no wait, no attempt) when it would not fit before the deadline."""
        wait = retry_after if retry_after is not None else BACKOFF_S * 2 ** (attempt - 1)
        if time.monotonic() + wait + 0.05 >= deadline:
            return False
        time.sleep(wait)
        return True

    def _send_once(self, method: str, path: str, *, token: str | None, params: dict[str, Any] | None = None,
                   json_body: Any = None, timeout: tuple[float, float]) -> Reply:
        url = self.base + path
        try:
            resp = self.transport.session_for(method).request(method, url, params=params, json=json_body,
                                                              headers=self._headers(token),
                                                              timeout=timeout, stream=True)
            try:
                # One read of the whole body: requests' own 10 KB chunking costs ~10 ms per 1 MB page.
                body = resp.raw.read(decode_content=True)
                resp.raw.release_conn()        # fully read: the connection goes back to the pool
            except BaseException:
                resp.close()
                raise
            ra = resp.headers.get("Retry-After")
            return Reply(resp.status_code, resp.reason or "", body, {"retry-after": ra} if ra else None)
        except requests.ConnectionError as e:
            if _never_sent(e):
                raise ApiUnavailable(_("Could not connect to the API at {base}.").format(base=self.base),
                                     method=method, path=path) from None
            return self._lost(method, path, _("The connection was cut before the API's reply arrived"))
        except (requests.Timeout, ReadTimeoutError):
            return self._lost(method, path, _("No reply within {seconds:g} s").format(seconds=round(timeout[1], 1)))
        except (requests.RequestException, HTTPError, HTTPException, OSError) as e:
            return self._lost(method, path, _("The reply could not be read ({name})").format(name=type(e).__name__))

    def _lost(self, method: str, path: str, what: str) -> NoReturn:
        """A request left but its reply did not come back. For a write that means: outcome unknown.
        A lost token request moved nothing: it is only "unavailable"."""
        if not _is_write(method, path):
            raise ApiUnavailable(what + ".", method=method, path=path) from None
        raise OutcomeUnknown(_("{what}; the request may have been processed.").format(what=what), method=method,
                             path=path) from None

    # ----------------------------------------------------------------- auth
    def _fetch_token(self) -> Token:
        path = "/users/getToken"
        body = {"imp_key": self.settings.imp_key.get_secret_value(),
                "imp_secret": self.settings.imp_secret.get_secret_value()}
        resp = self._send("POST", path, token=None, json_body=body)
        data, err = _parse(resp, "POST", path)
        if err:
            if resp.status_code == 401:
                err = AuthFailed(_("The API refused the REST API key/secret: {message}").format(
                    message=err.message), method="POST",
                                 path=path, http_status=401, code=err.code)
            elif not isinstance(err, Refused):
                err = ApiUnavailable(_("No token: {message}").format(message=err.message), method="POST", path=path,
                                     http_status=err.http_status)
            raise err
        return Token.model_validate(data)

    def token(self, *, force: bool = False) -> str:
        with self._token_lock:
            if not force and self._token and time.monotonic() < self._token_valid_until:
                return self._token
            tok = self._fetch_token()
            life = tok.lifetime - TOKEN_MARGIN_S
            self._token = tok.access_token
            # A token already (nearly) expired is used for this call only; the next call asks again.
            self._token_valid_until = time.monotonic() + life if life > 0 else 0.0
            return tok.access_token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token, self._token_valid_until = None, 0.0

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None,
             allow: Iterable[int] = (), deadline_s: float | None = None) -> Any:
        """One API call: token, send, 401 → re-authenticate once and repeat once, envelope → response.

        With ``allow`` (HTTP statuses that are not errors here, such as 404 for a
        multi-get) it returns ``(response or None, http_status)``.
        """
        resp = self._exchange(method, path, params=params, json_body=json_body, deadline_s=deadline_s)
        if allow and resp.status_code in allow:
            return None, resp.status_code
        data, err = _parse(resp, method, path, write=_is_write(method, path))
        if err:
            raise err
        return (data, resp.status_code) if allow else data

    def _exchange(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                  json_body: Any = None, deadline_s: float | None = None) -> Reply:
        """Token, send, and on HTTP 401 re-authenticate once and repeat once. The body is not parsed."""
        token = self.token()
        resp = self._send(method, path, token=token, params=params, json_body=json_body, deadline_s=deadline_s)
        if resp.status_code == 401:
            if _is_write(method, path) and _envelope(resp) is None:
                # Only the API's own 401 proves the write was refused; a gateway's page proves nothing.
                return resp
            self._drop_token(token)
            token = self.token(force=True)
            resp = self._send(method, path, token=token, params=params, json_body=json_body, deadline_s=deadline_s)
        return resp

    # ---------------------------------------------------------------- reads
    def get_payment(self, imp_uid: str) -> Payment:
        return Payment.model_validate(self.call("GET", f"/payments/{_seg(imp_uid)}"))

    def find_by_merchant_uid(self, merchant_uid: str, status: str | None = None) -> Payment:
        path = f"/payments/find/{_seg(merchant_uid)}" + (f"/{_seg(status)}" if status else "")
        return Payment.model_validate(self.call("GET", path))

    def get_payments(self, imp_uids: Iterable[str]) -> list[Payment]:
        """Up to 100 per request (chunked); missing ones are left out (HTTP 207/404)."""
        ids = list(dict.fromkeys(imp_uids))
        chunks = [ids[i:i + 100] for i in range(0, len(ids), 100)]

        def one(chunk: list[str]) -> list[Payment]:
            data, status = self.call("GET", "/payments", params={"imp_uid[]": chunk}, allow=(404,))
            return [] if status == 404 or not data else [Payment.model_validate(p) for p in data]

        out: list[Payment] = []
        for part in self._map(one, chunks):
            out.extend(part)
        return out

    def holder(self, bank_code: str, bank_num: str, *, within_s: float = HOLDER_WITHIN_S) -> str:
        """GET /vbanks/holder (KFTC 3-digit bank code). Gives up after ``within_s`` in all (retries included): an
        operator waits for this check, and a bank that does not answer is told as a sentence, not a minute's wait."""
        return str(self.call("GET", "/vbanks/holder", params={"bank_code": bank_code, "bank_num": bank_num},
                             deadline_s=within_s)["bank_holder"])

    def banks(self) -> list[Bank]:
        return [Bank.model_validate(b) for b in self.call("GET", "/banks")]

    # --------------------------------------------------------------- writes
    def update_vbank(self, imp_uid: str, *, amount: int | None = None, vbank_due: datetime | int | None = None) -> Payment:
        """PUT /vbanks/{imp_uid}: only the given fields are sent. Never retried."""
        body: dict[str, int] = {}
        if amount is not None:
            body["amount"] = int(amount)
        if vbank_due is not None:
            body["vbank_due"] = vbank_due if isinstance(vbank_due, int) else to_unix(vbank_due)
        if not body:
            raise ValueError("nothing to update: give amount and/or vbank_due")
        path = f"/vbanks/{_seg(imp_uid)}"
        return _applied_payment(self.call("PUT", path, json_body=body), "PUT", path)

    def revoke_vbank(self, imp_uid: str) -> Payment:
        """DELETE /vbanks/{imp_uid} (가상계좌 발급취소): close a virtual account nothing was paid into. Never retried.
        KG이니시스 also wants its ``pg_api_key``, which vbank-desk does not hold: the API's refusal says so."""
        path = f"/vbanks/{_seg(imp_uid)}"
        return _applied_payment(self.call("DELETE", path), "DELETE", path)

    def cancel(self, *, imp_uid: str | None = None, merchant_uid: str | None = None, amount: int | None = None,
               checksum: int | None = None, reason: str | None = None, tax_free: int | None = None,
               vat_amount: int | None = None, refund_holder: str | None = None, refund_bank: str | None = None,
               refund_account: str | None = None, refund_tel: str | None = None,
               retain_promotion: bool | None = None, extra: dict[str, Any] | None = None) -> Payment:
        """POST /payments/cancel with every field of the spec. Never retried."""
        if not imp_uid and not merchant_uid:
            raise ValueError("imp_uid or merchant_uid is required")
        body = {k: v for k, v in {
            "imp_uid": imp_uid, "merchant_uid": merchant_uid, "amount": amount, "checksum": checksum,
            "reason": reason, "tax_free": tax_free, "vat_amount": vat_amount, "refund_holder": refund_holder,
            "refund_bank": refund_bank, "refund_account": refund_account, "refund_tel": refund_tel,
            "retain_promotion": retain_promotion, "extra": extra}.items() if v is not None}
        return _applied_payment(self.call("POST", "/payments/cancel", json_body=body), "POST", "/payments/cancel")

    # --------------------------------------------------------------- helpers
    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=max(1, min(self.settings.concurrency, len(items))),
                                thread_name_prefix="iamport", initializer=i18n.set_lang, initargs=(i18n.lang(),)) as pool:
            return list(pool.map(fn, items))


def _retry_after(reply: Reply) -> float | None:
    """Seconds a 429/503 asked to wait (``Retry-After`` in seconds), when the reply said so."""
    value = reply.headers.get("retry-after") if reply.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _applied_payment(data: Any, method: str, path: str) -> Payment:
    """The payment a successful write returned. The API said ``code 0`` (applied); a body we cannot read
    does not undo that, so it is an unknown outcome to settle by re-reading, not an error."""
    try:
        return Payment.model_validate(data)
    except Exception:
        raise OutcomeUnknown(_("The API accepted the request but its reply could not be read."),
                             method=method, path=path, http_status=200) from None
