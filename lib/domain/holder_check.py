"""The bank's account-holder check of a refund account, in one shape: the wizard's check (lib/ui/refund_steps.py), the
plan it confirms and the approval request that carries it (lib/services/refund.py ``RefundPlan``), and the check lib
makes again right before sending (``lib/services/refund.holder_check``), kept in the audit as ``record()``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lib.domain.fmt import digits_only
from lib.domain.rules import holder_problem, normalize_name


def holder_check_key(bank_code: str, account: str, holder: str) -> tuple[str, str, str]:
    """A holder check is valid only for exactly these fields; any change makes it stale."""
    return (bank_code, digits_only(account), normalize_name(holder))


@dataclass(frozen=True)
class HolderCheck:
    key: tuple[str, str, str]        # the fields it was made for (``holder_check_key``)
    bank: str                        # the bank, by name
    typed: str                       # the holder's name as typed
    bank_says: str | None = None     # the bank's name for the account (None: the lookup did not work)
    ok: bool = False                 # the two names match
    error: str | None = None         # why the lookup did not work
    available: bool = True           # the bank offers a lookup for this PG

    def current_for(self, bank_code: str, account: str, holder: str) -> bool:
        """Made for exactly these fields (a change of any makes it stale)."""
        return self.key == holder_check_key(bank_code, account, holder)

    def needs_reason(self) -> bool:
        """The check did not confirm the name (it differs, or the lookup failed): sending needs a written reason."""
        return not self.ok and self.available

    def mismatch(self) -> str | None:
        """The bank's name when it differs from the one typed."""
        return self.bank_says if self.bank_says and not self.ok else None

    def problem(self, override: str) -> str | None:
        """Why a refund may not be sent on this check with this reason (None: it may): lib/domain/rules.py."""
        return holder_problem(self.record(), override)

    def taking_bank_name(self) -> HolderCheck:
        """The check once the bank's own name is taken as the holder's: it matches."""
        name = self.bank_says or self.typed
        return replace(self, key=(self.key[0], self.key[1], normalize_name(name)), typed=name, ok=True, error=None)

    def record(self, override: str | None = None) -> dict[str, Any]:
        """As the audit log and an approval request keep it (``override``: the operator's reason to go on)."""
        out: dict[str, Any] = {"bank": self.bank, "typed": self.typed, "bank_says": self.bank_says, "ok": self.ok,
                               "error": self.error, "available": self.available}
        if override is not None:
            out["override"] = override or None
        return out
