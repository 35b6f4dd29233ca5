"""Bytes to and from the API: the session for reads and the one for writes (never retried), the envelope read into a
response or a typed error, path segments encoded. A read is retried by the client (lib/iamport/client.py) on connection
errors, 429 and 502/503/504, bounded by a count *and* a total time (``ClientConfig.read_deadline_s``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
import requests
from pydantic import BaseModel, SecretStr
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from lib.domain.i18n import _
from lib.iamport.errors import ApiError, AuthFailed, NotFound, OutcomeUnknown, Refused


@dataclass(frozen=True)
class Reply:
    status_code: int
    reason: str
    content: bytes
    headers: dict[str, str] | None = None       # only those the client acts on (retry-after)


def _envelope(resp: Reply) -> dict[str, Any] | None:
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) and "code" in body and "response" in body else None


def _refusal(status: int, message: str, *, method: str, path: str, code: object) -> Refused:
    cls = NotFound if status == 404 else AuthFailed if status == 401 else Refused
    return cls(message, method=method, path=path, http_status=status, code=code if isinstance(code, int) else None)


def _parse(resp: Reply, method: str, path: str, *, write: bool = False) -> tuple[Any, ApiError | None]:
    """(envelope's response, error or None), parsing the body once.

    For a write (``write=True``) only the API's envelope decides: ``code == 0`` with a 2xx is success,
    ``code != 0`` with a status below 500 is a refusal (not applied). Anything else — an HTTP 5xx (the
    API or a gateway in front of it may have applied the write before failing), a body that is not the
    envelope (an HTML error page), an envelope with code 0 and an error status — is ``OutcomeUnknown``."""
    body = _envelope(resp)
    status = resp.status_code
    if write and (status >= 500 or body is None or (body.get("code") == 0 and status >= 400)):
        what = (f"HTTP {status} ({resp.reason or 'server error'})" if status >= 400 else f"HTTP {status}")
        kind = _("the API's reply") if body is not None else _("a page that is not the API's reply")
        return None, OutcomeUnknown(_("The answer was {kind}: {what}; the request may have been processed.").format(
            kind=kind, what=what),
                                    method=method, path=path, http_status=status)
    if body is not None:
        code = body.get("code")
        if status < 400 and code == 0:
            return body.get("response"), None
        msg = body.get("message") or resp.reason or _("no message")
        return None, _refusal(status, str(msg), method=method, path=path, code=code)
    if status < 400:
        return None, ApiError(_("The API answered with something that is not a JSON envelope."),
                              method=method, path=path, http_status=status)
    return None, ApiError(resp.reason or "HTTP error", method=method, path=path, http_status=status)


def _is_write(method: str, path: str) -> bool:
    """A call that may move money or change a payment (getToken only asks for a token)."""
    return method != "GET" and path != "/users/getToken"


class ClientConfig(BaseModel):
    """What the client needs to talk to the API, and nothing else (no business rules, no database)."""

    api_url: str
    imp_key: SecretStr
    imp_secret: SecretStr
    tier: str | None = None
    connect_timeout: float = 3.05
    read_timeout: float = 20.0
    concurrency: int = 8
    read_deadline: float | None = None      # a read's total time, retries included (None: read_deadline_s)

    @property
    def read_deadline_s(self) -> float:
        """How long one read may take in all, its retries included: one full attempt and quick retries of fast
        failures — an outage costs a page this long at most, not tries × timeout."""
        return self.read_deadline if self.read_deadline else self.connect_timeout + self.read_timeout + 5.0

    @classmethod
    def of(cls, source: Any) -> "ClientConfig":
        """From a ClientConfig, or the connection part of the app's Settings."""
        if isinstance(source, cls):
            return source
        return cls(**{f: getattr(source, f) for f in cls.model_fields if hasattr(source, f)})


READ_TRIES = 3                                  # attempts of one read at most (within its deadline)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_S = 0.2                                 # 0.2, 0.4 s between attempts (Retry-After honoured within the deadline)


class Transport:
    """Moves requests and bytes. No request is retried here: a GET is retried by the client within its count and total
    time (``IamportClient._send``); any other method is sent exactly once — a write is never retried, whatever its
    URL."""

    def __init__(self, config: ClientConfig, session: requests.Session | None = None):
        pool = max(4, config.concurrency + 2)
        self.reads = session or requests.Session()
        self.writes = requests.Session()
        once = Retry(total=0, connect=0, read=0, status=0, redirect=0, raise_on_status=False)
        # read=False: a read that timed out is told as a timeout ("No reply within …"), not as a cut connection
        read_once = Retry(total=0, connect=0, read=False, status=0, redirect=0, raise_on_status=False)
        for sess, policy in ((self.reads, read_once), (self.writes, once)):
            adapter = HTTPAdapter(max_retries=policy, pool_connections=2, pool_maxsize=pool)
            sess.mount("http://", adapter)
            sess.mount("https://", adapter)

    def session_for(self, method: str) -> requests.Session:
        return self.reads if method.upper() == "GET" else self.writes


def _never_sent(e: requests.ConnectionError) -> bool:
    """True when the request provably never left: no connection could be made."""
    if isinstance(e, requests.ConnectTimeout):
        return True
    reason = getattr(e.args[0], "reason", None) if e.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _seg(value: str) -> str:
    """A path segment, percent-encoded (merchant_uids may hold any character). A value that would change
    the path's meaning ("", ".", "..", control characters) is refused before anything is sent."""
    v = str(value)
    if v.strip(".") == "" or any(ord(c) < 32 or ord(c) == 127 for c in v):
        raise NotFound(_("No such payment: that id cannot name one."), method="GET", path="(not sent)", http_status=404)
    return quote(v, safe="")
