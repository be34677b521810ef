"""A drop: many buyers of one SKU at once, on PostgreSQL, through one or two independently
wired systems (two systems = two processes: separate pools, caches and stream locks).
Nobody is refused with ``concurrency_conflict`` while stock remains: exactly the stock is
sold and everyone else gets a definite ``insufficient_stock``."""

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

BUYERS = 64
UNITS = 40


@pytest.fixture
def systems(pg_database_url):
    """Two systems on one fresh database, a seller and a SKU with UNITS units."""
    made, stripe = [], FakePaymentGateway()  # one provider, as in production
    for _ in range(2):
        store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=16)
        made.append((system_for(store, stripe, FakeClock(), pg_database_url), store))
    first = made[0][0]
    first.catalog.set_seller("acct_1", charges_enabled=True)
    first.catalog.upsert_product(sku="DROP", name="Drop", unit_amount=900, currency="usd",
                                 seller_id="acct_1", active=True)
    first.catalog.adjust_stock("DROP", UNITS, "initial")
    yield [system for system, _ in made]
    for _, store in made:
        store.close()


def buy(system, n: int) -> str:
    """The outcome a buyer sees: ``completed``, or the error's code."""
    try:
        return system.checkouts.start_checkout(StartCheckout(
            checkout_session_id=f"cs_drop_{n:05d}", currency="usd",
            items=(CartLine(sku="DROP", quantity=1),),
            payment_method="pm_card_visa")).checkout.status
    except errors.DomainError as exc:
        return exc.code


def outcomes(results: list[str]) -> dict[str, int]:
    return {outcome: results.count(outcome) for outcome in set(results)}


def test_sixty_four_buyers_of_forty_units_in_one_process_sell_forty_and_refuse_only_for_stock(
        systems):
    system = systems[0]

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        results = list(pool.map(lambda n: buy(system, n), range(BUYERS)))

    assert outcomes(results) == {"completed": UNITS, "insufficient_stock": BUYERS - UNITS}
    level = system.catalog.get_inventory("DROP")
    assert (level.sold, level.reserved, level.on_hand) == (UNITS, 0, 0)
    assert check_invariants(system.store.all_events()) == []


def test_sixty_four_buyers_split_over_two_processes_sell_forty_and_refuse_only_for_stock(
        systems):
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        results = list(pool.map(lambda n: buy(systems[n % 2], n), range(BUYERS)))

    assert outcomes(results) == {"completed": UNITS, "insufficient_stock": BUYERS - UNITS}
    level = systems[1].catalog.get_inventory("DROP")
    assert (level.sold, level.reserved, level.on_hand) == (UNITS, 0, 0)
    assert check_invariants(systems[0].store.all_events()) == []
