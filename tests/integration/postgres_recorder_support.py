"""Shared by the PostgreSQL recorder tests: a datastore on a test database, a fresh database
per library test case method, and the concurrent-appenders check."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresDatastore

from adapters.database import parse_database_url
from adapters.event_store import APPLICATION_NAME

EVENTS_TABLE = f"{APPLICATION_NAME.lower()}_events"
APPENDERS = 8
APPENDS_EACH = 40


def datastore_on(url: str, pool_size: int = 4) -> PostgresDatastore:
    db = parse_database_url(url)
    return PostgresDatastore(db.dbname, db.host, db.port, db.user, db.password,
                             pool_size=pool_size, max_overflow=pool_size, lock_timeout=5)


class OnAFreshDatabase:
    """Gives each library test case method its own database (our ``pg_database_url``)."""

    @pytest.fixture(autouse=True)
    def _fresh_database(self, pg_database_url):
        self.datastore = datastore_on(pg_database_url, pool_size=12)
        yield
        self.datastore.close()


def check_concurrent_appenders(url: str, make_recorder: Callable[[PostgresDatastore], ApplicationRecorder],
                               processes: int) -> None:
    """``APPENDERS`` threads spread over ``processes`` recorders (each with its own connection
    pool, as separate processes would have) append at once while a reader tails the log;
    then each append's ids are contiguous and hold its events in order, the log has no gap
    up to its head, and the reader saw every id in order without ever passing a gap."""
    datastores = [datastore_on(url, pool_size=APPENDERS) for _ in range(processes + 1)]
    recorders = [make_recorder(d) for d in datastores]
    recorders[0].create_table()
    start, writers_done = threading.Barrier(APPENDERS + 1), threading.Event()
    appended: list[tuple[list[StoredEvent], list[int]]] = []
    reader_saw: list[int] = []

    def append_many(writer: int) -> None:
        recorder = recorders[writer % processes]
        start.wait()
        for i in range(APPENDS_EACH):
            stream = uuid.uuid4()
            events = [StoredEvent(stream, v, f"w{writer}", b"{}") for v in range(1, 2 + i % 5)]
            appended.append((events, list(recorder.insert_events(events) or [])))

    def tail(recorder: ApplicationRecorder) -> None:
        # A reader that follows the log the way projections do: from its position, in pages.
        start.wait()
        while True:
            last_round = writers_done.is_set()
            page = recorder.select_notifications(start=len(reader_saw) + 1, limit=50)
            reader_saw.extend(n.id for n in page)
            if last_round and not page:
                return

    try:
        with ThreadPoolExecutor(max_workers=APPENDERS + 1) as pool:
            reader = pool.submit(tail, recorders[-1])
            writers = [pool.submit(append_many, w) for w in range(APPENDERS)]
            for future in writers:
                future.result()
            writers_done.set()
            reader.result()
        head = recorders[0].max_notification_id()
        log = recorders[0].select_notifications(start=1, limit=10_000, stop=head)
    finally:
        for datastore in datastores:
            datastore.close()

    by_id = {n.id: n for n in log}
    for events, ids in appended:
        assert ids == list(range(ids[0], ids[0] + len(events)))
        assert [(by_id[i].originator_id, by_id[i].originator_version) for i in ids] == [
            (e.originator_id, e.originator_version) for e in events]
    total = sum(len(events) for events, _ in appended)
    assert [n.id for n in log] == list(range(1, total + 1)) and head == total
    assert reader_saw == list(range(1, total + 1))
