"""Append-only audit log and the in-flight lock table (SQLAlchemy Core).

* ``audit_log``: one row per event; the "sent" record and its outcome share a
  ``correlation_id``. There is no update or delete API.
* ``inflight``: one row per write in progress, keyed by what it writes
  (``refund:imp_uid``). Its primary key is what makes a second send impossible
  from another click, tab, session, operator or app instance sharing the
  database. A write whose outcome is unknown keeps its row (state
  ``unknown``) until someone resolves it.

Requests are stored masked (account and phone numbers) and never hold secrets.
The database URL comes from ``AUDIT_DB_URL`` (SQLite file by default;
a PostgreSQL URL works the same way).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text, create_engine, delete, event, insert,
                        select, text, update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .fmt import mask_account, mask_phone
from .models import KST

metadata = MetaData()

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),            # UNIX seconds (UTC)
    Column("operator", String(200), nullable=False, index=True),
    Column("action", String(40), nullable=False, index=True),
    Column("imp_uid", String(64), index=True),
    Column("merchant_uid", String(80)),
    Column("outcome", String(20), nullable=False, index=True),  # sent | succeeded | failed | unknown | refused
    Column("request", Text),                                   # JSON, masked
    Column("api_code", Integer),
    Column("api_message", Text),
    Column("correlation_id", String(40), nullable=False, index=True),
    Column("detail", Text),                                    # JSON: before/after, notes
    Column("prev_hash", String(64), nullable=False),           # the chain: hash of the record before
    Column("hash", String(64), nullable=False),                # sha256 over this record and prev_hash
)

inflight = Table(
    "inflight", metadata,
    Column("lock_key", String(120), primary_key=True),
    Column("correlation_id", String(40), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("state", String(20), nullable=False),               # in_flight | unknown
    Column("since", Float, nullable=False),
    Column("note", Text),
)

OUTCOMES = ("sent", "succeeded", "failed", "unknown", "refused", "resolved", "requested", "approved",
            "rejected", "expired")
GENESIS = "0" * 64
CHAINED = ("at", "operator", "action", "imp_uid", "merchant_uid", "outcome", "request", "api_code", "api_message",
           "correlation_id", "detail", "prev_hash")


def record_hash(row: dict) -> str:
    """sha256 over the record's fields and the previous record's hash (canonical JSON)."""
    payload = json.dumps({k: row.get(k) for k in CHAINED}, ensure_ascii=False, sort_keys=True,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""
SENSITIVE_ACCOUNT = ("refund_account", "vbank_num", "bank_num", "account")
SENSITIVE_PHONE = ("refund_tel", "buyer_tel", "phone")
SECRET_KEYS = ("imp_key", "imp_secret", "access_token", "authorization", "token")


def mask_request(data: dict | None) -> dict:
    """A copy safe to store: account and phone numbers masked, secrets dropped."""
    out = {}
    for k, v in (data or {}).items():
        lk = k.lower()
        if any(s in lk for s in SECRET_KEYS):
            continue
        if isinstance(v, dict):
            v = mask_request(v)
        elif isinstance(v, str) and any(s in lk for s in SENSITIVE_ACCOUNT):
            v = mask_account(v)
        elif isinstance(v, str) and any(s in lk for s in SENSITIVE_PHONE):
            v = mask_phone(v)
        out[k] = v
    return out


@dataclass(frozen=True)
class Lock:
    lock_key: str
    correlation_id: str
    operator: str
    action: str
    state: str
    since: datetime
    note: str | None


def create_tables(engine: Engine, meta: MetaData) -> None:
    """CREATE TABLE IF NOT EXISTS, safe when several app instances start at once on one PostgreSQL."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("SELECT pg_advisory_xact_lock(740511)"))
        meta.create_all(c)


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


