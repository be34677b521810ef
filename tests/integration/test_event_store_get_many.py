"""``EventStore.get_many``: several streams' current states read together (on PostgreSQL in
one statement) are exactly what ``get`` would return one by one — as fresh, whatever this
process has cached (application/start_reads.py relies on it for the seller and product)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from checkout_saga.catalog import fold_seller
from checkout_saga.ids import inventory_stream, seller_stream
from checkout_saga.inventory import fold_inventory
from events.catalog import SellerUpdated
from events.inventory import StockAdjusted

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_processes(request, tmp_path):
    """Two stores on one database, as two processes have them (each its own cache)."""
    if request.param == "memory":
        store = EventsourcingStore.in_memory()
        yield store, store
        store.close()
        return
    url = (f"sqlite:///{tmp_path}/store.db" if request.param == "sqlite"
           else request.getfixturevalue("pg_database_url"))
    first = EventsourcingStore(parse_database_url(url), pool_size=2)
    second = EventsourcingStore(parse_database_url(url), pool_size=2)
    yield first, second
    first.close()
    second.close()


def adjusted(sku: str, version: int, delta: int) -> StockAdjusted:
    return StockAdjusted(originator_id=inventory_stream(sku), originator_version=version,
                         occurred_at=NOW, sku=sku, delta=delta, reason="test")


def seller(seller_id: str, version: int, enabled: bool) -> SellerUpdated:
    return SellerUpdated(originator_id=seller_stream(seller_id), originator_version=version,
                         occurred_at=NOW, seller_id=seller_id, charges_enabled=enabled)


def test_states_come_back_in_request_order_with_none_for_an_empty_stream(two_processes):
    store, _ = two_processes
    store.append([adjusted("MUG", 1, 5), adjusted("CAP", 1, 2), adjusted("MUG", 2, 3)])
    empty = uuid4()

    mug, nothing, cap, mug_again = store.get_many([
        (inventory_stream("MUG"), fold_inventory), (empty, fold_inventory),
        (inventory_stream("CAP"), fold_inventory), (inventory_stream("MUG"), fold_inventory)])

    assert (mug.on_hand, mug.version, cap.on_hand, nothing) == (8, 2, 2, None)
    assert mug_again == mug == store.get(inventory_stream("MUG"), fold_inventory)


def test_a_seller_disabled_by_another_process_is_read_disabled_despite_the_cache(two_processes):
    ours, theirs = two_processes
    ours.append([seller("acct_1", 1, True), adjusted("MUG", 1, 5)])
    requests = [(seller_stream("acct_1"), fold_seller), (inventory_stream("MUG"), fold_inventory)]
    assert ours.get_many(requests)[0].charges_enabled  # now cached in our process

    theirs.append([seller("acct_1", 2, False), adjusted("MUG", 2, -1)])  # acknowledged there

    now_seller, now_mug = ours.get_many(requests)
    assert (now_seller.charges_enabled, now_seller.version) == (False, 2)
    assert (now_mug.on_hand, now_mug.version) == (4, 2)


def test_the_cache_is_only_a_guess_of_what_was_last_read(two_processes):
    ours, theirs = two_processes
    ours.append([seller("acct_1", 1, True)])
    assert ours.cached(seller_stream("acct_1"), fold_seller) is None  # never read here

    ours.get_many([(seller_stream("acct_1"), fold_seller)])
    theirs.append([seller("acct_1", 2, False)])

    assert ours.cached(seller_stream("acct_1"), fold_seller).charges_enabled  # stale, by design
    assert not ours.get_many([(seller_stream("acct_1"), fold_seller)])[0].charges_enabled
