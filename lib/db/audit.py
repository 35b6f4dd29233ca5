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
from collections.abc import Callable
from typing import Any, TYPE_CHECKING
from datetime import datetime
import pandas as pd
from sqlalchemy import (func, insert,
                        select, text, update)
from sqlalchemy.engine import Engine

from lib.db.schema import audit_head, audit_log
from lib.domain.chain import Anchor, ChainReport

if TYPE_CHECKING:
    from lib.db.appdb import AppDb
from lib.db import writes as writes_rows
from lib.db.writes import WriteMove
from lib.domain.fmt import mask_account, mask_phone
from lib.domain.clock import KST
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

    def __init__(self, engine: Engine, *, hmac_key: bytes | str | None = None, db: "AppDb"):
        self.hmac_key = hmac_key.encode() if isinstance(hmac_key, str) else hmac_key
        self.engine = engine
        self.dialect = engine.dialect.name
        self.db = db                 # the app database this log belongs to (its locks and approvals)

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


# ------------------------------------------------------------------ reading the log as a person does
def _json(v: Any) -> dict[str, Any]:
    try:
        out = json.loads(v) if isinstance(v, str) and v else {}
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _amounts(d: Any) -> set[int]:
    """Every amount a record's request or detail names (amount, cancel_amount, before/after …)."""
    out: set[int] = set()
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(v, (dict, list)):
                out |= _amounts(v)
            elif "amount" in str(k) and isinstance(v, int) and not isinstance(v, bool):
                out.add(v)
    elif isinstance(d, list):
        for v in d:
            out |= _amounts(v)
    return out


def case_ids(df: pd.DataFrame) -> pd.Series:
    """One id per case: a refund's approval request, its decision and the refund it sent (sent, outcome, resolution)
    share the approval's id; a write without an approval its correlation id."""
    approval_of: dict[str, str] = {}
    for cid, det in zip(df["correlation_id"], df["detail"]):
        aid = _json(det).get("approval_id")
        if aid:
            approval_of[str(cid)] = str(aid)
    return df["correlation_id"].map(lambda c: approval_of.get(str(c), c))


def grouped(df: pd.DataFrame) -> pd.DataFrame:
    """The records with ``case`` (see ``case_ids``) and ``case_no`` (1 = the case with the newest record), each case's
    records together, oldest first, the cases newest first."""
    if df.empty:
        return df.assign(case=pd.Series(dtype=object), case_no=pd.Series(dtype="int64"))
    out = df.assign(case=case_ids(df))
    newest = out.groupby("case")["id"].transform("max")
    out = out.assign(_newest=newest).sort_values(["_newest", "id"], ascending=[False, True], kind="stable")
    order = {c: i + 1 for i, c in enumerate(dict.fromkeys(out["case"]))}
    return out.assign(case_no=out["case"].map(order)).drop(columns="_newest").reset_index(drop=True)


def search(df: pd.DataFrame, text: str, *, buyer_imp_uids: set[str] | frozenset[str] = frozenset(),
           bank_name: Any = None, amount_cases: Callable[[int], set[str]] | None = None) -> pd.DataFrame:
    """The records a person means by ``text``: an amount (₩55,000, 55,000원, 55000) named anywhere in the record; or
    words found in the operator, the imp_uid or order number, the holder's name (typed or the bank's), the bank (by
    name: ``bank_name(code)`` gives it), the API's message; or a payment of a buyer (``buyer_imp_uids``, from the
    payments of the period). A whole case (``case_ids``) is kept when any of its records matches. ``amount_cases``
    (the app: ``WriteStore.cases_with_amount``) answers an amount with SQL over the ``writes`` table and the requests
    (the correlation ids of the writes and requests of that amount) instead of reading every record's JSON."""
    from lib.domain.text import clean, parse_won
    q = clean(text).lower()
    if not q or df.empty:
        return df
    amount, why = parse_won(q.replace("원", "").strip()) if any(ch.isdigit() for ch in q) else (None, "text")
    by_amount = amount_cases(amount) if amount_cases is not None and amount is not None and not why else None
    hit = []
    for r in df.itertuples(index=False):
        req, det = _json(r.request), _json(r.detail)
        if by_amount is not None:
            if r.correlation_id in by_amount:
                hit.append(True)
                continue
        elif amount is not None and not why and amount in (_amounts(req) | _amounts(det)):
            hit.append(True)
            continue
        chk = det.get("holder_check") or {}
        code = req.get("refund_bank")
        words = [r.operator, r.imp_uid, r.merchant_uid, r.api_message, req.get("refund_holder"), chk.get("typed"),
                 chk.get("bank_says"), chk.get("bank"), det.get("note"), code,
                 bank_name(code) if (bank_name and code) else None]
        hay = " ".join(str(w) for w in words if w).lower()
        hit.append(q in hay or (r.imp_uid in buyer_imp_uids if r.imp_uid else False))
    cases = case_ids(df)
    keep = set(cases[pd.Series(hit, index=df.index)])
    return df[cases.isin(keep)]
