"""The outbox table (read database): one row per notification, keyed by its id, which the
rules derive from the causing event. Recording is ``INSERT … ON CONFLICT DO NOTHING``, so a
notification recorded twice (a replay, a second feeder, a restart) stays one row. Sending
claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on
SQLite), so two workers never send one item at once, and a worker killed mid-send leaves a
row that another reclaims when the lease lapses (then it is sent again with the same
Message-ID / ``evt_`` id: delivery is at least once, and receivers can tell)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.read_database import ReadDatabase, rfc3339, ts
from checkout_saga.notifications import MailIntent, OutboxRow, WebhookIntent

STATUSES = ("pending", "sent", "failed")
LEASE = timedelta(minutes=5)


def _dt(value: str | None) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if value else None


def row_of(intent: MailIntent | WebhookIntent, now: datetime) -> tuple:
    if isinstance(intent, MailIntent):
        kind, template, event_type, recipient = "email", intent.template, None, intent.to
        payload = {"context": intent.context}
    else:
        kind, template, event_type, recipient = "webhook", None, intent.event_type, intent.endpoint
        payload = {"id": intent.event_id, "type": intent.event_type, "created": intent.created,
                   "data": intent.data}
    at = ts(now)
    return (intent.id, kind, template, event_type, recipient, intent.cause,
            json.dumps(payload, sort_keys=True, separators=(",", ":")), "pending", at, at, at)


class Outbox:
    def __init__(self, db: ReadDatabase) -> None:
        self.db = db

    # --- recording ------------------------------------------------------------------------

    @staticmethod
    def record(tx, intents: list[MailIntent | WebhookIntent], now: datetime) -> None:
        """Inside the caller's transaction; a notification already recorded is left as it is."""
        tx.executemany(
            "INSERT INTO outbox (id, kind, template, event_type, recipient, cause, payload, status, "
            "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING", [row_of(i, now) for i in intents])

    def add(self, intents: list[MailIntent | WebhookIntent], now: datetime) -> None:
        with self.db.write() as tx:
            self.record(tx, intents, now)

    # --- sending --------------------------------------------------------------------------

    def claim(self, kind: str, owner: str, now: datetime, limit: int) -> list[dict[str, Any]]:
        now_s, until = ts(now), ts(now + LEASE)
        due = ("FROM outbox WHERE status = 'pending' AND kind = ? AND next_attempt_at <= ? "
               "AND (claimed_until IS NULL OR claimed_until < ?)")
        with self.db.read() as tx:  # most passes find nothing: no write lock for those
            if tx.fetchone(f"SELECT id {due} LIMIT 1", (kind, now_s, now_s)) is None:
                return []
        with self.db.write() as tx:
            lock = " FOR UPDATE SKIP LOCKED" if tx.is_postgres else ""
            rows = tx.fetchall(f"SELECT * {due} ORDER BY next_attempt_at LIMIT ?{lock}",
                               (kind, now_s, now_s, limit))
            tx.executemany("UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                           [(owner, until, r["id"]) for r in rows])
        return rows

    def mark_sent(self, item_id: str, now: datetime) -> None:
        with self.db.write() as tx:
            tx.execute("UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                       "next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL, "
                       "updated_at = ? WHERE id = ? AND status = 'pending'",
                       (ts(now), ts(now), item_id))

    def mark_retry(self, item_id: str, error: str, retry_at: datetime, now: datetime) -> None:
        with self.db.write() as tx:
            tx.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                       "next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL, "
                       "updated_at = ? WHERE id = ? AND status = 'pending'",
                       (error[:500], ts(retry_at), ts(now), item_id))

    def mark_failed(self, item_id: str, error: str, now: datetime,
                    alert: MailIntent | None = None) -> None:
        """Given up; the operator alert (when there is an admin address) is recorded in the
        same transaction, so it is neither lost nor made twice."""
        with self.db.write() as tx:
            tx.execute("UPDATE outbox SET status = 'failed', attempts = attempts + 1, "
                       "last_error = ?, next_attempt_at = NULL, claimed_by = NULL, "
                       "claimed_until = NULL, updated_at = ? WHERE id = ? AND status = 'pending'",
                       (error[:500], ts(now), item_id))
            if alert is not None:
                self.record(tx, [alert], now)

    # --- reading --------------------------------------------------------------------------

    def items(self, status: str | None = None, *, kind: str | None = None,
              recipient: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        where, params = [], []
        for column, value in (("status", status), ("kind", kind), ("recipient", recipient)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        with self.db.read() as tx:
            rows = tx.fetchall(f"SELECT * FROM outbox {clause}ORDER BY created_at DESC, id LIMIT ?",
                               (*params, limit))
        return [public_item(r) for r in rows]

    def get(self, item_id: str) -> dict[str, Any] | None:
        with self.db.read() as tx:
            return tx.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))

    def counts(self) -> dict[tuple[str, str], int]:
        """``{(kind, status): n}`` of the pending and failed items, for the gauges (sent
        items, the bulk of the table, are not counted: the status index answers this)."""
        with self.db.read() as tx:
            rows = tx.fetchall("SELECT kind, status, COUNT(*) AS n FROM outbox "
                               "WHERE status IN ('pending', 'failed') GROUP BY kind, status")
        return {(r["kind"], r["status"]): int(r["n"]) for r in rows}

    def rows(self) -> list[OutboxRow]:
        with self.db.read() as tx:
            rows = tx.fetchall("SELECT id, cause, status FROM outbox")
        return [OutboxRow(id=r["id"], cause=r["cause"], status=r["status"]) for r in rows]

    def next_attempt_at(self) -> datetime | None:
        with self.db.read() as tx:
            row = tx.fetchone("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'")
        return _dt(row["at"]) if row else None


def public_item(row: dict[str, Any]) -> dict[str, Any]:
    """A row as CONTRACT §3.5 shows it."""
    item: dict[str, Any] = {"id": row["id"], "kind": row["kind"]}
    if row["kind"] == "email":
        item.update(template=row["template"], to=row["recipient"])
    else:
        item.update(event_type=row["event_type"], endpoint=row["recipient"])
    item.update(status=row["status"], attempts=int(row["attempts"]), last_error=row["last_error"],
                created_at=rfc3339(row["created_at"]), sent_at=rfc3339(row["sent_at"]))
    return item


def created_at_of(row: dict[str, Any]) -> datetime:
    return _dt(row["created_at"]) or datetime.now(UTC)
