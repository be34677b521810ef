"""Group commit (adapters.postgres_group_commit): the library's recorder test cases and our
concurrency test pass against it, and a batch keeps the one-by-one semantics of each append."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.tests import persistence as library_cases

from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.postgres_group_commit import GroupCommitRecorder
from adapters.postgres_recorder import ServerSideAppendRecorder
from tests.integration.postgres_recorder_support import (
    EVENTS_TABLE,
    OnAFreshDatabase,
    check_concurrent_appenders,
    datastore_on,
)

pytestmark = pytest.mark.postgres


class TestGroupCommitRecorderPassesTheLibraryApplicationRecorderCases(
        OnAFreshDatabase, library_cases.ApplicationRecorderTestCase):
    def create_recorder(self) -> GroupCommitRecorder:
        recorder = GroupCommitRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestGroupCommitRecorderPassesTheLibraryNonInterleavingCase(
        OnAFreshDatabase, library_cases.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> GroupCommitRecorder:
        recorder = GroupCommitRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        return recorder


def test_concurrent_appenders_through_group_commit_get_contiguous_ids_and_no_visible_gap(
        pg_database_url):
    # given 8 appender threads sharing 2 group-commit recorders (as 2 processes would)
    # when they all append at once while a reader tails the log
    # then each append's ids are contiguous, and the log and the reader's view have no gap
    recorders: list[GroupCommitRecorder] = []

    def make(datastore):
        recorders.append(GroupCommitRecorder(datastore, events_table_name=EVENTS_TABLE))
        return recorders[-1]

    check_concurrent_appenders(pg_database_url, make, processes=2)
    # (and the appenders did share commits)
    assert max(max(r.batch_sizes, default=0) for r in recorders) > 1


def test_postgres_appends_with_group_commit_unless_the_setting_turns_it_off(
        pg_database_url, monkeypatch):
    def recorder_now():
        store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=2)
        try:
            return store.app.recorder
        finally:
            store.close()

    # given no setting, then group commit; given POSTGRES_GROUP_COMMIT=n, then one call per append
    assert isinstance(recorder_now(), GroupCommitRecorder)
    monkeypatch.setenv("POSTGRES_GROUP_COMMIT", "n")
    assert type(recorder_now()) is ServerSideAppendRecorder


def test_the_group_commit_setting_leaves_sqlite_alone(sqlite_database_url, monkeypatch):
    monkeypatch.setenv("POSTGRES_GROUP_COMMIT", "y")
    store = EventsourcingStore(parse_database_url(sqlite_database_url))
    try:
        assert not isinstance(store.app.recorder, ServerSideAppendRecorder)
    finally:
        store.close()


@pytest.fixture
def recorder(pg_database_url):
    datastore = datastore_on(pg_database_url, pool_size=8)
    recorder = GroupCommitRecorder(datastore, events_table_name=EVENTS_TABLE)
    recorder.create_table()
    yield recorder
    datastore.close()


def _events(stream, *versions):
    return [StoredEvent(stream, v, "t", f"{stream}:{v}".encode()) for v in versions]


def test_a_batch_skips_exactly_the_appends_that_would_conflict_one_by_one(recorder):
    # given a stream with version 1 recorded
    s1, s2, s3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    recorder.insert_events(_events(s1, 1))

    # when one batch carries: a fresh append, a stale one, one that repeats the first's key,
    # one with a key twice, one that conflicts only with a skipped append, and a fresh one
    outcomes = recorder.append_batch([
        _events(s2, 1, 2),        # fresh
        _events(s1, 1),           # stale: s1@1 is recorded
        _events(s2, 2),           # s2@2 claimed by the first append of the batch
        _events(s3, 1, 1),        # a key twice in one append
        _events(s1, 2, 1),        # stale (s1@1), so its s1@2 is not recorded...
        _events(s1, 2),           # ...and this one, one by one, would succeed
    ])

    # then the appends that would have failed one by one are skipped, the others recorded
    assert [isinstance(o, IntegrityError) for o in outcomes] == [
        False, True, True, True, True, False]
    assert outcomes[0] == [2, 3] and outcomes[5] == [4]
    assert [n.id for n in recorder.select_notifications(start=1, limit=10)] == [1, 2, 3, 4]
    assert [(e.originator_version, e.state) for e in recorder.select_events(s1)] == [
        (1, f"{s1}:1".encode()), (2, f"{s1}:2".encode())]
    assert recorder.select_events(s3) == []


def test_an_append_with_bad_data_fails_alone_and_the_rest_of_its_batch_is_recorded(recorder):
    # given a batch where one append carries a topic PostgreSQL text cannot hold
    s1, s2, s3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    bad = [StoredEvent(s2, 1, "bad\x00topic", b"{}")]

    # when it is recorded
    outcomes = recorder.append_batch([_events(s1, 1), bad, _events(s3, 1, 2)])

    # then only that append fails, with a data error, not a conflict
    first = outcomes[0][0]
    assert outcomes[0] == [first] and outcomes[2] == [first + 1, first + 2]
    assert isinstance(outcomes[1], Exception) and not isinstance(outcomes[1], IntegrityError)
    assert recorder.select_events(s2) == []


def test_racing_appends_of_one_stream_version_record_one_and_raise_integrity_for_the_rest(
        recorder):
    for _ in range(20):
        # given eight appenders with the same next version of one new stream
        stream, start = uuid.uuid4(), threading.Barrier(8)

        def append(_, s=stream, barrier=start) -> str:
            barrier.wait()
            try:
                recorder.insert_events(_events(s, 1))
            except IntegrityError:
                return "conflict"
            return "recorded"

        # when they race (and so, often, land in one batch)
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = sorted(pool.map(append, range(8)))

        # then exactly one is recorded
        assert outcomes == ["conflict"] * 7 + ["recorded"]
        assert len(recorder.select_events(stream)) == 1
