"""Ordered, idempotent migrations of the read-model tables, for SQLite and PostgreSQL.

Each migration is (version, name, statements); applied versions are recorded in
``schema_migrations`` in the same transaction as the statements, so a migration is applied
once, completely, or not at all. Several processes may run ``migrate`` at once: SQLite takes
its write lock first (BEGIN IMMEDIATE), PostgreSQL an advisory lock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from adapters.database import DatabaseConfig
from adapters.read_database import ReadDatabase
from migrations import schema

log = structlog.get_logger(__name__)

_ADVISORY_KEY = 7_261_113_001

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "read_models", [schema.TRACKING,
                        *[s for name in schema.TABLE_NAMES for s in schema.create_all_v1(name)]]),
    (601, "due_work", schema.DUE_WORK),
    (602, "reconciliation_reports", schema.RECONCILIATION_REPORTS),
    (1101, "orders_v2", schema.ORDERS_V2),
    (1201, "payments_ledger_v2", [s for name in ("payments", "transactions", "refund_index")
                                  for s in schema.create_all(name)]),
    (1301, "notifications_outbox", schema.OUTBOX + schema.WEBHOOK_ENDPOINTS),
]

_BOOKKEEPING = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def migrate(target: DatabaseConfig | ReadDatabase) -> list[int]:
    """Applies every migration not yet applied, in order; returns the versions applied now."""
    db = target if isinstance(target, ReadDatabase) else ReadDatabase(target)
    applied_now: list[int] = []
    try:
        with db.write() as tx:
            if db.is_postgres:
                tx.execute(f"SELECT pg_advisory_xact_lock({_ADVISORY_KEY})")
            tx.execute(_BOOKKEEPING)
            done = {row["version"] for row in tx.fetchall("SELECT version FROM schema_migrations")}
            for version, name, statements in MIGRATIONS:
                if version in done:
                    continue
                for statement in statements:
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                           (version, name, datetime.now(UTC).isoformat()))
                applied_now.append(version)
                log.info("migration_applied", version=version, name=name)
    finally:
        if db is not target:
            db.close()
    return applied_now
