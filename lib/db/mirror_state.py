"""The payments mirror's sync state in the app database (table ``mirror_sync``, one row per API version): the lease
that lets one syncer at a time write the mirror — the watcher or any app instance, whichever asks first —, the
status listings' cursors, and what /admin and every page show (the last sync, the last full re-read, its drift).

The lease is taken by a conditional update (free, run out, or already ours), so two instances asking at once get
it once; a syncer that dies keeps it only until ``lease_until``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lib.db.schema import mirror_sync


class MirrorState:
    def __init__(self, engine: Engine):
        self.engine = engine

    def _ensure(self, api: str, now: float) -> None:
        with self.engine.begin() as c:
            if c.execute(select(mirror_sync.c.api).where(mirror_sync.c.api == api)).first() is None:
                try:
                    c.execute(insert(mirror_sync).values(api=api, holder=None, lease_until=0.0, cursors="{}",
                                                         updated_at=now))
                except IntegrityError:
                    pass

    def acquire(self, api: str, holder: str, now: float, ttl_s: float) -> bool:
        """Take (or extend) the lease for ``ttl_s`` seconds; False while another syncer holds it."""
        self._ensure(api, now)
        with self.engine.begin() as c:
            r = c.execute(update(mirror_sync)
                          .where(mirror_sync.c.api == api)
                          .where((mirror_sync.c.lease_until < now) | (mirror_sync.c.holder == holder))
                          .values(holder=holder, lease_until=now + ttl_s, updated_at=now))
            return bool(r.rowcount == 1)

    def release(self, api: str, holder: str, now: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(mirror_sync).where(mirror_sync.c.api == api).where(mirror_sync.c.holder == holder)
                      .values(lease_until=0.0, updated_at=now))

    def get(self, api: str) -> dict[str, Any]:
        with self.engine.connect() as c:
            row = c.execute(select(mirror_sync).where(mirror_sync.c.api == api)).mappings().first()
        if row is None:
            return {"api": api, "cursors": {}, "last_ok_at": None, "last_full_at": None, "drift": None,
                    "drift_ids": [], "last_error": None, "holder": None, "lease_until": 0.0}
        out = dict(row)
        out["cursors"] = _json(row["cursors"], {})
        out["drift_ids"] = _json(row["drift_ids"], [])
        return out

    def synced(self, api: str, holder: str, cursors: dict[str, int], now: float) -> None:
        """A sync finished: its cursors and the time, under the lease it holds."""
        with self.engine.begin() as c:
            c.execute(update(mirror_sync).where(mirror_sync.c.api == api).where(mirror_sync.c.holder == holder)
                      .values(cursors=json.dumps(cursors, sort_keys=True), last_ok_at=now, last_error=None,
                              updated_at=now))

    def full_reread(self, api: str, holder: str, drift: int, drift_ids: list[str], now: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(mirror_sync).where(mirror_sync.c.api == api).where(mirror_sync.c.holder == holder)
                      .values(last_full_at=now, drift=drift, drift_ids=json.dumps(drift_ids[:20]),
                              updated_at=now))

    def failed(self, api: str, holder: str, error: str, now: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(mirror_sync).where(mirror_sync.c.api == api).where(mirror_sync.c.holder == holder)
                      .values(last_error=error[:500], updated_at=now))


def _json(v: object, default: Any) -> Any:
    try:
        out = json.loads(v) if isinstance(v, str) and v else default
    except ValueError:
        return default
    return out if isinstance(out, type(default)) else default
