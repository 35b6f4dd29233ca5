"""What a write did, as the services return it and the pages show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lib.domain.kinds import BulkOutcome, Outcome
from lib.domain.models import Payment


@dataclass
class WriteResult:
    outcome: Outcome                # SUCCEEDED | FAILED | UNKNOWN
    message: str                    # a sentence for the operator, in the run's language
    correlation_id: str
    payment: Payment | None = None
    api_code: int | None = None
    api_message: str | None = None
    confirmed_by_reread: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.SUCCEEDED


@dataclass
class BulkRow:
    """One account of a bulk change (every row is listed, whatever happened to it)."""

    imp_uid: str
    merchant_uid: str
    outcome: BulkOutcome
    message: str
    new_due: datetime | None = None
    correlation_id: str | None = None
