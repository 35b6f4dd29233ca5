"""Issue 32 point 4: one error root. Every error vbank-desk expects and shows a person derives from DeskError, so a
page catches one type and shows it with one helper (lib/ui/outcomes.show_error)."""

from __future__ import annotations

import pytest

from lib.db.approvals import ApprovalProblem
from lib.domain.errors import DeskError
from lib.domain.identity import Forbidden
from lib.domain.refusals import Busy, NeedsApproval, Refusal, Stale
from lib.domain.rules import InvalidInput
from lib.iamport.errors import ApiError, ApiUnavailable, AuthFailed, NotFound, OutcomeUnknown, Refused


@pytest.mark.parametrize("cls", [Refusal, Busy, NeedsApproval, Stale, InvalidInput, Forbidden, ApiError, Refused,
                                 NotFound, AuthFailed, ApiUnavailable, OutcomeUnknown, ApprovalProblem])
def test_every_expected_error_is_a_desk_error(cls):
    assert issubclass(cls, DeskError)


def test_a_bug_is_not_a_desk_error():
    assert not issubclass(KeyError, DeskError) and not issubclass(ValueError, DeskError)
