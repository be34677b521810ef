"""Seed 001 #8 across processes: once a seller's disable is acknowledged by one process,
every checkout started afterwards in any process is refused — even in a process that has
the seller (enabled) in its cache of latest states, warmed by earlier checkouts."""

from __future__ import annotations

import pytest

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from checkout_saga import errors
from checkout_saga.commands import CartLine, StartCheckout
from tests.conftest import system_for


@pytest.fixture
def two_processes(database_url):
    """Two independently wired systems on one database (own pools, caches and locks)."""
    stripe, made = FakePaymentGateway(), []
    for _ in range(2):
        store = EventsourcingStore(parse_database_url(database_url), pool_size=4)
        made.append((system_for(store, stripe, FakeClock(), database_url), store))
    yield [system for system, _ in made]
    for _, store in made:
        store.close()


def start(system, session: str):
    return system.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="MUG", quantity=1),),
        payment_method="pm_card_visa"))


def test_a_seller_disabled_in_one_process_is_refused_by_the_next_checkout_in_another(
        two_processes):
    shop_a, shop_b = two_processes
    shop_a.catalog.set_seller("acct_1", charges_enabled=True)
    shop_a.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                                  seller_id="acct_1", active=True)
    shop_a.catalog.adjust_stock("MUG", 10, "initial")
    assert start(shop_a, "cs_before_disable_1").checkout.status == "completed"  # A caches the seller

    acknowledged = shop_b.catalog.set_seller("acct_1", charges_enabled=False)

    assert acknowledged.charges_enabled is False
    for n in range(3):
        with pytest.raises(errors.SellerCannotAcceptPaymentsError):
            start(shop_a, f"cs_after_disable_{n}")
    assert shop_a.catalog.get_inventory("MUG").reserved == 0


def test_a_seller_enabled_again_in_one_process_takes_payments_at_once_in_another(two_processes):
    shop_a, shop_b = two_processes
    shop_a.catalog.set_seller("acct_1", charges_enabled=False)
    shop_a.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                                  seller_id="acct_1", active=True)
    shop_a.catalog.adjust_stock("MUG", 10, "initial")
    with pytest.raises(errors.SellerCannotAcceptPaymentsError):
        start(shop_a, "cs_while_disabled")

    shop_b.catalog.set_seller("acct_1", charges_enabled=True)

    assert start(shop_a, "cs_after_enable").checkout.status == "completed"
