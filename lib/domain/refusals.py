"""Every "not sent, and here is why" a page shows as a sentence.

``Refusal`` is raised before anything leaves (stale figures, a busy payment, invalid input, an approval needed, a
role that may not) and by the client for the API's own refusal (``lib/iamport/errors.Refused``). A page catches
``Refusal`` and shows it; anything else is a bug or an outage. ``InvalidInput`` lives with the rules that raise it
(lib/domain/rules.py), ``Forbidden`` with the roles (lib/domain/identity.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lib.domain.errors import DeskError

if TYPE_CHECKING:
    from lib.domain.models import Payment


class Refusal(DeskError):
    """Nothing was sent (or the API's own envelope refused it), for a reason a person can act on."""


class Busy(Refusal):
    """Another write to the same payment is in flight, its outcome is unknown, or a request for it waits
    for approval (``request_id``)."""

    def __init__(self, message: str, *, request_id: str | None = None):
        super().__init__(message)
        self.request_id = request_id


class NeedsApproval(Refusal):
    """Above the four-eyes limits: this must be requested and approved by a second person."""


class Stale(Refusal):
    """The payment changed since the operator looked at it; ``changes`` says how."""

    def __init__(self, changes: list[str], payment: "Payment | None"):
        super().__init__("; ".join(changes))
        self.changes, self.payment = changes, payment
