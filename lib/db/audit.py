"""Append-only audit log (SQLAlchemy Core); the in-flight locks live in ``lib/locks.py``.

* ``audit_log``: one row per event; the "sent" record and its outcome share a
  ``correlation_id``. There is no update or delete API. Each record carries the
  hash of the one before (a chain) and, when ``AUDIT_HMAC_KEY`` is set, an HMAC
  of its hash and id, which nobody without the key can recompute.
* ``audit_head``: one row, written in the same transaction as every record: the
  number of records, the last id and hash, signed with the key. Deleting the
  newest records (or rewriting a tail and re-chaining it) no longer verifies.
  An exported head (count + hash, "anchor") checked later also catches a rollback
  to an older, consistent state, which no check inside the database can see.

Requests are stored masked (account and phone numbers) and never hold secrets.
The database URL comes from ``AUDIT_DB_URL`` (SQLite file by default;
a PostgreSQL URL works the same way).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
import pandas as pd
from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text, create_engine, event, func, insert,
                        inspect, select, text, update)
from sqlalchemy.engine import Engine
from lib.domain.i18n import _
from lib.domain.fmt import mask_account, mask_phone
from lib.db.locks import Lock, LockStore, metadata as locks_metadata
from lib.domain.clock import KST


metadata = MetaData()


audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),            # UNIX seconds (UTC)
    Column("operator", String(200), nullable=False, index=True),
    Column("action", String(40), nullable=False, index=True),
    Column("imp_uid", String(64), index=True),
    Column("merchant_uid", String(80)),
    Column("outcome", String(20), nullable=False, index=True),  # lib/domain/kinds.Outcome
    Column("request", Text),                                   # JSON, masked
    Column("api_code", Integer),
    Column("api_message", Text),
    Column("correlation_id", String(40), nullable=False, index=True),
    Column("detail", Text),                                    # JSON: before/after, notes
    Column("prev_hash", String(64), nullable=False),           # the chain: hash of the record before
    Column("hash", String(64), nullable=False),                # sha256 over this record and prev_hash
    Column("mac", String(64)),                                 # HMAC(key, id|hash) when a key is set
)


audit_head = Table(
    "audit_head", metadata,                                    # one row: how long the chain is, signed
    Column("id", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_id", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("mac", String(64)),
    Column("at", Float, nullable=False),
    # The first record written with the audit key: from it on, every record must carry a signature (covered by the
    # head's own signature, so it cannot be moved without the key).
    Column("signed_from", Integer),
)


OUTCOMES = ("sent", "succeeded", "failed", "unknown", "refused", "resolved", "requested", "approved",
            "rejected", "expired", "withdrawn", "revealed")


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
    signed: bool = False                 # records and head were checked against the HMAC key
    anchored: bool = False               # an exported anchor was checked too


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


def _mac(key: bytes | None, *parts) -> str | None:
    if not key:
        return None
    return hmac.new(key, "|".join(str(p) for p in parts).encode(), hashlib.sha256).hexdigest()


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


def create_tables(engine: Engine, meta: MetaData) -> None:
    """CREATE TABLE IF NOT EXISTS, safe when several app instances start at once on one PostgreSQL."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("SELECT pg_advisory_xact_lock(740511)"))
        meta.create_all(c)


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


