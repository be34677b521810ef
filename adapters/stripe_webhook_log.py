"""The Stripe webhook log: one row per Stripe event id, inserted by the webhook route before
it answers ``200`` (``INSERT … ON CONFLICT DO NOTHING``: the primary key is the
deduplication, no read first, no global lock), then claimed in batches by the worker, which
applies each through the inbox and marks it applied.

Why a table of its own and not an event-store append in the request: the append takes the
event store's table lock and ``NOTIFY`` (every append serialises on it) and the inbox first
reads the event's stream; this insert only takes its own row's key. The event store still
records every event (``StripeEventReceived`` and its outcome), once the worker has it.

Claiming is a lease (``claimed_until``) taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
(SQLite's single writer gives the same): two workers never apply one event at once, and a
worker killed mid-batch leaves rows that any worker takes again once the lease lapses.
Applied rows are kept ``KEPT_FOR`` (Stripe retries a delivery for up to three days) so a
redelivery is still answered ``duplicate: true``; then purged by a scheduled job."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import structlog

from adapters.read_database import ReadDatabase, ts

KEPT_FOR = timedelta(days=7)
LEASE = timedelta(seconds=60)
CREATE_ATTEMPTS = 5
log = structlog.get_logger("stripe_webhook_log")

TABLE = """CREATE TABLE IF NOT EXISTS stripe_webhook_log (
    event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    received_at TEXT NOT NULL, claimed_by TEXT, claimed_until TEXT, applied_at TEXT)"""
# only the rows still to apply are indexed: the worker's idle probe reads an empty index
PENDING_INDEX = ("CREATE INDEX IF NOT EXISTS stripe_webhook_log_pending ON stripe_webhook_log "
                 "(received_at) WHERE applied_at IS NULL")
APPLIED_INDEX = ("CREATE INDEX IF NOT EXISTS stripe_webhook_log_applied ON stripe_webhook_log "
                 "(applied_at) WHERE applied_at IS NOT NULL")


@dataclass(frozen=True)
class LoggedWebhook:
    event_id: str
    event_type: str
    payload: str
    received_at: str


class StripeWebhookLog:
    def __init__(self, db: ReadDatabase, *, lease: timedelta = LEASE) -> None:
        self.db = db
        self.lease = lease
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the table (idempotent), once. A ``CREATE … IF NOT EXISTS`` racing the same
        statement in another PostgreSQL process may fail: once that one commits, it succeeds."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            for attempt in range(1, CREATE_ATTEMPTS + 1):
                try:
                    with self.db.write() as tx:
                        for statement in (TABLE, PENDING_INDEX, APPLIED_INDEX):
                            tx.execute(statement)
                    break
                except (sqlite3.OperationalError, psycopg.Error):  # re-raised if it persists
                    if attempt == CREATE_ATTEMPTS:
                        raise
                    time.sleep(0.05 * attempt)
            self._ready = True

    def record(self, event_id: str, event_type: str, payload: str, now: datetime) -> bool:
        """Insert the event unless its id is already here; True when it is new. Committed
        when this returns."""
        self.ensure()
        with self.db.autocommit() as tx:  # one statement, one round trip
            row = tx.fetchone(
                "INSERT INTO stripe_webhook_log (event_id, event_type, payload, received_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                (event_id, event_type, payload, ts(now)))
        return row is not None

    def claim(self, owner: str, now: datetime, limit: int) -> list[LoggedWebhook]:
        """Up to ``limit`` events not applied and not held by another worker, oldest first,
        now held by ``owner`` for the lease."""
        self.ensure()
        now_s = ts(now)
        with self.db.autocommit() as tx:  # an idle worker's probe: one round trip, no lock
            if tx.fetchone("SELECT event_id FROM stripe_webhook_log WHERE applied_at IS NULL "
                           "AND (claimed_until IS NULL OR claimed_until < ?) LIMIT 1",
                           (now_s,)) is None:
                return []
        with self.db.write() as tx:
            lock = " FOR UPDATE SKIP LOCKED" if tx.is_postgres else ""
            rows = tx.fetchall(
                "SELECT event_id, event_type, payload, received_at FROM stripe_webhook_log "
                "WHERE applied_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?) "
                "ORDER BY received_at LIMIT ?" + lock, (now_s, limit))
            tx.executemany("UPDATE stripe_webhook_log SET claimed_by = ?, claimed_until = ? "
                           "WHERE event_id = ?",
                           [(owner, ts(now + self.lease), r["event_id"]) for r in rows])
        return [LoggedWebhook(r["event_id"], r["event_type"], r["payload"], r["received_at"])
                for r in rows]

    def mark_applied(self, event_ids: list[str], now: datetime) -> None:
        if not event_ids:
            return
        with self.db.write() as tx:
            tx.executemany("UPDATE stripe_webhook_log SET applied_at = ?, claimed_by = NULL, "
                           "claimed_until = NULL WHERE event_id = ?",
                           [(ts(now), event_id) for event_id in event_ids])

    def pending(self) -> int:
        """How many events are recorded and not applied yet."""
        self.ensure()
        with self.db.read() as tx:
            row = tx.fetchone("SELECT COUNT(*) AS n FROM stripe_webhook_log WHERE applied_at IS NULL")
        return int(row["n"]) if row else 0

    def is_applied(self, event_id: str) -> bool | None:
        """None when never recorded here."""
        self.ensure()
        with self.db.read() as tx:
            row = tx.fetchone("SELECT applied_at FROM stripe_webhook_log WHERE event_id = ?",
                              (event_id,))
        return None if row is None else row["applied_at"] is not None

    def purge(self, now: datetime, kept_for: timedelta = KEPT_FOR) -> int:
        """Forget events applied longer than ``kept_for`` ago; returns how many."""
        self.ensure()
        cutoff = ts(now - kept_for)
        with self.db.write() as tx:
            rows = tx.fetchall("DELETE FROM stripe_webhook_log WHERE applied_at IS NOT NULL "
                               "AND applied_at < ? RETURNING event_id", (cutoff,))
        return len(rows)

    def close(self) -> None:
        self.db.close()


def scheduled_purge(webhook_log: StripeWebhookLog, clock) -> Callable[[], None]:
    def job() -> None:
        purged = webhook_log.purge(clock.now())
        if purged:
            log.info("stripe_webhook_log_purged", count=purged)

    return job
