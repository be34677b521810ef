"""One contract for every event store the application may run on: the library's in-memory
recorders, SQLite and PostgreSQL. Application tests may use the in-memory one because it
passes exactly these tests."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from checkout_saga.errors import ConcurrencyConflictError
from checkout_saga.ids import inventory_stream
from checkout_saga.inventory import fold_inventory
from events.inventory import StockAdjusted

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    if request.param == "memory":
        store = EventsourcingStore.in_memory()
    elif request.param == "sqlite":
        store = EventsourcingStore(parse_database_url(f"sqlite:///{tmp_path}/store.db"))
    else:
        url = request.getfixturevalue("pg_database_url")
        store = EventsourcingStore(parse_database_url(url), pool_size=2)
    yield store
    store.close()


def adjusted(sku: str, version: int, delta: int, stream=None) -> StockAdjusted:
    return StockAdjusted(originator_id=stream or inventory_stream(sku), originator_version=version,
                         occurred_at=NOW, sku=sku, delta=delta, reason="test")


def test_appended_events_fold_into_the_state_they_describe(any_store):
    any_store.append([adjusted("MUG", 1, 5), adjusted("MUG", 2, 3)])

    state = any_store.get(inventory_stream("MUG"), fold_inventory)

    assert (state.on_hand, state.version) == (8, 2)
    assert any_store.get(inventory_stream("MUG"), fold_inventory, at_version=1).on_hand == 5


def test_an_unknown_stream_reads_as_none_and_an_empty_history(any_store):
    assert any_store.get(uuid4(), fold_inventory) is None
    assert any_store.stream(uuid4()) == []


def test_a_second_writer_of_the_same_version_conflicts(any_store):
    any_store.append([adjusted("MUG", 1, 5)])

    with pytest.raises(ConcurrencyConflictError):
        any_store.append([adjusted("MUG", 1, 7)])

    assert any_store.get(inventory_stream("MUG"), fold_inventory).on_hand == 5


def test_a_multi_stream_append_is_all_or_nothing(any_store):
    any_store.append([adjusted("MUG", 1, 5)])

    with pytest.raises(ConcurrencyConflictError):
        any_store.append([adjusted("HAT", 1, 2), adjusted("MUG", 1, 9)])

    assert any_store.get(inventory_stream("HAT"), fold_inventory) is None
    assert any_store.stream(inventory_stream("MUG"))[-1].delta == 5


def test_notifications_list_every_event_once_in_recording_order(any_store):
    any_store.append([adjusted("MUG", 1, 5)])
    any_store.append([adjusted("HAT", 1, 2), adjusted("MUG", 2, 1)])

    recorded = list(any_store.all_events())

    assert [(e.sku, e.delta) for e in recorded] == [("MUG", 5), ("HAT", 2), ("MUG", 1)]
    assert any_store.max_notification_id() == 3
    assert [n.id for n in any_store.notifications(2, 10)] == [2, 3]


def test_history_up_to_a_version_stops_there(any_store):
    any_store.append([adjusted("MUG", 1, 5), adjusted("MUG", 2, 3), adjusted("MUG", 3, -1)])

    assert [e.delta for e in any_store.stream(inventory_stream("MUG"), upto_version=2)] == [5, 3]
