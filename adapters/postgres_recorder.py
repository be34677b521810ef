"""The PostgreSQL event store's critical section in one server-side call.

The ``eventsourcing`` (9.5) PostgreSQL recorder appends in a client-side transaction:
``LOCK TABLE … IN EXCLUSIVE MODE``, ``NOTIFY``, ``INSERT … RETURNING`` and ``COMMIT``, with a
pipeline sync and Python work in between, so the table lock that serialises every append is
held across at least two network round trips. Here one PL/pgSQL function does the whole
critical section and is called in autocommit, so the lock is taken, used and released inside
the server within one statement:

1. optimistic-concurrency pre-check: if any ``(originator_id, originator_version)`` of the
   append is already recorded, raise ``unique_violation`` before queueing for the lock (the
   primary key still decides a race; either way psycopg raises ``UniqueViolation`` and the
   library maps it to its ``IntegrityError``, which the event store maps to
   ``ConcurrencyConflictError``);
2. ``LOCK TABLE … IN EXCLUSIVE MODE`` (same lock as the library's recorder, so both can write
   the same table safely during a rolling deploy);
3. insert every stored event of the append (four parallel arrays, in order);
4. ``pg_notify(<events table>, '')`` — the channel the projection listener LISTENs on;
5. return the notification ids.

Gap-free order: ids are drawn from the sequence only while the lock is held, and PostgreSQL
makes a transaction visible before it releases its locks, so any snapshot that sees id ``n``
also sees every id below ``n`` that will ever be committed (ids of failed appends stay
unused gaps for good; readers never wait for them). One append's ids are contiguous.

Selected through the library's own extension point: ``PERSISTENCE_MODULE`` names
``ServerSideAppendFactory`` (see ``adapters.event_store.library_env``), which by default
selects group commit on top of this recorder (``POSTGRES_GROUP_COMMIT=n`` turns it off)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresProcessRecorder,
)
from eventsourcing.utils import retry, strtobool
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    p_originator_ids {id_type}[], p_versions bigint[], p_topics text[], p_states bytea[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET lock_timeout = {lock_timeout}
AS $body$
BEGIN
    IF EXISTS (
        SELECT 1 FROM {schema}.{table} AS t
        JOIN unnest(p_originator_ids, p_versions) AS e(originator_id, originator_version)
          ON t.originator_id = e.originator_id AND t.originator_version = e.originator_version
    ) THEN
        RAISE unique_violation USING
            MESSAGE = 'duplicate key value violates unique constraint on {table_text}'
                      ' (originator_id, originator_version)';
    END IF;
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    RETURN QUERY
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT e.originator_id, e.originator_version, e.topic, e.state
        FROM unnest(p_originator_ids, p_versions, p_topics, p_states) WITH ORDINALITY
             AS e(originator_id, originator_version, topic, state, position)
        ORDER BY e.position
        RETURNING notification_id;
    PERFORM pg_notify({channel}, '');
END;
$body$
"""


def append_function_name(events_table_name: str, suffix: str = "append") -> str:
    """``<table>_<suffix>``, or a hashed name when that would pass PostgreSQL's 63 bytes."""
    name = f"{events_table_name}_{suffix}"
    if len(name.encode()) <= PostgresApplicationRecorder.MAX_IDENTIFIER_LEN:
        return name
    digest = hashlib.sha256(events_table_name.encode()).hexdigest()[:16]
    return f"es_{digest}_{suffix}"


class ServerSideAppendMixin:
    """Replaces the library recorder's append transaction with one call of the function
    created (idempotently) by ``create_table``."""

    datastore: PostgresDatastore
    events_table_name: str
    channel_name: str
    sql_create_statements: list[Composed]

    def _init_server_side_append(self) -> None:
        schema = Identifier(self.datastore.schema)
        function = Identifier(append_function_name(self.events_table_name))
        id_type = SQL(self.datastore.originator_id_type)
        self.sql_create_statements.append(SQL(_APPEND_FUNCTION).format(
            schema=schema, function=function, id_type=id_type,
            table=Identifier(self.events_table_name),
            table_text=SQL(self.events_table_name.replace("'", "''")),
            lock_timeout=Literal(f"{int(self.datastore.lock_timeout)}s"),
            channel=Literal(self.channel_name)))
        self.append_call = SQL(
            "SELECT n AS notification_id FROM {schema}.{function}("
            "%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) AS n"
        ).format(schema=schema, function=function, id_type=id_type)
        self.create_lock_key = int.from_bytes(
            hashlib.sha256(f"create:{self.datastore.schema}.{self.events_table_name}".encode())
            .digest()[:8], "big", signed=True)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Concurrent CREATE OR REPLACE FUNCTION (several processes starting on one database)
        # can fail with "tuple concurrently updated": take turns.
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (self.create_lock_key,))
        super()._create_table(curs)  # type: ignore[misc]

    def _append(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> list[int]:
        params = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        curs.execute(self.append_call, params, prepare=True)
        return [row["notification_id"] for row in curs.fetchall()]


class ServerSideAppendRecorder(ServerSideAppendMixin, PostgresApplicationRecorder):
    """The application recorder whose append is one autocommit function call."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self._init_server_side_append()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit
            return self._append(curs, stored_events)


class ServerSideAppendProcessRecorder(ServerSideAppendMixin, PostgresProcessRecorder):
    """The process recorder: without tracking, one autocommit call; with tracking, the
    library's tracking insert and the same function call in one transaction (the tracking
    row and the events commit together, as with the library's recorder)."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking"):
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name)
        self._init_server_side_append()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        with self.datastore.get_connection() as conn:
            if tracking is None:
                if not stored_events:
                    return None
                with conn.cursor() as curs:
                    return self._append(curs, stored_events)
            with conn.transaction(), conn.cursor() as curs:
                self._insert_tracking(curs, tracking=tracking)
                return self._append(curs, stored_events) if stored_events else None


class ServerSideAppendFactory(PostgresFactory):
    """The library's PostgreSQL factory, with the server-side-append recorders. The
    application recorder commits concurrent appends in groups (adapters.postgres_group_commit)
    unless the setting ``POSTGRES_GROUP_COMMIT`` (ours, read like the library's settings, also
    from the process environment) is off; the library's ``APPLICATION_RECORDER_TOPIC`` wins."""

    POSTGRES_GROUP_COMMIT = "POSTGRES_GROUP_COMMIT"
    application_recorder_class = ServerSideAppendRecorder
    process_recorder_class = ServerSideAppendProcessRecorder

    def application_recorder(self) -> ApplicationRecorder:
        group_commit = strtobool(self.env.get(self.POSTGRES_GROUP_COMMIT) or "yes")
        if not group_commit or self.env.get(self.APPLICATION_RECORDER_TOPIC):
            return super().application_recorder()
        from adapters.postgres_group_commit import GroupCommitRecorder  # it builds on this module

        recorder = GroupCommitRecorder(
            self.datastore, events_table_name=f"{self.env.name.lower() or 'stored'}_events")
        if self.env_create_table():
            recorder.create_table()
        return recorder
