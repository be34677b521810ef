"""Several streams' new events read in one statement on PostgreSQL: one round trip and one
snapshot for what a command needs (a checkout's own stream, its SKUs, their products and
sellers), instead of one autocommit transaction per stream.

Each stream is read *after* a version (its cached state's, or 0), so a hot stream is not
replayed; the ``(originator_id, originator_version)`` primary key serves every probe. One
statement sees one snapshot, so every write acknowledged before it started is in it — the
freshness of separate reads, and a consistent view across the streams besides."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

_SELECT = (
    "SELECT t.originator_id, t.originator_version, t.topic, t.state"
    " FROM {schema}.{table} AS t"
    " JOIN unnest(%s::{id_type}[], %s::bigint[]) AS q(originator_id, after_version)"
    "   ON t.originator_id = q.originator_id AND t.originator_version > q.after_version"
    " ORDER BY t.originator_id, t.originator_version")


def supports(recorder: object) -> bool:
    return isinstance(recorder, PostgresApplicationRecorder)


def select_after_many(recorder: PostgresApplicationRecorder,
                      after: Sequence[tuple[UUID, int]]) -> dict[UUID, list[StoredEvent]]:
    """Per stream id, its stored events after the given version, in version order."""
    datastore = recorder.datastore
    statement = SQL(_SELECT).format(schema=Identifier(datastore.schema),
                                    table=Identifier(recorder.events_table_name),
                                    id_type=SQL(datastore.originator_id_type))
    found: dict[UUID, list[StoredEvent]] = {stream_id: [] for stream_id, _ in after}
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, ([s for s, _ in after], [v for _, v in after]), prepare=True)
        for row in curs.fetchall():
            found[row["originator_id"]].append(StoredEvent(
                originator_id=row["originator_id"], originator_version=row["originator_version"],
                topic=row["topic"], state=bytes(row["state"])))
    return found
