"""The watcher's sent-log and state (lib/services/watcher.py). An event is *claimed* for a webhook by inserting its
row (the primary key makes a second watcher's insert fail), sent, then marked sent; a failed send is retried later with
backoff by whichever watcher finds it due. A claim whose watcher died is retried once its lease (``next_at``) passed."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lib.db.schema import watch_sent, watch_state
from lib.domain.kinds import WatchStatus

SEND_LEASE_S = 60.0


class WatchLog:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._upsert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    # ------------------------------------------------------------ sent-log
    def claim_new(self, event_key: str, target: str, payload: dict[str, Any], now: float) -> bool:
        """True: this watcher sends it now (nobody had the event for this webhook)."""
        try:
            with self.engine.begin() as c:
                c.execute(insert(watch_sent).values(event_key=event_key, target=target, status=WatchStatus.SENDING, attempts=0,
                                                    next_at=now + SEND_LEASE_S,
                                                    payload=json.dumps(payload, ensure_ascii=False), updated_at=now))
            return True
        except IntegrityError:
            return False

    def due(self, now: float, limit: int = 50) -> list[dict[str, Any]]:
        """Events to try again: a failed send whose backoff is over, or a claim whose watcher stopped."""
        with self.engine.connect() as c:
            rows = c.execute(select(watch_sent).where(watch_sent.c.status.in_((WatchStatus.RETRY, WatchStatus.SENDING)),
                                                      watch_sent.c.next_at <= now)
                             .order_by(watch_sent.c.next_at).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def claim_retry(self, row: dict[str, Any], now: float) -> bool:
        """Take a due row (a conditional update on the row as read: two watchers cannot both take it)."""
        with self.engine.begin() as c:
            n = c.execute(update(watch_sent).where(and_(
                watch_sent.c.event_key == row["event_key"], watch_sent.c.target == row["target"],
                watch_sent.c.status == row["status"], watch_sent.c.next_at == row["next_at"]))
                .values(status=WatchStatus.SENDING, next_at=now + SEND_LEASE_S, updated_at=now)).rowcount
        return n == 1

    def sent(self, event_key: str, target: str, attempts: int, now: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(watch_sent).where(watch_sent.c.event_key == event_key, watch_sent.c.target == target)
                      .values(status=WatchStatus.SENT, attempts=attempts, last_error=None, updated_at=now))

    def failed(self, event_key: str, target: str, attempts: int, error: str, retry_at: float | None,
               now: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(watch_sent).where(watch_sent.c.event_key == event_key, watch_sent.c.target == target)
                      .values(status=WatchStatus.RETRY if retry_at else WatchStatus.GAVE_UP, attempts=attempts, last_error=error[:500],
                              next_at=retry_at or now, updated_at=now))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(select(watch_sent.c.status, func.count()).group_by(watch_sent.c.status)).all()
        return {str(s): int(n) for s, n in rows}

    def payloads(self, status: str = WatchStatus.SENT) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(watch_sent.c.event_key, watch_sent.c.payload)
                             .where(watch_sent.c.status == status)).all()
        return [{"event_key": k, **json.loads(p)} for k, p in rows]

    # ------------------------------------------------------------ state
    def get(self, key: str) -> str | None:
        with self.engine.connect() as c:
            v = c.execute(select(watch_state.c.value).where(watch_state.c.key == key)).scalar()
        return None if v is None else str(v)

    def set(self, key: str, value: str) -> None:
        now = time.time()
        with self.engine.begin() as c:
            c.execute(self._upsert(watch_state).values(key=key, value=value, updated_at=now)
                      .on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now}))

    def set_once(self, key: str, value: str) -> str:
        """Keep the first value ever set (several watchers starting together agree on it); returns it."""
        with self.engine.begin() as c:
            c.execute(self._upsert(watch_state).values(key=key, value=value, updated_at=time.time())
                      .on_conflict_do_nothing())
        got = self.get(key)
        assert got is not None
        return got

    def state(self) -> dict[str, str]:
        with self.engine.connect() as c:
            return {str(k): str(v) for k, v in c.execute(select(watch_state.c.key, watch_state.c.value)).all()}
