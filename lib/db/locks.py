"""In-flight locks for the two money-moving writes (SQLAlchemy Core, the app database).

One row per write in progress, keyed by what it writes (``refund:imp_uid``, ``vbank:imp_uid``). The
primary key is what makes a second send impossible from another click, tab, session, operator or app
instance sharing the database.

A lock moves through three states:

* ``in_flight`` – taken; the payment is being re-read and checked. Nothing has been sent.
* ``sending``   – the owner claimed the send (a conditional update: only its own, still ``in_flight``
  row) right before the request leaves. From here on the API may have the request.
* ``unknown``   – a request left and its outcome was not learned. Kept until someone resolves it
  (a re-read shows it applied, or an operator confirms it was not).

Every lock names its ``owner`` (host, process id and that process's start time) and carries a lease
(``lease_until``). A lock whose owner is provably gone (same host, process dead or replaced) or whose
lease ran out is *abandoned*: an abandoned ``in_flight`` lock proves nothing was sent and may be freed;
an abandoned ``sending`` lock becomes ``unknown`` and is resolved by re-reading the payment. Both moves
are conditional updates on the row as it was read, so two instances cannot both take over one lock.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lib.db.schema import inflight
from lib.domain.clock import KST
from lib.domain.kinds import LockState

STATES = tuple(LockState)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]      # field 22, counted after the command name


def _this_owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}|{pid}|{_start_time(pid) or '-'}"


def owner_alive(owner: str | None) -> bool | None:
    """True/False when it can be told from here (same host); None for another host or an old row."""
    if not owner or owner.count("|") != 2:
        return None
    host, pid_s, started = owner.split("|")
    if host != socket.gethostname() or not pid_s.isdigit():
        return None
    pid = int(pid_s)
    if started != "-":
        return _start_time(pid) == started         # a reused pid has another start time
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Lock:
    lock_key: str
    correlation_id: str
    operator: str
    action: str
    state: str
    since: datetime
    note: str | None
    owner: str | None = None
    lease_until: float | None = None

    @property
    def imp_uid(self) -> str:
        return self.lock_key.split(":", 1)[1]

    @property
    def kind(self) -> str:
        return self.lock_key.split(":", 1)[0]           # a WriteKind value (lib/domain/kinds.py)

    def abandoned(self, now: float | None = None) -> bool:
        """Its owner is provably gone, or its lease ran out (no write legitimately outlives it)."""
        if self.state == LockState.UNKNOWN:
            return False
        if owner_alive(self.owner) is False:
            return True
        return self.lease_until is not None and (now or time.time()) > self.lease_until


def _lock(r: Any) -> Lock:
    return Lock(r["lock_key"], r["correlation_id"], r["operator"], r["action"], r["state"],
                datetime.fromtimestamp(r["since"], KST), r["note"], r.get("owner"), r.get("lease_until"))


class LockStore:
    """The in-flight lock table. Knows SQL only."""

    OWNER = _this_owner()

    def __init__(self, engine: Engine):
        self.engine = engine

    def acquire(self, lock_key: str, *, correlation_id: str, operator: str, action: str,
                lease_s: float = 300.0) -> Lock | None:
        """Take the lock. Returns None when taken; else the current holder (which may be abandoned)."""
        for _try in range(3):
            try:
                with self.engine.begin() as c:
                    now = time.time()
                    c.execute(insert(inflight).values(lock_key=lock_key, correlation_id=correlation_id,
                                                      operator=operator, action=action, state=LockState.IN_FLIGHT, since=now,
                                                      owner=self.OWNER, lease_until=now + lease_s))
                return None
            except IntegrityError:
                held = self.get(lock_key)
                if held is not None:
                    return held
                # released between our insert and the read: try again
        return self.get(lock_key)

    def claim_send(self, lock_key: str, correlation_id: str, *, lease_s: float) -> bool:
        """Right before the request leaves: ``in_flight`` → ``sending`` with a fresh lease, only if the row is
        still ours. False: it was taken over (judged abandoned) and nothing must be sent."""
        with self.engine.begin() as c:
            n = c.execute(update(inflight).where(inflight.c.lock_key == lock_key,
                                                 inflight.c.correlation_id == correlation_id,
                                                 inflight.c.state == LockState.IN_FLIGHT)
                          .values(state=LockState.SENDING, lease_until=time.time() + lease_s)).rowcount
        return n == 1

    def take_over(self, held: Lock, *, note: str) -> str | None:
        """Settle an abandoned lock, if it is still exactly as read. Returns what happened:
        ``"freed"`` (it was ``in_flight``: nothing was sent), ``"unknown"`` (it was ``sending``), or None
        (someone else moved it first, or it is not abandoned)."""
        if not held.abandoned():
            return None
        cond = (inflight.c.lock_key == held.lock_key, inflight.c.correlation_id == held.correlation_id,
                inflight.c.state == held.state)
        with self.engine.begin() as c:
            if held.state == LockState.IN_FLIGHT:
                n = c.execute(delete(inflight).where(*cond)).rowcount
                return "freed" if n == 1 else None
            n = c.execute(update(inflight).where(*cond).values(state=LockState.UNKNOWN, note=note)).rowcount
            return LockState.UNKNOWN if n == 1 else None

    def get(self, lock_key: str) -> Lock | None:
        with self.engine.connect() as c:
            r = c.execute(select(inflight).where(inflight.c.lock_key == lock_key)).mappings().first()
        return None if r is None else _lock(r)

    def all(self) -> list[Lock]:
        with self.engine.connect() as c:
            rows = c.execute(select(inflight).order_by(inflight.c.since)).mappings().all()
        return [_lock(r) for r in rows]

    def mark_unknown(self, lock_key: str, correlation_id: str, note: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(inflight).where(inflight.c.lock_key == lock_key,
                                             inflight.c.correlation_id == correlation_id)
                      .values(state=LockState.UNKNOWN, note=note))

    def release(self, lock_key: str, correlation_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(inflight).where(inflight.c.lock_key == lock_key,
                                             inflight.c.correlation_id == correlation_id))
