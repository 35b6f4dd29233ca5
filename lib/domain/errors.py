"""The one root of every error vbank-desk expects and shows a person as a sentence: ``DeskError``.

    DeskError
    ├── Refusal            nothing was sent, for a reason a person can act on (lib/domain/refusals.py: Busy, Stale,
    │                      NeedsApproval; InvalidInput in rules.py, Forbidden in identity.py)
    ├── ApiError           the API refused or failed (lib/iamport/errors.py; ``Refused`` is a Refusal too)
    ├── ApprovalProblem    a four-eyes request cannot be made, decided or claimed (lib/db/approvals.py)
    └── ReconFileError     a reconciliation file cannot be read (lib/reports/recon/grid.py)

A page catches ``DeskError`` and shows it with one helper (lib/ui/outcomes.show_error); anything else is a bug.
"""

from __future__ import annotations


class DeskError(Exception):
    """An expected error, whose message is a sentence for the person acting (never a secret)."""
