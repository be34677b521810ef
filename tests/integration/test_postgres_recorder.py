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
from eventsourcing.tests import persistence as library_cases

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from adapters.postgres_recorder import ServerSideAppendProcessRecorder, ServerSideAppendRecorder
from checkout_saga.errors import ConcurrencyConflictError
from tests.conftest import system_for
from tests.integration.postgres_recorder_support import (
    APPENDERS,
    EVENTS_TABLE,
    OnAFreshDatabase,
    check_concurrent_appenders,
    datastore_on,
)

pytestmark = pytest.mark.postgres

class TestServerSideAppendRecorderPassesTheLibraryApplicationRecorderCases(
        OnAFreshDatabase, library_cases.ApplicationRecorderTestCase):
    def create_recorder(self) -> ServerSideAppendRecorder:
        recorder = ServerSideAppendRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestServerSideAppendProcessRecorderPassesTheLibraryProcessRecorderCases(
        OnAFreshDatabase, library_cases.ProcessRecorderTestCase):
    def create_recorder(self) -> ServerSideAppendProcessRecorder:
        recorder = ServerSideAppendProcessRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder


class TestServerSideAppendRecorderPassesTheLibraryNonInterleavingCase(
        OnAFreshDatabase, library_cases.NonInterleavingNotificationIDsBaseCase):
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
    datastore = datastore_on(pg_database_url)
    try:
        recorder = ServerSideAppendRecorder(datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"{}")])

        recorder.create_table()

        assert recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"{}")]) == [2]
    finally:
        datastore.close()


def test_concurrent_appenders_get_contiguous_ids_and_a_tailing_reader_never_sees_a_gap(
        pg_database_url):
    # given 8 appender threads, each with its own recorder and connections
    # when they all append at once while a reader tails the log
    # then each append's ids are contiguous, and the log and the reader's view have no gap
    check_concurrent_appenders(
        pg_database_url, lambda d: ServerSideAppendRecorder(d, events_table_name=EVENTS_TABLE),
        processes=APPENDERS)


@pytest.fixture
def pg_store(pg_database_url):
    store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=4)
    system_for(store, FakePaymentGateway(), FakeClock()).catalog.set_seller(
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
