"""One base class for every "not sent, and here is why" a page shows as a sentence.

``Refusal`` is raised before anything leaves (stale figures, a busy payment, invalid input, an approval needed, a
role that may not) and by the client for the API's own refusal (``client.Refused``). A page catches ``Refusal``
and shows it; anything else is a bug or an outage."""

from __future__ import annotations



class Refusal(Exception):
    """Nothing was sent (or the API's own envelope refused it), for a reason a person can act on."""
