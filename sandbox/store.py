"""SQLite state of the sandbox: payments (with the full PaymentAnnotation kept
as a JSON document next to the indexed columns) and refund registrations. The
seed data comes from sandbox/seed.py.

One connection guarded by one lock: every read-check-write (a refund's
checksum check and its update) is atomic, as the real API's would be.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading

from . import reference as ref

DAY = 86400
KST_OFFSET = 9 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    imp_uid      TEXT PRIMARY KEY,
    merchant_uid TEXT NOT NULL,
    status       TEXT NOT NULL,
    pay_method   TEXT NOT NULL,
    pg_provider  TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    paid_at      INTEGER NOT NULL,
    cancelled_at INTEGER NOT NULL,
    failed_at    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_status_started ON payments(status, started_at);
CREATE INDEX IF NOT EXISTS ix_status_paid ON payments(status, paid_at);
CREATE INDEX IF NOT EXISTS ix_status_cancelled ON payments(status, cancelled_at);
CREATE INDEX IF NOT EXISTS ix_status_failed ON payments(status, failed_at);
CREATE INDEX IF NOT EXISTS ix_started ON payments(started_at);
CREATE INDEX IF NOT EXISTS ix_merchant ON payments(merchant_uid);
CREATE TABLE IF NOT EXISTS refunds (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    imp_uid        TEXT NOT NULL,
    cancellation_id TEXT NOT NULL,
    amount         INTEGER NOT NULL,
    reason         TEXT,
    refund_holder  TEXT,
    refund_bank    TEXT,
    refund_account TEXT,
    refund_tel     TEXT,
    registered_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""

# The time each listing filters on. For ``all`` the spec says "결제건의 최종 status에 따라 다른 검색기준": each
# payment by its own status's time (a paid one by paid_at, a refunded one by cancelled_at), not by started_at.
FINAL_STATUS_TIME = ("CASE status WHEN 'paid' THEN paid_at WHEN 'cancelled' THEN cancelled_at "
                     "WHEN 'failed' THEN failed_at ELSE started_at END")
TIME_FIELD = {"ready": "started_at", "paid": "paid_at", "cancelled": "cancelled_at",
              "failed": "failed_at", "all": FINAL_STATUS_TIME}
SORT_SQL = {
    "-started": "started_at DESC, rowid DESC", "started": "started_at ASC, rowid ASC",
    "-paid": "paid_at DESC, rowid DESC", "paid": "paid_at ASC, rowid ASC",
    "-updated": "updated_at DESC, rowid DESC", "updated": "updated_at ASC, rowid ASC",
}


def _end_of_kst_day(ts: int) -> int:
    """23:59:59 KST of the day ``ts`` falls on."""
    return (ts + KST_OFFSET) // DAY * DAY + DAY - 1 - KST_OFFSET


def holder_for(bank_code: str, digits: str) -> str:
    """Deterministic account holder name for a bank account (GET /vbanks/holder)."""
    h = int(hashlib.sha256(f"{bank_code}:{digits}".encode()).hexdigest(), 16)
    return ref.SURNAMES[h % len(ref.SURNAMES)] + ref.GIVEN[(h // 97) % len(ref.GIVEN)]


class Store:
    def __init__(self, path: str = ":memory:"):
        self.lock = threading.RLock()
        # rowid -> the API's JSON for that payment: list pages are assembled from it without
        # reading 1 MB of documents out of SQLite per page. Kept in step by put() and reset().
        self._docs: dict[int, bytes] = {}         # UTF-8, ready to send
        self._counts: dict[tuple, tuple[int, int]] = {}   # (query) -> (version, total)
        self.version = 0                            # bumped by every write
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    # ------------------------------------------------------------------ seed
    def is_empty(self) -> bool:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 0

    def reset(self, payments, plan) -> int:
        """Replace every payment with ``payments`` (from sandbox/seed.py) seeded by ``plan``."""
        rows = list(payments)
        with self.lock:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM payments")
            self.db.execute("DELETE FROM refunds")
            self._docs.clear()
            self.version += 1
            self.db.executemany(
                "INSERT INTO payments VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (_row(p) for p in rows),
            )
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('seed', ?)",
                            (json.dumps({"seed": plan.seed, "payments": plan.payments}),))
            self.db.execute("COMMIT")
        return len(rows)

    # ----------------------------------------------------------------- reads
    def vbank_docs(self) -> list[dict]:
        """Every virtual-account payment as the API shows it (the settlement file is made from these)."""
        with self.lock:
            return [json.loads(r[0]) for r in self.db.execute("SELECT doc FROM payments WHERE pay_method='vbank'")]

    def get(self, imp_uid: str) -> dict | None:
        with self.lock:
            r = self.db.execute("SELECT doc, updated_at FROM payments WHERE imp_uid=?", (imp_uid,)).fetchone()
        return dict(json.loads(r[0]), _updated_at=r[1]) if r else None

    def get_docs(self, imp_uids: list[str]) -> list[str]:
        if not imp_uids:
            return []
        q = ",".join("?" * len(imp_uids))
        with self.lock:
            return [r[0] for r in self.db.execute(
                f"SELECT doc FROM payments WHERE imp_uid IN ({q})", imp_uids)]

    def get_docs_by_merchant(self, merchant_uids: list[str]) -> list[str]:
        if not merchant_uids:
            return []
        q = ",".join("?" * len(merchant_uids))
        with self.lock:
            return [r[0] for r in self.db.execute(
                f"SELECT doc FROM payments WHERE merchant_uid IN ({q}) ORDER BY started_at DESC",
                merchant_uids)]

    def find_by_merchant(self, merchant_uid: str, status: str | None, sorting: str) -> dict | None:
        sql = "SELECT doc, updated_at FROM payments WHERE merchant_uid=?"
        args: list = [merchant_uid]
        if status:
            sql += " AND status=?"
            args.append(status)
        sql += " ORDER BY " + SORT_SQL.get(sorting, SORT_SQL["-started"]) + " LIMIT 1"
        with self.lock:
            r = self.db.execute(sql, args).fetchone()
        return dict(json.loads(r[0]), _updated_at=r[1]) if r else None

    def page(self, status: str, t_from: int, t_to: int, sorting: str, page: int, limit: int) -> tuple[int, list[bytes]]:
        field = TIME_FIELD[status]
        where = f"{field} BETWEEN ? AND ?"
        args: list = [t_from, t_to]
        if status != "all":
            where = "status=? AND " + where
            args.insert(0, status)
        with self.lock:
            key = (where, tuple(args))
            cached = self._counts.get(key)
            if cached and cached[0] == self.version:      # the same query while nothing changed
                total = cached[1]
            else:
                total = self.db.execute(f"SELECT COUNT(*) FROM payments WHERE {where}", args).fetchone()[0]
                if len(self._counts) > 256:
                    self._counts.clear()
                self._counts[key] = (self.version, total)
            # Page over the index (rowids only; OFFSET over full rows would read every skipped
            # document), then take that page's documents from memory.
            rowids = [r[0] for r in self.db.execute(
                f"SELECT rowid FROM payments WHERE {where} ORDER BY {SORT_SQL[sorting]} LIMIT ? OFFSET ?",
                args + [limit, (page - 1) * limit])]
            docs = [self._doc(r) for r in rowids]
        return total, docs

    def _doc(self, rowid: int) -> bytes:
        doc = self._docs.get(rowid)
        if doc is None:
            doc = self.db.execute("SELECT doc FROM payments WHERE rowid=?", (rowid,)).fetchone()[0].encode("utf-8")
            self._docs[rowid] = doc
        return doc

    def refunds(self, imp_uid: str) -> list[dict]:
        with self.lock:
            cur = self.db.execute("SELECT * FROM refunds WHERE imp_uid=? ORDER BY id", (imp_uid,))
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r)) for r in cur]

    def stats(self) -> dict:
        with self.lock:
            rows = self.db.execute(
                "SELECT status, pay_method, COUNT(*) FROM payments GROUP BY status, pay_method").fetchall()
        return {"by_status_method": [{"status": s, "pay_method": m, "count": c} for s, m, c in rows]}

    # ---------------------------------------------------------------- writes
    def put(self, p: dict) -> None:
        """Insert or replace one payment (caller holds ``self.lock`` for read-check-write)."""
        with self.lock:
            self.version += 1
            row = _row(p)
            old = self.db.execute("SELECT rowid FROM payments WHERE imp_uid=?", (p["imp_uid"],)).fetchone()
            if old:
                self.db.execute("UPDATE payments SET merchant_uid=?, status=?, pay_method=?, pg_provider=?, "
                                "started_at=?, paid_at=?, cancelled_at=?, failed_at=?, updated_at=?, doc=? "
                                "WHERE rowid=?", row[1:] + (old[0],))
                self._docs[old[0]] = row[-1].encode("utf-8")
            else:
                self.db.execute("INSERT INTO payments VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)

    def add_refund(self, imp_uid: str, cancellation_id: str, amount: int, fields: dict, now: int) -> None:
        with self.lock:
            self.db.execute(
                "INSERT INTO refunds (imp_uid, cancellation_id, amount, reason, refund_holder, refund_bank,"
                " refund_account, refund_tel, registered_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (imp_uid, cancellation_id, amount, fields.get("reason"), fields.get("refund_holder"),
                 fields.get("refund_bank"), fields.get("refund_account"), fields.get("refund_tel"), now))


def _row(p: dict) -> tuple:
    """Indexed columns plus the document exactly as the API shows it (serialised once, at write time)."""
    return (p["imp_uid"], p["merchant_uid"], p["status"], p["pay_method"], p["pg_provider"],
            p["started_at"], p["paid_at"], p["cancelled_at"], p["failed_at"], p["_updated_at"],
            json.dumps(public(p), ensure_ascii=False, separators=(",", ":")))


def public(p: dict) -> dict:
    """The payment as the API shows it (without sandbox-internal keys)."""
    return {k: v for k, v in p.items() if not k.startswith("_")}


def _apply_cancel(p: dict, amount: int, at: int, reason: str, cid: str) -> dict:
    entry = {
        "pg_tid": f"{p['pg_tid']}C{len(p['cancel_history']) + 1}",
        "amount": amount, "cancelled_at": at, "reason": reason,
        "cancellation_id": f"cx_{p['imp_uid'][4:]}_{len(p['cancel_history']) + 1}_{cid}",
        "receipt_url": f"https://sandbox.receipt.local/{p['imp_uid']}/cancel/{len(p['cancel_history']) + 1}",
    }
    p["cancel_history"].append(entry)
    p["cancel_receipt_urls"].append(entry["receipt_url"])
    p["cancel_amount"] += amount
    p["cancel_reason"] = reason
    if p["cancel_amount"] >= p["amount"]:
        # 최종수정시각 moves with the status only (the spec's -updated sorting): a partial refund leaves it.
        p["status"] = "cancelled"
        p["cancelled_at"] = at
        p["_updated_at"] = at
    return entry


apply_cancel = _apply_cancel