class AuditStore:
    def __init__(self, url: str):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kw = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}
        self.engine: Engine = create_engine(url, **kw)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _):
                dbapi_conn.isolation_level = None          # SQLAlchemy's "begin" event below starts transactions
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _begin_immediate(conn):
                # Serialise writers across processes, so the hash chain cannot fork.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        create_tables(self.engine, metadata)

    # --------------------------------------------------------------- records
    def record(self, *, operator: str, action: str, outcome: str, correlation_id: str, imp_uid: str | None = None,
               merchant_uid: str | None = None, request: dict | None = None, api_code: int | None = None,
               api_message: str | None = None, detail: dict | None = None) -> int:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        row = {"at": time.time(), "operator": operator, "action": action, "imp_uid": imp_uid,
               "merchant_uid": merchant_uid, "outcome": outcome,
               "request": json.dumps(mask_request(request), ensure_ascii=False) if request else None,
               "api_code": api_code, "api_message": api_message, "correlation_id": correlation_id,
               "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None}
        with self.engine.begin() as c:
            if self.dialect == "postgresql":       # one writer at a time across instances: the chain cannot fork
                c.execute(text("SELECT pg_advisory_xact_lock(740512)"))
            last = c.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
            row["prev_hash"] = last or GENESIS
            row["hash"] = record_hash(row)
            res = c.execute(insert(audit_log).values(**row))
            return int(res.inserted_primary_key[0])

    def verify_chain(self) -> ChainReport:
        """Walk the log in order; report the first record whose link or content does not check out."""
        prev, n = GENESIS, 0
        with self.engine.connect() as c:
            for r in c.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
                n += 1
                if r["prev_hash"] != prev:
                    return ChainReport(False, n, r["id"], "its link to the record before is broken "
                                                          "(a record was removed or inserted)")
                if record_hash(dict(r)) != r["hash"]:
                    return ChainReport(False, n, r["id"], "its content was changed after it was written")
                prev = r["hash"]
        return ChainReport(True, n)

    def records(self, *, since: datetime | None = None, until: datetime | None = None, operator: str | None = None,
                action: str | None = None, imp_uid: str | None = None, outcome: str | None = None,
                correlation_id: str | None = None, limit: int = 10_000) -> pd.DataFrame:
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since:
            q = q.where(audit_log.c.at >= since.timestamp())
        if until:
            q = q.where(audit_log.c.at <= until.timestamp())
        if operator:
            q = q.where(audit_log.c.operator == operator)
        if action:
            q = q.where(audit_log.c.action == action)
        if imp_uid:
            q = q.where(audit_log.c.imp_uid == imp_uid)
        if outcome:
            q = q.where(audit_log.c.outcome == outcome)
        if correlation_id:
            q = q.where(audit_log.c.correlation_id == correlation_id)
        with self.engine.connect() as c:
            df = pd.DataFrame(c.execute(q).mappings().all(), columns=[col.name for col in audit_log.columns])
        df["at"] = pd.to_datetime(df["at"], unit="s", utc=True).dt.tz_convert(KST)
        return df

    def distinct(self, column: str) -> list[str]:
        col = audit_log.c[column]
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(select(col).distinct().order_by(col)) if r[0]]

    # ----------------------------------------------------------------- locks
    def acquire(self, lock_key: str, *, correlation_id: str, operator: str, action: str) -> Lock | None:
        """Take the in-flight lock. Returns None when taken; else the current holder."""
        try:
            with self.engine.begin() as c:
                c.execute(insert(inflight).values(lock_key=lock_key, correlation_id=correlation_id, operator=operator,
                                                  action=action, state="in_flight", since=time.time()))
            return None
        except IntegrityError:
            held = self.lock(lock_key)
            if held is None:       # released between our insert and the read: try once more
                return self.acquire(lock_key, correlation_id=correlation_id, operator=operator, action=action)
            return held

    def lock(self, lock_key: str) -> Lock | None:
        with self.engine.connect() as c:
            r = c.execute(select(inflight).where(inflight.c.lock_key == lock_key)).mappings().first()
        if r is None:
            return None
        return Lock(r["lock_key"], r["correlation_id"], r["operator"], r["action"], r["state"],
                    datetime.fromtimestamp(r["since"], KST), r["note"])

    def locks(self) -> list[Lock]:
        with self.engine.connect() as c:
            rows = c.execute(select(inflight).order_by(inflight.c.since)).mappings().all()
        return [Lock(r["lock_key"], r["correlation_id"], r["operator"], r["action"], r["state"],
                     datetime.fromtimestamp(r["since"], KST), r["note"]) for r in rows]

    def mark_unknown(self, lock_key: str, correlation_id: str, note: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(inflight).where(inflight.c.lock_key == lock_key,
                                             inflight.c.correlation_id == correlation_id)
                      .values(state="unknown", note=note))

    def release(self, lock_key: str, correlation_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(inflight).where(inflight.c.lock_key == lock_key,
                                             inflight.c.correlation_id == correlation_id))
