"""Real threads against real databases: races resolve on the aggregate version."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from checkout_saga import errors
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.invariants import check_invariants
from tests.conftest import system_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_service(pg_database_url):
    store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=12)
    gateway = FakePaymentGateway()
    service = system_for(store, gateway, FakeClock(), pg_database_url)
    service.catalog.set_seller("acct_1", charges_enabled=True)
    service.catalog.upsert_product(sku="HOT", name="Hot item", unit_amount=500, currency="usd",
                           seller_id="acct_1", active=True)
    service.catalog.adjust_stock("HOT", 10, "initial")
    yield service, gateway
    store.close()


def _start(service, session: str, quantity: int = 1):
    try:
        return service.checkouts.start_checkout(StartCheckout(
            checkout_session_id=session, currency="usd",
            items=(CartLine(sku="HOT", quantity=quantity),), payment_method="pm_card_visa")).checkout
    except errors.InsufficientStockError:
        return None


def test_twenty_parallel_starts_of_one_session_make_one_checkout_one_order_one_intent(pg_service):
    service, gateway = pg_service
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: _start(service, "cs_same_session_1"), range(20)))

    assert {r.checkout_id for r in results} == {results[0].checkout_id}
    assert len(gateway.intents) == 1 and gateway.captures == 1
    assert service.catalog.get_inventory("HOT").sold == 1
    assert check_invariants(service.store.all_events()) == []


def test_sixty_buyers_for_ten_units_sell_exactly_ten_and_hold_nothing(pg_service):
    service, gateway = pg_service
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda i: _start(service, f"cs_buyer_{i:04d}"), range(60)))

    completed = [r for r in results if r is not None and r.status == "completed"]
    level = service.catalog.get_inventory("HOT")
    assert len(completed) == 10
    assert (level.sold, level.reserved, level.on_hand) == (10, 0, 0)
    assert gateway.captures == 10
    assert check_invariants(service.store.all_events()) == []
