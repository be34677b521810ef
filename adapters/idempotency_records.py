"""Idempotency-Key records (CONTRACT §2): one row per (scope, key), inserted *before* the
write runs, so of concurrent duplicates exactly one claims the key and runs; the others see
its claim and wait for its answer. The row then keeps the first response (status and body)
for replays. Rows are kept 24 hours, then purged by a scheduled job (``scheduled_purge``),
after which the key may be used again.

Not events: a key is forgotten after a day (as at Stripe), and the event store forgets nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import structlog

from adapters.read_database import ReadDatabase, ts

KEPT_FOR = timedelta(hours=24)
CREATE_ATTEMPTS = 5
log = structlog.get_logger("idempotency")

TABLE = """CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL, idempotency_key TEXT NOT NULL, request_fingerprint TEXT NOT NULL,
    claim_id TEXT NOT NULL, status_code INTEGER, body TEXT,
    created_at TEXT NOT NULL, completed_at TEXT,
    PRIMARY KEY (scope, idempotency_key))"""
INDEX = "CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at)"


@dataclass(frozen=True)
class KeyRecord:
    """A key's row. ``claim_id`` says who runs the request; ``status_code`` is None while it
    runs, then the first response's status (with its JSON ``body``)."""

    scope: str
    key: str
    request_fingerprint: str
    claim_id: str
    status_code: int | None = None
    body: str | None = None

    @property
    def finished(self) -> bool:
        return self.status_code is not None


class IdempotencyRecords:
    def __init__(self, db: ReadDatabase) -> None:
        self.db = db
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the table (idempotent); done once, on first use. PostgreSQL may refuse a
        ``CREATE … IF NOT EXISTS`` racing the same statement in another process: once that
        one has committed, trying again succeeds."""
        with self._lock:
            if self._ready:
                return
            for attempt in range(1, CREATE_ATTEMPTS + 1):
                try:
                    with self.db.write() as tx:
                        tx.execute(TABLE)
                        tx.execute(INDEX)
                    break
                except (sqlite3.OperationalError, psycopg.Error):  # re-raised if it persists
                    if attempt == CREATE_ATTEMPTS:
                        raise
                    time.sleep(0.05 * attempt)
            self._ready = True

    def claim(self, scope: str, key: str, fingerprint: str, now: datetime) -> tuple[bool, KeyRecord]:
        """Insert the key's row unless one exists: (True, ours) when this request now owns
        the key, else (False, the existing row: a claim in flight or a finished response)."""
        self.ensure()
        claim_id = uuid.uuid4().hex
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO idempotency_keys (scope, idempotency_key, request_fingerprint, claim_id,"
                " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (scope, key, fingerprint, claim_id, ts(now)))
            row = self._row(tx, scope, key)
        return row.claim_id == claim_id, row

    def find(self, scope: str, key: str) -> KeyRecord | None:
        self.ensure()
        with self.db.read() as tx:
            return self._row(tx, scope, key, missing_ok=True)

    def complete(self, claim: KeyRecord, status_code: int, body: str, now: datetime) -> None:
        with self.db.write() as tx:
            tx.execute("UPDATE idempotency_keys SET status_code = ?, body = ?, completed_at = ?"
                       " WHERE scope = ? AND idempotency_key = ? AND claim_id = ?",
                       (status_code, body, ts(now), claim.scope, claim.key, claim.claim_id))

    def release(self, claim: KeyRecord) -> None:
        """Forget a claim whose request changed nothing (e.g. the provider was unavailable),
        so that a retry with the same key runs."""
        with self.db.write() as tx:
            tx.execute("DELETE FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?"
                       " AND claim_id = ?", (claim.scope, claim.key, claim.claim_id))

    def purge(self, now: datetime, kept_for: timedelta = KEPT_FOR) -> int:
        """Delete every key older than ``kept_for``; returns how many."""
        self.ensure()
        cutoff = ts(now - kept_for)
        with self.db.write() as tx:
            count = tx.fetchone("SELECT COUNT(*) AS n FROM idempotency_keys WHERE created_at < ?",
                                (cutoff,))["n"]
            tx.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))
        return int(count)

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def _row(tx, scope: str, key: str, *, missing_ok: bool = False) -> KeyRecord | None:
        row = tx.fetchone("SELECT scope, idempotency_key, request_fingerprint, claim_id, status_code,"
                          " body FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?",
                          (scope, key))
        if row is None:
            if missing_ok:
                return None
            raise LookupError(f"idempotency key {scope}/{key} vanished while being claimed")
        return KeyRecord(scope=row["scope"], key=row["idempotency_key"],
                         request_fingerprint=row["request_fingerprint"], claim_id=row["claim_id"],
                         status_code=row["status_code"], body=row["body"])


def scheduled_purge(records: IdempotencyRecords, clock) -> Callable[[], None]:
    """The purge as a scheduler job (e.g. hourly in the worker)."""

    def job() -> None:
        purged = records.purge(clock.now())
        if purged:
            log.info("idempotency_keys_purged", count=purged)
        else:
            log.debug("idempotency_keys_purged", count=0)

    return job
