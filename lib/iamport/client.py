"""The I'mport V1 REST client: the only code that talks to the API.

* One ``requests.Session``. GETs retry with backoff (urllib3 ``Retry``) on
  connection errors, 429 and 502/503/504; writes are mounted on an adapter
  that never retries (a write is sent at most once, ever).
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

import gc
import math
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.parse import quote
import requests
from urllib3.exceptions import HTTPError, ReadTimeoutError
from lib.domain import i18n
from lib.domain.i18n import _
from lib.domain.models import Bank, Payment, PaymentPage, Token
from lib.domain.clock import to_unix
from lib.iamport.errors import ApiUnavailable, AuthFailed, NotFound, OutcomeUnknown, Refused
from lib.iamport.transport import ClientConfig, Reply, Transport, _envelope, _is_write, _never_sent, _parse


NINETY_DAYS = 90 * 86400


PAGE_LIMIT = 1000


TOKEN_MARGIN_S = 60          # renew this long before the server says it expires


# The time each status list filters on (from/to), as the API documents it.
STATUS_TIME_FIELD = {"ready": "started_at", "paid": "paid_at", "cancelled": "cancelled_at", "failed": "failed_at",
                     "all": "started_at"}


Progress = Callable[[int, int], None]


Unavailable = ApiUnavailable


def split_windows(t_from: int, t_to: int, span: int = NINETY_DAYS) -> list[tuple[int, int]]:
    """[t_from, t_to] as consecutive windows at most ``span`` seconds long (inclusive bounds)."""
    if t_from > t_to:
        raise ValueError("from must not be after to")
    out, start = [], t_from
    while True:
        end = min(start + span, t_to)
        out.append((start, end))
        if end >= t_to:
            return out
        start = end + 1


class IamportClient:
    """Resource methods (payments, vbanks, cancel, banks) over a requestor that owns the token, the 401
    re-authentication and the envelope → typed errors, over a transport that moves bytes."""

    def __init__(self, config, session: requests.Session | None = None):
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

    def _send(self, method: str, path: str, *, token: str | None, params=None, json_body=None) -> Reply:
        url = self.base + path
        try:
            resp = self.transport.session_for(method).request(method, url, params=params, json=json_body,
                                                              headers=self._headers(token),
                                        timeout=self.timeout, stream=True)
            try:
                # One read of the whole body: requests' own 10 KB chunking costs ~10 ms per 1 MB page.
                body = resp.raw.read(decode_content=True)
                resp.raw.release_conn()        # fully read: the connection goes back to the pool
            except BaseException:
                resp.close()
                raise
            return Reply(resp.status_code, resp.reason or "", body)
        except requests.ConnectionError as e:
            if _never_sent(e):
                raise ApiUnavailable(_("Could not connect to the API at {base}.").format(base=self.base),
                                     method=method, path=path) from None
            return self._lost(method, path, _("The connection was cut before the API's reply arrived"))
        except (requests.Timeout, ReadTimeoutError):
            return self._lost(method, path, _("No reply within {seconds:g} s").format(seconds=self.timeout[1]))
        except (requests.RequestException, HTTPError, HTTPException, OSError) as e:
            return self._lost(method, path, _("The reply could not be read ({name})").format(name=type(e).__name__))

    def _lost(self, method: str, path: str, what: str):
        """A request left but its reply did not come back. For a write that means: outcome unknown.
        A lost token request moved nothing: it is only "unavailable"."""
        if not _is_write(method, path):
            raise ApiUnavailable(f"{what}.", method=method, path=path) from None
        raise OutcomeUnknown(f"{what}; the request may have been processed.", method=method, path=path) from None

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

    def call(self, method: str, path: str, *, params=None, json_body=None, allow: Iterable[int] = ()) -> Any:
        """One API call: token, send, 401 → re-authenticate once and repeat once, envelope → response.

        With ``allow`` (HTTP statuses that are not errors here, such as 404 for a
        multi-get) it returns ``(response or None, http_status)``.
        """
        resp = self._exchange(method, path, params=params, json_body=json_body)
        if allow and resp.status_code in allow:
            return None, resp.status_code
        data, err = _parse(resp, method, path, write=_is_write(method, path))
        if err:
            raise err
        return (data, resp.status_code) if allow else data

    def _exchange(self, method: str, path: str, *, params=None, json_body=None) -> Reply:
        """Token, send, and on HTTP 401 re-authenticate once and repeat once. The body is not parsed."""
        token = self.token()
        resp = self._send(method, path, token=token, params=params, json_body=json_body)
        if resp.status_code == 401:
            if _is_write(method, path) and _envelope(resp) is None:
                # Only the API's own 401 proves the write was refused; a gateway's page proves nothing.
                return resp
            self._drop_token(token)
            token = self.token(force=True)
            resp = self._send(method, path, token=token, params=params, json_body=json_body)
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

    def status_page(self, status: str, *, page: int = 1, limit: int = PAGE_LIMIT, t_from: int | None = None,
                    t_to: int | None = None, sorting: str | None = None) -> PaymentPage:
        return PaymentPage.model_validate(self._status_page_raw(status, page, limit, t_from, t_to, sorting))

    def _status_page_raw(self, status, page, limit, t_from, t_to, sorting) -> dict:
        path, reply = self._status_page_reply(status, page, limit, t_from, t_to, sorting)
        data, err = _parse(reply, "GET", path)
        if err:
            raise err
        return data

    def _status_page_reply(self, status, page, limit, t_from, t_to, sorting) -> tuple[str, Reply]:
        params = {"page": page, "limit": limit}
        if t_from is not None:
            params["from"] = t_from
        if t_to is not None:
            params["to"] = t_to
        if sorting:
            params["sorting"] = sorting
        path = f"/payments/status/{_seg(status)}"
        return path, self._exchange("GET", path, params=params)

    def list_by_status_raw(self, status: str, t_from: int, t_to: int, *, progress: Progress | None = None,
                           sorting: str = "started", keep: Callable[[dict], bool] | None = None) -> list[dict]:
        """Every payment with ``status`` whose status time is in [t_from, t_to], as raw dicts
        (only those ``keep`` accepts, when given).

        Ranges longer than 90 days are split into 90-day windows; each window's
        first page gives ``total``, the remaining pages are fetched concurrently
        (bounded by ``settings.concurrency``). Pages are taken in as they arrive,
        while the others are still on the wire. When payments changed while the
        pages were read (a page's ``total`` differs from the first's), the window
        is read again by time, one page per sub-window, so nothing is skipped and
        nothing stale is kept.
        """
        with _gc_paused():
            return self._list_by_status_raw(status, t_from, t_to, progress, sorting, keep)

    def _list_by_status_raw(self, status: str, t_from: int, t_to: int, progress: Progress | None,
                            sorting: str, keep: Callable[[dict], bool] | None) -> list[dict]:
        windows = split_windows(t_from, t_to)
        firsts = self._map(lambda w: self._status_page_raw(status, 1, PAGE_LIMIT, w[0], w[1], sorting), windows)
        per_window: list[dict[str, dict]] = [{} for _w in windows]     # kept items, by imp_uid
        all_ids: list[set[str]] = [set() for _w in windows]             # every item seen (for the check)
        totals: list[set[int]] = [{f["total"]} for f in firsts]

        def take(w: int, page: dict) -> None:
            totals[w].add(page.get("total"))
            ids, kept = all_ids[w], per_window[w]
            for item in page.get("list") or ():
                i = item["imp_uid"]
                ids.add(i)
                if keep is None or keep(item):
                    kept[i] = item

        jobs = [(w, p) for w, first in enumerate(firsts) for p in range(2, math.ceil(first["total"] / PAGE_LIMIT) + 1)]
        pages_total = len(windows) + len(jobs)
        # Progress is reported from this (the caller's) thread, so a UI callback may draw.
        if progress:
            progress(len(windows), pages_total)
        if not jobs:
            for w, first in enumerate(firsts):
                take(w, first)
        else:
            with ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(jobs)), thread_name_prefix="iamport",
                                    initializer=i18n.set_lang, initargs=(i18n.lang(),)) as pool:   # errors in the caller's language
                # Workers only move bytes (the GIL is free while they wait); this thread parses each page
                # as it arrives, so parsing overlaps the network instead of fighting over the GIL.
                futures = {pool.submit(self._status_page_reply, status, p, PAGE_LIMIT, *windows[w], sorting): w
                           for w, p in jobs}
                for w, first in enumerate(firsts):          # while the other pages are on the wire
                    take(w, first)
                for n, fut in enumerate(as_completed(futures), start=1):
                    path, reply = fut.result()
                    data, err = _parse(reply, "GET", path)
                    if err:
                        raise err
                    take(futures[fut], data)
                    if progress:
                        progress(len(windows) + n, pages_total)
        # Offset pages are consistent only if nothing moved while they were read. Every page reports the
        # window's total: if one differs from the first (payments were paid, issued or cancelled meanwhile), the
        # pages shifted and some payments were skipped or are stale. Such a window is read again by time:
        # sub-windows small enough for one page each, so no change can shift one payment past another.
        for w, (a, b) in enumerate(windows):
            if len(totals[w]) > 1 or len(all_ids[w]) != firsts[w]["total"]:
                field = STATUS_TIME_FIELD.get(status, "started_at")
                hint = sorted(int(x.get(field) or a) for x in per_window[w].values())
                per_window[w] = {x["imp_uid"]: x for x in self._snapshot(status, a, b, sorting, hint)
                                 if keep is None or keep(x)}
        if len(per_window) == 1:
            return list(per_window[0].values())
        out: dict[str, dict] = {}
        for items in per_window:
            out.update(items)
        return list(out.values())

    def _snapshot(self, status: str, a: int, b: int, sorting: str, hint: list[int]) -> list[dict]:
        """Every payment of the window [a, b] as of one request per sub-window: the window is cut where the
        payments seen (``hint``, their time field, sorted) would fill most of a page."""
        per = max(1, PAGE_LIMIT * 4 // 5)
        subs, lo = [], a
        for i in range(per, len(hint), per):
            cut = max(lo + 1, min(hint[i], b))
            if cut > lo and cut <= b:
                subs.append((lo, cut - 1))
                lo = cut
        subs.append((lo, b))
        out: list[dict] = []
        for part in self._map(lambda w: self._snapshot_one(status, w[0], w[1], sorting, 0), subs):
            out.extend(part)
        return out

    def _snapshot_one(self, status: str, lo: int, hi: int, sorting: str, depth: int) -> list[dict]:
        first = self._status_page_raw(status, 1, PAGE_LIMIT, lo, hi, sorting)
        if first["total"] <= PAGE_LIMIT:
            return list(first.get("list") or ())
        if hi > lo and depth < 20:                  # more than a page now: halve the time range
            mid = (lo + hi) // 2
            return (self._snapshot_one(status, lo, mid, sorting, depth + 1)
                    + self._snapshot_one(status, mid + 1, hi, sorting, depth + 1))
        items = {x["imp_uid"]: x for x in first.get("list") or ()}    # > 1,000 in one second: page through it
        for p in range(2, math.ceil(first["total"] / PAGE_LIMIT) + 1):
            for x in self._status_page_raw(status, p, PAGE_LIMIT, lo, hi, sorting).get("list") or ():
                items[x["imp_uid"]] = x
        return list(items.values())

    def list_by_status(self, status: str, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[Payment]:
        return [Payment.model_validate(p) for p in self.list_by_status_raw(status, t_from, t_to, progress=progress)]

    def list_pending_vbanks_raw(self, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[dict]:
        """Virtual accounts waiting for their deposit: status ``ready``, pay_method ``vbank``."""
        return self.list_by_status_raw("ready", t_from, t_to, progress=progress,
                                       keep=lambda p: p.get("pay_method") == "vbank")

    def list_pending_vbanks(self, t_from: int, t_to: int, *, progress: Progress | None = None) -> list[Payment]:
        return [Payment.model_validate(p) for p in self.list_pending_vbanks_raw(t_from, t_to, progress=progress)]

    def holder(self, bank_code: str, bank_num: str) -> str:
        """GET /vbanks/holder (KFTC 3-digit bank code)."""
        return self.call("GET", "/vbanks/holder", params={"bank_code": bank_code, "bank_num": bank_num})["bank_holder"]

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

    def cancel(self, *, imp_uid: str | None = None, merchant_uid: str | None = None, amount: int | None = None,
               checksum: int | None = None, reason: str | None = None, tax_free: int | None = None,
               vat_amount: int | None = None, refund_holder: str | None = None, refund_bank: str | None = None,
               refund_account: str | None = None, refund_tel: str | None = None,
               retain_promotion: bool | None = None, extra: dict | None = None) -> Payment:
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
    def _map(self, fn, items: list) -> list:
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=max(1, min(self.settings.concurrency, len(items))),
                                thread_name_prefix="iamport", initializer=i18n.set_lang, initargs=(i18n.lang(),)) as pool:
            return list(pool.map(fn, items))


_gc_lock = threading.Lock()


_gc_holders = 0


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while tens of thousands of parsed dicts are created.

    JSON from the API has no reference cycles, yet every few thousand allocations
    the collector walks them all: measured ~70 ms (and most of the variance) of a
    100,000-payment listing. Reference counting still frees everything; the
    collector resumes when the last concurrent listing ends.
    """
    global _gc_holders
    with _gc_lock:
        if _gc_holders == 0:
            _gc_holders_was_enabled[0] = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_holders_was_enabled[0]:
                gc.enable()


_gc_holders_was_enabled = [True]


def _applied_payment(data, method: str, path: str) -> Payment:
    """The payment a successful write returned. The API said ``code 0`` (applied); a body we cannot read
    does not undo that, so it is an unknown outcome to settle by re-reading, not an error."""
    try:
        return Payment.model_validate(data)
    except Exception:
        raise OutcomeUnknown(_("The API accepted the request but its reply could not be read."),
                             method=method, path=path, http_status=200) from None


def _seg(value: str) -> str:
    """A path segment, percent-encoded (merchant_uids may hold any character). A value that would change
    the path's meaning ("", ".", "..", control characters) is refused before anything is sent."""
    v = str(value)
    if v.strip(".") == "" or any(ord(c) < 32 or ord(c) == 127 for c in v):
        raise NotFound(_("No such payment: that id cannot name one."), method="GET", path="(not sent)", http_status=404)
    return quote(v, safe="")
