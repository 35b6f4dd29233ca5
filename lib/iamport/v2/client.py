"""PortOne V2 through the official SDK (``portone-server-sdk``), behind the desk-level interface of the V1
``IamportClient``: callers read and write a payment without caring which API it lives in.

* reads: ``get_payment``, ``get_payments``, ``list_columns`` (the V1 listing's Arrow table), ``changed_since`` (the
  payments cursor, for the mirror);
* writes, each sent once and never retried: ``cancel`` (``currentCancellableAmount`` in the checksum's role, the
  refund account in the standard bank enum; the payment comes back with ``cancel_status`` ``succeeded`` or
  ``requested``), ``revoke_vbank`` (closes the account); ``update_vbank`` is refused: V2 has no such endpoint;
* errors as the desk's tree (lib/iamport/v2/transport.classify); the secret is a ``SecretStr`` and appears in no
  repr, message or log (the SDK holds it to sign its requests; errors are raised ``from None``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import partial
from typing import Any

import pyarrow as pa
from portone_server_sdk.common import PageInput
from portone_server_sdk.payment import CancelPaymentBodyRefundAccount, PaymentFilterInput
from pydantic import BaseModel, SecretStr

from lib.domain import i18n, payment_table, portone_v2
from lib.domain.i18n import _
from lib.domain.models import Bank, Payment
from lib.domain.settings import V2_SANDBOX_SECRET
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError, NotFound, OutcomeUnknown, Refused
from lib.iamport.v2 import mapping
from lib.iamport.v2.transport import Wire, call

PAGE_SIZE = 1000                # payments per page asked of a listing (the API may give fewer)
MAX_PAGES = 2000                # a listing stops there (2,000,000 payments) rather than read without end
CURSOR_PAGES = 50               # pages one ``changed_since`` reads at most; the next call goes on from its cursor

Progress = Callable[[int, int], None]


class V2Config(BaseModel):
    """What the V2 client needs (from the app's Settings: ``v2_api_url``, ``v2_api_secret``, ``v2_store_id``)."""

    api_url: str
    secret: SecretStr
    store_id: str | None = None
    connect_timeout: float = 3.05
    read_timeout: float = 20.0
    concurrency: int = 8

    @classmethod
    def of(cls, source: Any) -> "V2Config":
        if isinstance(source, cls):
            return source
        if not getattr(source, "v2_api_url", None):
            raise ValueError("PortOne V2 is not configured (PORTONE_V2_API_URL)")
        return cls(api_url=source.v2_api_url, secret=source.v2_api_secret or SecretStr(V2_SANDBOX_SECRET),
                   store_id=source.v2_store_id, connect_timeout=getattr(source, "connect_timeout", 3.05),
                   read_timeout=getattr(source, "read_timeout", 20.0), concurrency=getattr(source, "concurrency", 8))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def _id(payment_id: str) -> str:
    v = str(payment_id)
    if not v.strip() or any(ord(c) < 32 or ord(c) == 127 for c in v) or v.strip(".") == "":
        raise NotFound(_("No such payment: that id cannot name one."), method="GET", path="(not sent)", http_status=404)
    return v


class PortOneV2Client:
    """The desk's client for a merchant on PortOne V2 (see the module's docstring)."""

    api_version = portone_v2.V2

    def __init__(self, config: Any, *, transport: Any = None):
        self.config = V2Config.of(config)
        self.base = self.config.api_url.rstrip("/")
        self.wire = Wire(connect_timeout=self.config.connect_timeout, read_timeout=self.config.read_timeout,
                         concurrency=self.config.concurrency, transport=transport)
        self._sdk = self.wire.payment_client(secret=self.config.secret, base_url=self.base,
                                             store_id=self.config.store_id)

    def __repr__(self) -> str:
        return f"PortOneV2Client({self.base!r}, store={self.config.store_id!r})"

    def close(self) -> None:
        self.wire.close()

    def _read(self, fn: Callable[[], Any], path: str) -> Any:
        return call(self.wire, fn, write=False, method="GET", path=path)

    def _write(self, fn: Callable[[], Any], path: str) -> Any:
        return call(self.wire, fn, write=True, method="POST", path=path)

    # ---------------------------------------------------------------- reads
    def get_payment_v2(self, payment_id: str) -> Any:
        """The SDK's own payment object."""
        pid = _id(payment_id)
        return self._read(lambda: self._sdk.get_payment(payment_id=pid), f"/payments/{pid}")

    def get_payment(self, imp_uid: str) -> Payment:
        """The V2 payment ``imp_uid`` (its paymentId) as the desk's ``Payment`` (lib/iamport/v2/mapping.py)."""
        raw = self.get_payment_v2(imp_uid)
        try:
            return mapping.to_payment(raw)
        except (mapping.UnknownShape, ValueError) as e:
            raise ApiError(_("PortOne gave this payment in a form the desk does not know ({what}).").format(
                what=type(e).__name__), method="GET", path=f"/payments/{imp_uid}") from None

    def get_payments(self, imp_uids: Iterable[str]) -> list[Payment]:
        """Each payment read once (V2 has no multi-get by id), a few at a time; missing ones are left out."""
        ids = list(dict.fromkeys(imp_uids))

        def one(pid: str) -> Payment | None:
            try:
                return self.get_payment(pid)
            except NotFound:
                return None

        if len(ids) <= 1:
            found = [one(i) for i in ids]
        else:
            with ThreadPoolExecutor(max_workers=max(1, min(self.config.concurrency, len(ids))),
                                    thread_name_prefix="portone-v2", initializer=i18n.set_lang,
                                    initargs=(i18n.lang(),)) as pool:
                found = list(pool.map(one, ids))
        return [p for p in found if p is not None]

    def list_payments(self, status: str, t_from: int, t_to: int, *, pay_method: str | None = None,
                      progress: Progress | None = None, sorting: str = "started") -> list[dict[str, Any]]:
        """Every payment with the desk's ``status`` (ready, paid, cancelled, failed, all) whose status time (``all``:
        its creation) is in [t_from, t_to], as the desk's payment dicts, page by page through the SDK's
        ``get_payments``. A payment met twice (it moved between pages) is kept once, as last read. Only V2 payments:
        the V2 API also shows a merchant's V1 payments, which the desk reads through the V1 client."""
        statuses = portone_v2.STATUS_FILTER.get(status)
        if status != "all" and statuses is None:
            raise ValueError(f"not a status list: {status!r}")
        flt = PaymentFilterInput(
            store_id=self.config.store_id, timestamp_type="CREATED_AT" if status == "all" else "STATUS_CHANGED_AT",
            # V1's bounds are whole seconds, both inclusive; V2's times carry milliseconds: the last second whole.
            from_=_iso(t_from), until=_iso(t_to + 0.999), status=statuses,
            methods=["VIRTUAL_ACCOUNT"] if pay_method == "vbank" else None, version="V2",
            sort_by="STATUS_CHANGED_AT" if sorting.lstrip("-") in ("paid", "updated") else "REQUESTED_AT",
            sort_order="DESC" if sorting.startswith("-") else "ASC")
        seen: dict[str, dict[str, Any]] = {}
        number, total_pages = 0, 1
        while number < min(total_pages, MAX_PAGES):
            page = self._read(partial(self._sdk.get_payments, page=PageInput(number=number, size=PAGE_SIZE),
                                      filter=flt), "/payments")
            for raw in page.items:
                try:
                    row = mapping.as_dict(raw)
                except mapping.UnknownShape:
                    continue
                if pay_method and row["pay_method"] != pay_method:
                    continue
                seen[row["imp_uid"]] = row
            size = page.page.size or PAGE_SIZE
            total_pages = -(-page.page.total_count // size) if size else 0
            number += 1
            if progress:
                progress(number, max(total_pages, number))
            if not page.items:
                break
        return list(seen.values())

    def list_columns(self, status: str, t_from: int, t_to: int, *, fields: tuple[str, ...] = payment_table.ALL,
                     pay_method: str | None = None, progress: Progress | None = None,
                     sorting: str = "started") -> pa.Table:
        """``list_payments`` as the V1 listing's Arrow table of ``fields`` (lib/domain/payment_table.py)."""
        rows = self.list_payments(status, t_from, t_to, pay_method=pay_method, progress=progress, sorting=sorting)
        return payment_table.from_dicts(rows, fields)

    def changed_since(self, cursor: str | None, since: int | None) -> tuple[pa.Table, str | None]:
        """Payments after ``cursor`` (the last call's), or created since ``since`` (UNIX seconds) on the first call,
        through the SDK's ``get_all_payments_by_cursor``, as the listing's table (every field) and the cursor to
        pass next time (the same one when nothing new came). At most ``CURSOR_PAGES`` pages a call: the next call
        goes on. The cursor follows creation: a change to an older payment is seen by re-reading it (its webhook,
        or the mirror's own re-read of open payments)."""
        rows: dict[str, dict[str, Any]] = {}
        after = cursor
        for _page in range(CURSOR_PAGES):
            got = self._read(partial(self._sdk.get_all_payments_by_cursor, cursor=after, size=PAGE_SIZE,
                                     from_=_iso(since) if since is not None and after is None else None),
                             "/payments-by-cursor")
            if not got.items:
                break
            for item in got.items:
                try:
                    row = mapping.as_dict(item.payment)
                except mapping.UnknownShape:
                    continue
                if row["v2_version"] == "V1":        # a V1 payment seen through V2: the V1 client reads it
                    continue
                rows[row["imp_uid"]] = row
            after = got.items[-1].cursor
        return payment_table.from_dicts(list(rows.values())), after

    def holder(self, bank_code: str, bank_num: str, *, within_s: float = 10.0) -> str:
        """V2 has no account-holder lookup: refused (the refund's holder check says so and passes)."""
        raise Refused(_("PortOne V2 offers no account-holder lookup"), method="GET", path="(not sent)")

    def banks(self) -> list[Bank]:
        """The banks a V2 refund can go to (the standard enum as the code, the Korean name)."""
        return [Bank(code=b.code, name=b.name_ko) for b in portone_v2.refund_banks()]

    # --------------------------------------------------------------- writes
    def cancel(self, *, imp_uid: str | None = None, merchant_uid: str | None = None, amount: int | None = None,
               checksum: int | None = None, reason: str | None = None, tax_free: int | None = None,
               vat_amount: int | None = None, refund_holder: str | None = None, refund_bank: str | None = None,
               refund_account: str | None = None, refund_tel: str | None = None, **_ignored: Any) -> Payment:
        """``POST /payments/{paymentId}/cancel`` once (the V1 names: ``checksum`` is sent as
        ``currentCancellableAmount``, ``refund_bank`` must be a V2 ``Bank``). Returns the payment re-read after it,
        with ``cancel_status`` (``succeeded``, or ``requested``: the PG finishes it later, 환불 요청됨) and
        ``cancellation_id``. A FAILED cancellation is the API's refusal (nothing moved); an answer that cannot be
        read, or a payment that cannot be re-read after an accepted cancel, is an unknown outcome."""
        pid = _id(imp_uid or merchant_uid or "")
        path = f"/payments/{pid}/cancel"
        account = None
        if refund_bank or refund_account:
            account = CancelPaymentBodyRefundAccount(bank=refund_bank or "", number=refund_account or "",
                                                     holder_name=refund_holder or "",
                                                     holder_phone_number=refund_tel or None)
        reply = self._write(lambda: self._sdk.cancel_payment(
            payment_id=pid, amount=amount, tax_free_amount=tax_free, vat_amount=vat_amount, reason=reason or "",
            requester="ADMIN", current_cancellable_amount=checksum, refund_account=account), path)
        try:
            status = mapping.cancel_status(reply.cancellation)
        except mapping.UnknownShape:
            raise OutcomeUnknown(_("PortOne accepted the refund but its reply could not be read; the request may have "
                                   "been processed."), method="POST", path=path, http_status=200) from None
        if status == "failed":
            raise Refused(_("PortOne says the refund failed: “{reason}”").format(reason=reply.cancellation.reason),
                          method="POST", path=path, http_status=200)
        return self._after(pid, path, _("refund"), cancel_status=status, cancellation_id=reply.cancellation.id)

    def revoke_vbank(self, imp_uid: str) -> Payment:
        """``POST /payments/{paymentId}/virtual-account/close`` once: the account refuses deposits from now on (the
        payment reads ``failed`` in V2). Returns the payment re-read after it."""
        pid = _id(imp_uid)
        path = f"/payments/{pid}/virtual-account/close"
        reply = self._write(lambda: self._sdk.close_virtual_account(payment_id=pid), path)
        return self._after(pid, path, _("account closing"), closed_at=mapping.unix(reply.closed_at))

    def update_vbank(self, imp_uid: str, *, amount: int | None = None, vbank_due: Any = None) -> Payment:
        """V2 has no endpoint to change an issued account: refused, nothing sent."""
        raise Refused(_("PortOne V2 cannot change an issued virtual account's amount or due date; nothing was sent. "
                        "Close the account and issue a new one instead."), method="PUT", path="(not sent)")

    def _after(self, pid: str, path: str, what: str, **facts: Any) -> Payment:
        """The payment re-read after an accepted write, carrying what the write's reply said. When it cannot be
        re-read, the write is reported as an unknown outcome (the caller re-reads again and never resends)."""
        try:
            p = self.get_payment(pid)
        except ApiError as e:
            raise OutcomeUnknown(_("PortOne accepted the {what}, but the payment could not be read back ({message}); "
                                   "the request may have been processed.").format(what=what, message=e.message),
                                 method="POST", path=path, http_status=200) from None
        return p.model_copy(update=facts)


# A client of either API: what the services take (``api_version`` tells them apart).
DeskClient = IamportClient | PortOneV2Client


def version_of(client: object) -> str:
    """``"v2"`` for a PortOne V2 client, else ``"v1"``."""
    return str(getattr(client, "api_version", portone_v2.V1))
