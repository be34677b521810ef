"""One small SQL seam over SQLite (stdlib, WAL) and PostgreSQL (psycopg 3 pool).

Statements are written with ``?`` placeholders; PostgreSQL gets ``%s``. A write transaction
on SQLite takes the database write lock up front (BEGIN IMMEDIATE), so a read-modify-write of
projection rows and their tracking position can never interleave with another writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from adapters.database import DatabaseConfig


class Tx:
    def __init__(self, conn: Any, postgres: bool) -> None:
        self._conn = conn
        self._postgres = postgres

    @property
    def is_postgres(self) -> bool:
        return self._postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._postgres:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        else:
            self._conn.executemany(sql, [tuple(r) for r in rows])

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._conn.execute(self._sql(sql), tuple(params))
        if self._postgres:
            return list(cur.fetchall())
        return [dict(row) for row in cur.fetchall()]

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None


class ReadDatabase:
    def __init__(self, config: DatabaseConfig, *, pool_size: int = 4) -> None:
        self.config = config
        self.is_postgres = config.is_postgres
        self._pool = None
        if self.is_postgres:
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(config.conninfo(), min_size=1, max_size=pool_size,
                                        kwargs={"row_factory": dict_row}, open=True, timeout=10)

    def _sqlite(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.config.path or ":memory:", timeout=10, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._transaction(begin="BEGIN IMMEDIATE", keep=True) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """One read-only snapshot (rolled back at the end)."""
        with self._transaction(begin="BEGIN", keep=False) as tx:
            yield tx

    @contextmanager
    def autocommit(self) -> Iterator[Tx]:
        """Each statement committed by itself: a single write in one round trip (no BEGIN or
        COMMIT of its own), e.g. the webhook route's one insert."""
        if self._pool is not None:
            with self._pool.connection() as conn:
                conn.autocommit = True
                try:
                    yield Tx(conn, True)
                finally:
                    conn.autocommit = False
            return
        conn = self._sqlite()  # isolation_level=None: a statement outside BEGIN commits itself
        try:
            yield Tx(conn, False)
        finally:
            conn.close()

    @contextmanager
    def _transaction(self, *, begin: str, keep: bool) -> Iterator[Tx]:
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction():
                yield Tx(conn, True)
            return
        conn = self._sqlite()
        try:
            conn.execute(begin)  # IMMEDIATE takes SQLite's write lock up front
            try:
                yield Tx(conn, False)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT" if keep else "ROLLBACK")
        finally:
            conn.close()

    def table_exists(self, table: str) -> bool:
        with self.read() as tx:
            if self.is_postgres:
                row = tx.fetchone("SELECT to_regclass(?) AS t", (table,))
                return bool(row and row["t"])
            return tx.fetchone("SELECT name FROM sqlite_master WHERE type='table' AND name=?",
                               (table,)) is not None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


# --- the stored timestamp format of every read-side table ---------------------------------


def ts(value: datetime | None) -> str | None:
    """Stored timestamps: UTC, fixed width, so text order is time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(stored: str | None) -> str | None:
    return None if stored is None else stored[:19] + "Z"
