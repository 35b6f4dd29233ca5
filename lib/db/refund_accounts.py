"""The account each payment was last refunded to (lib/services/refund.py remembers it once a refund was sent), offered
again for the same payment only: a second partial refund need not be typed again. Full numbers, kept 90 days, shown
masked until a person with the right role reuses them (the bank's holder check runs again before anything is sent)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from lib.db.schema import refund_accounts

KEEP_S = 90 * 86_400


@dataclass(frozen=True)
class RefundAccount:
    bank: str
    account: str
    holder: str
    tel: str | None
    operator: str
    at: float


class RefundAccounts:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def remember(self, imp_uid: str, *, bank: str, account: str, holder: str, tel: str | None, operator: str) -> None:
        values = {"imp_uid": imp_uid, "refund_bank": bank, "refund_account": account, "refund_holder": holder,
                  "refund_tel": tel or None, "operator": operator, "at": time.time()}
        with self.engine.begin() as c:
            c.execute(self._insert(refund_accounts).values(**values).on_conflict_do_update(
                index_elements=["imp_uid"], set_={k: v for k, v in values.items() if k != "imp_uid"}))

    def last(self, imp_uid: str) -> RefundAccount | None:
        with self.engine.begin() as c:
            c.execute(delete(refund_accounts).where(refund_accounts.c.at < time.time() - KEEP_S))
            r = c.execute(select(refund_accounts).where(refund_accounts.c.imp_uid == imp_uid)).mappings().first()
        if r is None:
            return None
        return RefundAccount(r["refund_bank"], r["refund_account"], r["refund_holder"], r["refund_tel"],
                             r["operator"], r["at"])