class AuditStore:
    def __init__(self, url: str, *, hmac_key: bytes | str | None = None):
        self.hmac_key = hmac_key.encode() if isinstance(hmac_key, str) else hmac_key
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
        create_tables(self.engine, locks_metadata)
        self._migrate()
        self.locks_store = LockStore(self.engine)

    def _migrate(self) -> None:
        """Logs made before records were signed get the ``mac`` column (their old rows stay unsigned), and the head
        the ``signed_from`` column."""
        if "mac" not in {c["name"] for c in inspect(self.engine).get_columns("audit_log")}:
            with self.engine.begin() as c:
                c.execute(text("ALTER TABLE audit_log ADD COLUMN mac VARCHAR(64)"))
        if "signed_from" not in {c["name"] for c in inspect(self.engine).get_columns("audit_head")}:
            with self.engine.begin() as c:
                c.execute(text("ALTER TABLE audit_head ADD COLUMN signed_from INTEGER"))

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
            rid = int(c.execute(insert(audit_log).values(**row)).inserted_primary_key[0])
            if self.hmac_key:
                c.execute(update(audit_log).where(audit_log.c.id == rid)
                          .values(mac=_mac(self.hmac_key, rid, row["hash"])))
            head = c.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
            count = (head["count"] if head else c.execute(select(func.count()).select_from(audit_log)).scalar() - 1) + 1
            signed_from = (head["signed_from"] if head and head["signed_from"] else rid) if self.hmac_key else None
            values = {"count": count, "last_id": rid, "head_hash": row["hash"], "at": row["at"],
                      "signed_from": signed_from,
                      "mac": _mac(self.hmac_key, count, rid, row["hash"], signed_from)}
            if head:
                c.execute(update(audit_head).where(audit_head.c.id == 1).values(**values))
            else:
                c.execute(insert(audit_head).values(id=1, **values))
            return rid

    def anchor(self) -> Anchor:
        """The chain's head to export and keep elsewhere (checked later by ``verify_chain(anchor=…)``)."""
        with self.engine.connect() as c:
            head = c.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
        return Anchor(head["count"], head["head_hash"]) if head else Anchor(0, GENESIS)

    def verify_chain(self, anchor: Anchor | None = None) -> ChainReport:
        """Walk the log in order; report the first record whose link, content or signature does not check
        out, then compare the end of the chain with the signed head (were records removed from the end?) and
        with an exported ``anchor`` (is the chain still as long, and the same, as when it was exported?)."""
        prev, n, last_id, signed_seen = GENESIS, 0, None, False
        key = self.hmac_key
        signed = bool(key)
        with self.engine.connect() as c:
            head = c.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
            # Read before the walk, trusted only once the head's signature (which covers it) checks out below.
            must_sign_from = head["signed_from"] if key and head is not None and head["signed_from"] else None
            for r in c.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
                n += 1
                if r["prev_hash"] != prev:
                    return ChainReport(False, n, r["id"], "its link to the record before is broken "
                                                          "(a record was removed or inserted)", signed)
                if record_hash(dict(r)) != r["hash"]:
                    return ChainReport(False, n, r["id"], "its content was changed after it was written", signed)
                if key and (r["mac"] or signed_seen or (must_sign_from and r["id"] >= must_sign_from)):
                    signed_seen = True
                    if not r["mac"] or not hmac.compare_digest(r["mac"], _mac(key, r["id"], r["hash"])):
                        return ChainReport(False, n, r["id"], "its signature does not match: the record was "
                                                              "written or re-chained without the audit key", signed)
                if anchor and n == anchor.count and r["hash"] != anchor.head_hash:
                    return ChainReport(False, n, r["id"], "it differs from the anchor you exported: the log was "
                                                          "rewritten since then", signed, True)
                prev, last_id = r["hash"], r["id"]
        if key and head is not None:
            # With a key configured the head must be signed — over where signing began too — so blanking
            # signatures (records and head) is a break, never "intact".
            if not head["mac"]:
                return ChainReport(False, n, head["last_id"], "the head record carries no signature although "
                                                              "an audit key is configured: signatures were "
                                                              "removed", signed)
            new = _mac(key, head["count"], head["last_id"], head["head_hash"], head["signed_from"])
            old = _mac(key, head["count"], head["last_id"], head["head_hash"])   # heads written before 2026-11
            if not (hmac.compare_digest(head["mac"], new) or
                    (head["signed_from"] is None and hmac.compare_digest(head["mac"], old))):
                return ChainReport(False, n, head["last_id"], "the head record's signature does not match: it "
                                                              "was rewritten without the audit key", signed)
        if head is None:
            if n:
                return ChainReport(False, n, last_id, "the log has no head record: it was not written by "
                                                      "vbank-desk, or the head was removed", signed)
        else:
            if head["count"] != n or head["head_hash"] != prev:
                if n < head["count"]:
                    why = f"{head['count'] - n} of the newest records were removed (the head says {head['count']})"
                else:
                    why = f"the end of the log does not match its head ({n} records, the head says {head['count']})"
                return ChainReport(False, n, last_id, why, signed)
        if anchor and n < anchor.count:
            return ChainReport(False, n, last_id, f"the log has {n} records but had {anchor.count} when the anchor "
                                                  "was exported: records were removed", signed, True)
        return ChainReport(True, n, signed=signed, anchored=anchor is not None)

    def records(self, *, since: datetime | None = None, until: datetime | None = None, operator: str | None = None,
                action: str | None = None, imp_uid: str | None = None, outcome: str | None = None,
                correlation_id: str | None = None, limit: int = 10_000) -> pd.DataFrame:
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since:
            q = q.where(audit_log.c.at >= since.timestamp())
        if until:
            q = q.where(audit_log.c.at <= until.timestamp())
        if operator:
            q = q.where(func.lower(audit_log.c.operator) == operator.lower())   # Kim@… is kim@…
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

    # ----------------------------------------------------------------- locks (lib/locks.py)
    def acquire(self, lock_key: str, *, correlation_id: str, operator: str, action: str,
                lease_s: float = 300.0) -> Lock | None:
        return self.locks_store.acquire(lock_key, correlation_id=correlation_id, operator=operator, action=action,
                                        lease_s=lease_s)

    def lock(self, lock_key: str) -> Lock | None:
        return self.locks_store.get(lock_key)

    def locks(self) -> list[Lock]:
        return self.locks_store.all()

    def mark_unknown(self, lock_key: str, correlation_id: str, note: str) -> None:
        self.locks_store.mark_unknown(lock_key, correlation_id, note)

    def release(self, lock_key: str, correlation_id: str) -> None:
        self.locks_store.release(lock_key, correlation_id)
