"""The one-call PostgreSQL append (adapters.postgres_recorder): the library's own recorder
test cases run against it, concurrent appenders never interleave and readers never see a gap,
and a conflicting append raises our conflict error with nothing half-written."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests import persistence as library_cases

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import APPLICATION_NAME, EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from adapters.postgres_recorder import ServerSideAppendProcessRecorder, ServerSideAppendRecorder
from checkout_saga.errors import ConcurrencyConflictError
from checkout_saga.service import CheckoutService

pytestmark = pytest.mark.postgres

EVENTS_TABLE = f"{APPLICATION_NAME.lower()}_events"


def _datastore(url: str, pool_size: int = 4) -> PostgresDatastore:
    db = parse_database_url(url)
    return PostgresDatastore(db.dbname, db.host, db.port, db.user, db.password,
                             pool_size=pool_size, max_overflow=pool_size, lock_timeout=5)


class _OnAFreshDatabase:
    """Gives each library test case method its own database (our ``pg_database_url``)."""

    @pytest.fixture(autouse=True)
    def _fresh_database(self, pg_database_url):
        self.datastore = _datastore(pg_database_url, pool_size=12)
        yield
        self.datastore.close()


class TestServerSideAppendRecorderPassesTheLibraryApplicationRecorderCases(
        _OnAFreshDatabase, library_cases.ApplicationRecorderTestCase):
    def create_recorder(self) -> ServerSideAppendRecorder:
        recorder = ServerSideAppendRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestServerSideAppendProcessRecorderPassesTheLibraryProcessRecorderCases(
        _OnAFreshDatabase, library_cases.ProcessRecorderTestCase):
    def create_recorder(self) -> ServerSideAppendProcessRecorder:
        recorder = ServerSideAppendProcessRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder


class TestServerSideAppendRecorderPassesTheLibraryNonInterleavingCase(
        _OnAFreshDatabase, library_cases.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> ServerSideAppendRecorder:
        recorder = ServerSideAppendRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder


def test_the_event_store_on_postgres_appends_through_the_server_side_recorder(pg_database_url):
    store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=2)
    try:
        assert isinstance(store.app.recorder, ServerSideAppendRecorder)
    finally:
        store.close()


def test_creating_the_tables_twice_keeps_the_recorded_events(pg_database_url):
    datastore = _datastore(pg_database_url)
    try:
        recorder = ServerSideAppendRecorder(datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"{}")])

        recorder.create_table()

        assert recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"{}")]) == [2]
    finally:
        datastore.close()


APPENDERS = 8
APPENDS_EACH = 40


def test_concurrent_appenders_get_contiguous_ids_and_a_tailing_reader_never_sees_a_gap(
        pg_database_url):
    # given one recorder (own connection pool, so own connections) per appender thread
    datastores = [_datastore(pg_database_url, pool_size=1) for _ in range(APPENDERS + 1)]
    recorders = [ServerSideAppendRecorder(d, events_table_name=EVENTS_TABLE) for d in datastores]
    recorders[0].create_table()
    start, writers_done = threading.Barrier(APPENDERS + 1), threading.Event()
    appended: list[tuple[list[StoredEvent], list[int]]] = []
    reader_saw: list[int] = []

    def append_many(recorder: ServerSideAppendRecorder, writer: int) -> None:
        start.wait()
        for i in range(APPENDS_EACH):
            stream = uuid.uuid4()
            events = [StoredEvent(stream, v, f"w{writer}", b"{}") for v in range(1, 2 + i % 5)]
            appended.append((events, list(recorder.insert_events(events))))

    def tail(recorder: ServerSideAppendRecorder) -> None:
        # A reader that follows the log the way projections do: from its position, in pages.
        start.wait()
        while True:
            last_round = writers_done.is_set()
            page = recorder.select_notifications(start=len(reader_saw) + 1, limit=50)
            reader_saw.extend(n.id for n in page)
            if last_round and not page:
                return

    # when they all append at once while the reader tails the log
    try:
        with ThreadPoolExecutor(max_workers=APPENDERS + 1) as pool:
            reader = pool.submit(tail, recorders[-1])
            writers = [pool.submit(append_many, r, w) for w, r in enumerate(recorders[:-1])]
            for future in writers:
                future.result()
            writers_done.set()
            reader.result()
        head = recorders[0].max_notification_id()
        log = recorders[0].select_notifications(start=1, limit=10_000, stop=head)
    finally:
        for datastore in datastores:
            datastore.close()

    # then each append's ids are contiguous and hold its events in order
    by_id = {n.id: n for n in log}
    for events, ids in appended:
        assert ids == list(range(ids[0], ids[0] + len(events)))
        assert [(by_id[i].originator_id, by_id[i].originator_version) for i in ids] == [
            (e.originator_id, e.originator_version) for e in events]
    # and the whole log up to the head has no gap, and the reader saw it in order, gap-free
    total = sum(len(events) for events, _ in appended)
    assert [n.id for n in log] == list(range(1, total + 1)) and head == total
    assert reader_saw == list(range(1, total + 1))


@pytest.fixture
def pg_store(pg_database_url):
    store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=4)
    CheckoutService(store, FakePaymentGateway(), FakeClock()).set_seller(
        "acct_1", charges_enabled=True)
    yield store
    store.close()


def test_an_append_that_conflicts_on_one_stream_raises_our_conflict_and_writes_nothing(pg_store):
    # given a recorded event, and a new stream's first event
    recorded = next(iter(pg_store.all_events()))
    new_stream = msgspec.structs.replace(recorded, originator_id=uuid.uuid4())
    head = pg_store.max_notification_id()

    # when one append carries both (the recorded one again: a stale version)
    with pytest.raises(ConcurrencyConflictError):
        pg_store.append([new_stream, recorded])

    # then nothing of it was recorded, and the next append follows the head without a gap
    assert pg_store.max_notification_id() == head
    assert pg_store.stream(new_stream.originator_id) == []
    pg_store.append([new_stream])
    assert pg_store.max_notification_id() == head + 1


def test_two_racing_appends_of_one_stream_version_record_exactly_one(pg_store):
    recorded = next(iter(pg_store.all_events()))
    for _ in range(20):
        # given two appenders with the same next version of one new stream
        event = msgspec.structs.replace(recorded, originator_id=uuid.uuid4())
        start = threading.Barrier(2)

        def append(e=event, barrier=start) -> str:
            barrier.wait()
            try:
                pg_store.append([e])
            except ConcurrencyConflictError:
                return "conflict"
            return "recorded"

        # when they race
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(lambda _: append(), range(2)))

        # then one wins, the other gets our conflict error, and one event is recorded
        assert outcomes == ["conflict", "recorded"]
        assert len(pg_store.stream(event.originator_id)) == 1
