"""Small shared state in the app database: the data version (every write bumps it; an instance whose cached lists
are older drops them) and per-operator marks (when someone last looked at new deposits, their language)."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from lib.db.schema import app_state, operator_marks

DATA_VERSION = "data_version"
MARK_MAX = 200


class SharedState:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    # ------------------------------------------------------------ data version
    def data_version(self) -> int:
        with self.engine.connect() as c:
            v = c.execute(select(app_state.c.value).where(app_state.c.key == DATA_VERSION)).scalar()
        return int(v or 0)

    def bump_data_version(self) -> int:
        """One more write happened (on any instance): cached lists older than this are stale."""
        now = time.time()
        with self.engine.begin() as c:
            c.execute(self._insert(app_state).values(key=DATA_VERSION, value=1, updated_at=now)
                      .on_conflict_do_update(index_elements=["key"],
                                             set_={"value": app_state.c.value + 1, "updated_at": now}))
            v = c.execute(select(app_state.c.value).where(app_state.c.key == DATA_VERSION)).scalar()
        return int(v or 0)

    # ------------------------------------------------------------ per operator
    def mark(self, operator: str, mark: str) -> str | None:
        with self.engine.connect() as c:
            v = c.execute(select(operator_marks.c.value).where(
                func.lower(operator_marks.c.operator) == operator.strip().lower(),
                operator_marks.c.mark == mark)).scalar()
        return None if v is None else str(v)

    def set_mark(self, operator: str, mark: str, value: str) -> None:
        now = time.time()
        op = operator.strip().lower()[:200]
        value = str(value)[:MARK_MAX]
        with self.engine.begin() as c:
            c.execute(self._insert(operator_marks).values(operator=op, mark=mark, value=value, updated_at=now)
                      .on_conflict_do_update(index_elements=["operator", "mark"],
                                             set_={"value": value, "updated_at": now}))

    def advance_mark(self, operator: str, mark: str, value: float) -> None:
        """Move a time mark forward only (an older tab of the same person never moves it back)."""
        old = self.mark(operator, mark)
        try:
            if old is not None and float(old) >= value:
                return
        except ValueError:
            pass
        self.set_mark(operator, mark, repr(float(value)))
