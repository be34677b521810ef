"""Group commit for the PostgreSQL event store: concurrent appends of one process share one
transaction, so one table lock and one commit flush (WAL fsync) serve many appends.

Why: every append holds ``LOCK TABLE … IN EXCLUSIVE MODE`` until its commit is flushed, so
appends are serialised through the flush and a process can never append faster than
``1 / flush latency`` (see bench/event_store_append.py). Batching lifts that ceiling.

How (leader/follower, no extra thread, no added wait): an appender queues its append; if no
batch is in flight it leads, takes everything queued (up to ``max_batch``), commits it with
one call of ``<table>_append_batch`` and hands the lead to the next queued appender; the
others wait for their outcome. Alone, an appender commits at once through the one-append
function of ``ServerSideAppendRecorder``, so a quiet process pays nothing.

Semantics per append are those of appending one by one in queue order: the function takes the
lock first, then checks each append's keys against the table (which, under the lock, no other
writer can change) and the appends before it, skips an append that conflicts — its caller gets
the library's ``IntegrityError`` — and inserts the rest, each append's ids contiguous. Gap-free
order for readers is kept by the same lock, as in the one-append function. An error of the
call itself (lock timeout, lost connection) fails every append of the batch, as it would fail a
single append.

The event store's default on PostgreSQL; ``POSTGRES_GROUP_COMMIT=n`` turns it off (see
``ServerSideAppendFactory``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

from adapters.postgres_recorder import ServerSideAppendRecorder, append_function_name

_APPEND_BATCH_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    p_ends int[], p_originator_ids {id_type}[], p_versions bigint[], p_topics text[],
    p_states bytea[])
RETURNS TABLE (append_no int, notification_id bigint)
LANGUAGE plpgsql
SET lock_timeout = {lock_timeout}
AS $body$
DECLARE
    lo int := 1;
    hi int;
BEGIN
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    FOR i IN 1 .. coalesce(array_length(p_ends, 1), 0) LOOP
        hi := p_ends[i];
        -- Under the lock this check is exact: the table holds every earlier append.
        IF NOT EXISTS (
            SELECT 1 FROM {schema}.{table} AS t
            JOIN unnest(p_originator_ids[lo:hi], p_versions[lo:hi]) AS e(o, v)
              ON t.originator_id = e.o AND t.originator_version = e.v
        ) AND (
            SELECT count(*) = count(DISTINCT (e.o, e.v))
            FROM unnest(p_originator_ids[lo:hi], p_versions[lo:hi]) AS e(o, v)
        ) THEN
            RETURN QUERY
                INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)
                SELECT e.o, e.v, e.topic, e.state
                FROM unnest(p_originator_ids[lo:hi], p_versions[lo:hi], p_topics[lo:hi],
                            p_states[lo:hi]) WITH ORDINALITY AS e(o, v, topic, state, position)
                ORDER BY e.position
                RETURNING i, t.notification_id;
        END IF;
        lo := hi + 1;
    END LOOP;
    PERFORM pg_notify({channel}, '');
END;
$body$
"""


class _Append:
    __slots__ = ("done", "error", "events", "ids", "leads")

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.ids: list[int] | None = None
        self.error: Exception | None = None
        self.leads = False
        self.done = threading.Event()

    def outcome(self) -> list[int]:
        if self.error is not None:
            raise self.error
        assert self.ids is not None
        return self.ids


class GroupCommitRecorder(ServerSideAppendRecorder):
    max_batch = 64

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        function = Identifier(append_function_name(self.events_table_name, "append_batch"))
        id_type = SQL(self.datastore.originator_id_type)
        self.sql_create_statements.append(SQL(_APPEND_BATCH_FUNCTION).format(
            schema=schema, function=function, id_type=id_type,
            table=Identifier(self.events_table_name),
            lock_timeout=Literal(f"{int(self.datastore.lock_timeout)}s"),
            channel=Literal(self.channel_name)))
        self.append_batch_call = SQL(
            "SELECT append_no, notification_id FROM {schema}.{function}("
            "%s::int[], %s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[])"
        ).format(schema=schema, function=function, id_type=id_type)
        self._mutex = threading.Lock()
        self._queue: list[_Append] = []
        self._leading = False
        self.batch_sizes: Counter[int] = Counter()  # appends per commit -> commits (by leaders)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return None
        mine = _Append(stored_events)
        with self._mutex:
            self._queue.append(mine)
            follow, self._leading = self._leading, True
        if follow:
            mine.done.wait()  # for my outcome, or for the lead
            if not mine.leads:
                return mine.outcome()
        with self._mutex:  # I am at the head of the queue: my append is in this batch
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        self.batch_sizes[len(batch)] += 1
        try:
            self._commit(batch)
        finally:
            with self._mutex:
                if self._queue:
                    self._queue[0].leads = True
                    self._queue[0].done.set()
                else:
                    self._leading = False
        return mine.outcome()

    def _commit(self, batch: list[_Append]) -> None:
        outcomes: list[list[int] | Exception] = [
            OperationalError("group commit interrupted")] * len(batch)
        try:
            outcomes = self.append_batch([append.events for append in batch])
        except Exception as exc:  # noqa: BLE001 - the call's failure is each of its appends' error
            outcomes = [exc] * len(batch)
        finally:
            for append, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    append.error = outcome
                else:
                    append.ids = outcome
                append.done.set()

    def append_batch(self, appends: Sequence[Sequence[StoredEvent]]) -> list[list[int] | Exception]:
        """Records the appends in one transaction as if one by one, in order: per append its
        notification ids, or its error (``IntegrityError`` if one of its events is already
        recorded: it was skipped). If the call fails for one append's data, each append is
        recorded on its own; a failure of the call itself (lock timeout, connection) raises."""
        if len(appends) > 1:
            try:
                return self._append_batch(appends)
            except (InterfaceError, OperationalError):
                raise
            except Exception:  # noqa: BLE001, S110 - e.g. one append's bad data: one by one below
                pass
        return [self._append_alone(events) for events in appends]

    def _append_alone(self, events: Sequence[StoredEvent]) -> list[int] | Exception:
        try:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                return self._append(curs, events)
        except Exception as exc:  # noqa: BLE001 - the append's outcome
            return exc

    def _append_batch(self, appends: Sequence[Sequence[StoredEvent]]) -> list[list[int] | Exception]:
        ends, total = [], 0
        for events in appends:
            total += len(events)
            ends.append(total)
        flat = [e for events in appends for e in events]
        params = (ends, [e.originator_id for e in flat], [e.originator_version for e in flat],
                  [e.topic for e in flat], [e.state for e in flat])
        ids: list[list[int]] = [[] for _ in appends]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.append_batch_call, params, prepare=True)
            for row in curs.fetchall():
                ids[row["append_no"] - 1].append(row["notification_id"])
        return [found or IntegrityError("an event of the append is already recorded "
                                        "(originator_id, originator_version)") for found in ids]
