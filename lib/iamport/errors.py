"""What can go wrong with a call, as types: ``Refused`` (the API's own envelope said no; ``NotFound`` for 404),
``AuthFailed`` (keys refused), ``ApiUnavailable`` (provably not sent) and ``OutcomeUnknown`` (a write left and no
envelope came back). Each carries HTTP status, API code and message, method and path; never a token or a secret."""

from __future__ import annotations

from lib.domain.errors import DeskError
from lib.domain.refusals import Refusal


class ApiError(DeskError):
    """The API refused or failed. ``message`` is the API's own words when it gave any."""

    def __init__(self, message: str, *, method: str, path: str, http_status: int | None = None,
                 code: int | None = None):
        super().__init__(message)
        self.message, self.method, self.path = message, method, path
        self.http_status, self.code = http_status, code

    def __str__(self) -> str:
        """What a person is shown: the sentence (with the API's own message quoted), no method or path (those
        stay on the exception, and the audit record keeps the request and HTTP status)."""
        return self.message


class Refused(ApiError, Refusal):
    """The API's own envelope (``code != 0``) refused the call: for a write, proof it was not applied."""


class NotFound(Refused):
    """HTTP 404 with the API's envelope: no such payment."""


class AuthFailed(Refused):
    """The REST API key/secret (or the token) was refused."""


class ApiUnavailable(ApiError):
    """No answer: connection refused, DNS, timeout before anything was sent."""


class OutcomeUnknown(ApiUnavailable):
    """A write was sent but no envelope came back: a read timeout, a cut connection, an HTTP 5xx (from the
    API or a gateway in front of it), or a body that is not the API's JSON envelope (an HTML error page).
    The API may or may not have applied it: re-read, never resend."""
