"""The signed audit chain's value types: the head as exported (``Anchor``) and what a check found (``ChainReport``,
whose ``reason`` is a code: lib/domain/names.chain_break says it in words)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib.domain.i18n import _


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""                     # a code (names.CHAIN_BREAKS); "" when intact
    signed: bool = False                 # records and head were checked against the HMAC key
    anchored: bool = False               # an exported anchor was checked too
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Anchor:
    """The chain's head as exported: how many records, and the hash of the last one."""

    count: int
    head_hash: str

    def text(self) -> str:
        return f"{self.count}:{self.head_hash}"

    @classmethod
    def parse(cls, value: str) -> "Anchor":
        count, _sep, h = (value or "").strip().partition(":")
        if not count.isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise ValueError(_("An anchor looks like 1234:<64 hex characters>, as exported from the audit page."))
        return cls(int(count), h)
