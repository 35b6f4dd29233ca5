"""Append-only audit log (SQLAlchemy Core); the in-flight locks live in ``lib/db/locks.py``.

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
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Engine

from lib.db import writes as writes_rows
from lib.db.schema import audit_head, audit_log
from lib.db.writes import WriteMove
from lib.domain.chain import Anchor, ChainReport
from lib.domain.clock import KST
from lib.domain.fmt import mask_account, mask_phone
from lib.domain.kinds import Outcome

GENESIS = "0" * 64


CHAINED = ("at", "operator", "action", "imp_uid", "merchant_uid", "outcome", "request", "api_code", "api_message",
           "correlation_id", "detail", "prev_hash")


def record_hash(row: dict[str, Any]) -> str:
    """sha256 over the record's fields and the previous record's hash (canonical JSON)."""
    payload = json.dumps({k: row.get(k) for k in CHAINED}, ensure_ascii=False, sort_keys=True,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _mac(key: bytes | None, *parts: object) -> str | None:
    if not key:
        return None
    return hmac.new(key, "|".join(str(p) for p in parts).encode(), hashlib.sha256).hexdigest()


SENSITIVE_ACCOUNT = ("refund_account", "vbank_num", "bank_num", "account")


SENSITIVE_PHONE = ("refund_tel", "buyer_tel", "phone")


SECRET_KEYS = ("imp_key", "imp_secret", "access_token", "authorization", "token")


def mask_request(data: dict[str, Any] | None) -> dict[str, Any]:
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


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


class AuditStore:
    """The audit log of one app database (built by ``lib/db/appdb.AppDb``, which owns the engine and the schema)."""

    def __init__(self, engine: Engine, *, hmac_key: bytes | str | None = None):
        self.hmac_key = hmac_key.encode() if isinstance(hmac_key, str) else hmac_key
        self.engine = engine
        self.dialect = engine.dialect.name

    # --------------------------------------------------------------- records
    def record(self, *, operator: str, action: str, outcome: str, correlation_id: str, imp_uid: str | None = None,
               merchant_uid: str | None = None, request: dict[str, Any] | None = None, api_code: int | None = None,
               api_message: str | None = None, detail: dict[str, Any] | None = None,
               write: WriteMove | None = None) -> int:
        """Append one record; ``write``: the state change of a money write it records, applied to its row of
        ``writes`` (lib/db/writes.py) in the same transaction (an ``ActionTaken`` refusal writes nothing)."""
        if outcome not in Outcome._value2member_map_:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = time.time()
        row = {"at": now, "operator": operator, "action": action, "imp_uid": imp_uid,
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
            key = c.execute(insert(audit_log).values(**row)).inserted_primary_key
            assert key is not None
            rid = int(key[0])
            if self.hmac_key:
                c.execute(update(audit_log).where(audit_log.c.id == rid)
                          .values(mac=_mac(self.hmac_key, rid, row["hash"])))
            head = c.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().first()
            count = (head["count"] if head else int(c.execute(select(func.count()).select_from(audit_log)).scalar() or 0) - 1) + 1
            signed_from = (head["signed_from"] if head and head["signed_from"] else rid) if self.hmac_key else None
            values = {"count": count, "last_id": rid, "head_hash": row["hash"], "at": row["at"],
                      "signed_from": signed_from,
                      "mac": _mac(self.hmac_key, count, rid, row["hash"], signed_from)}
            if head:
                c.execute(update(audit_head).where(audit_head.c.id == 1).values(**values))
            else:
                c.execute(insert(audit_head).values(id=1, **values))
            if write is not None:
                writes_rows.apply(c, write, now)
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
                    return ChainReport(False, n, r["id"], "link_broken", signed)
                if record_hash(dict(r)) != r["hash"]:
                    return ChainReport(False, n, r["id"], "content_changed", signed)
                if key and (r["mac"] or signed_seen or (must_sign_from and r["id"] >= must_sign_from)):
                    signed_seen = True
                    if not r["mac"] or not hmac.compare_digest(r["mac"], _mac(key, r["id"], r["hash"])):
                        return ChainReport(False, n, r["id"], "signature_mismatch", signed)
                if anchor and n == anchor.count and r["hash"] != anchor.head_hash:
                    return ChainReport(False, n, r["id"], "anchor_differs", signed, True)
                prev, last_id = r["hash"], r["id"]
        if key and head is not None:
            # With a key configured the head must be signed — over where signing began too — so blanking
            # signatures (records and head) is a break, never "intact".
            if not head["mac"]:
                return ChainReport(False, n, head["last_id"], "head_signature_missing", signed)
            new = _mac(key, head["count"], head["last_id"], head["head_hash"], head["signed_from"])
            old = _mac(key, head["count"], head["last_id"], head["head_hash"])   # heads written before 2026-11
            if not (hmac.compare_digest(head["mac"], new) or
                    (head["signed_from"] is None and hmac.compare_digest(head["mac"], old))):
                return ChainReport(False, n, head["last_id"], "head_signature_mismatch", signed)
        if head is None:
            if n:
                return ChainReport(False, n, last_id, "no_head", signed)
        else:
            if head["count"] != n or head["head_hash"] != prev:
                why = "newest_removed" if n < head["count"] else "end_mismatch"
                return ChainReport(False, n, last_id, why, signed,
                                   params={"removed": head["count"] - n, "n": n, "head_count": head["count"]})
        if anchor and n < anchor.count:
            return ChainReport(False, n, last_id, "fewer_than_anchor", signed, True,
                               params={"n": n, "anchor_count": anchor.count})
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

    # ----------------------------------------------------------------- locks (lib/db/locks.py)
