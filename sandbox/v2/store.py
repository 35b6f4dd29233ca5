"""The V2 sandbox's state: payments and payment events in memory, written through to SQLite (``--db``; ``:memory:``
keeps nothing) so that `make run` finds the same payments after a restart. One lock: every read-check-write (a
cancel's checksum and its update) is atomic, as the live API's would be.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""


def _dump(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


class Store:
    def __init__(self, path: str = ":memory:"):
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.db.executescript(SCHEMA)
        self.payments: dict[str, dict] = {}
        self.events: list[dict] = []
        for (doc,) in self.db.execute("SELECT doc FROM payments ORDER BY seq"):
            p = json.loads(doc)
            self.payments[p["id"]] = p
        self.events = [json.loads(doc) for (doc,) in self.db.execute("SELECT doc FROM events ORDER BY seq")]

    def is_empty(self) -> bool:
        with self.lock:
            return not self.payments

    def reset(self, payments: list[dict], events: list[dict], meta: dict) -> int:
        with self.lock:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM payments")
            self.db.execute("DELETE FROM events")
            self.db.executemany("INSERT INTO payments VALUES (?,?,?)", ((p["id"], p["_seq"], _dump(p)) for p in payments))
            for n, e in enumerate(events, 1):
                e["_seq"] = n
            self.db.executemany("INSERT INTO events VALUES (?,?)", ((e["_seq"], _dump(e)) for e in events))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('seed', ?)", (_dump(meta),))
            self.db.execute("COMMIT")
            self.payments = {p["id"]: p for p in payments}
            self.events = list(events)
        return len(payments)

    def get(self, payment_id: str) -> dict | None:
        """A copy of the payment (change it, then ``put`` it back under the lock)."""
        with self.lock:
            p = self.payments.get(payment_id)
            return copy.deepcopy(p) if p is not None else None

    def all(self) -> list[dict]:
        """Every payment (shared documents: read only)."""
        with self.lock:
            return list(self.payments.values())

    def put(self, p: dict) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO payments VALUES (?,?,?)", (p["id"], p["_seq"], _dump(p)))
            self.payments[p["id"]] = p

    def add_event(self, e: dict) -> dict:
        with self.lock:
            e["_seq"] = (self.events[-1]["_seq"] if self.events else 0) + 1
            e["id"] = e["id"] or f"event-live-{e['_seq']:06d}"
            self.db.execute("INSERT INTO events VALUES (?,?)", (e["_seq"], _dump(e)))
            self.events.append(e)
            return e

    def meta(self) -> dict:
        with self.lock:
            row = self.db.execute("SELECT v FROM meta WHERE k='seed'").fetchone()
        return json.loads(row[0]) if row else {}
