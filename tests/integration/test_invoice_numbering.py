"""Invoice numbers on real databases: consecutive per seller and year with no gap and no
duplicate, under concurrent payments, and after a crash between payment and issue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.invariants import check_invariants
from events.order import InvoiceIssued
from tests.conftest import system_for

BUYERS = 30


def _shop(system, sellers=("acct_1",), skus_per_seller=BUYERS):
    for seller in sellers:
        system.catalog.set_seller(seller, charges_enabled=True, name=f"Seller {seller}")
        for i in range(skus_per_seller):
            sku = f"{seller}-SKU-{i}"
            system.catalog.upsert_product(sku=sku, name=f"Item {i}", unit_amount=1000 + i,
                                          currency="usd", seller_id=seller, active=True)
            system.catalog.adjust_stock(sku, 5, "initial")


def _pay(system, session: str, sku: str):
    return system.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku=sku, quantity=1),),
        payment_method="pm_card_visa")).checkout


def _invoice_numbers(system) -> list[str]:
    return sorted(e.invoice_number for e in system.store.all_events() if isinstance(e, InvoiceIssued))


@pytest.fixture
def pg_system(pg_database_url):
    store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=16)
    system = system_for(store, FakePaymentGateway(), FakeClock(), pg_database_url,
                        sleep=__import__("time").sleep)  # real backoff between conflicts
    yield system
    store.close()


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_thirty_concurrent_payments_of_one_seller_get_invoices_1_to_30(pg_system):
    _shop(pg_system)

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        checkouts = list(pool.map(lambda i: _pay(pg_system, f"cs_conc_{i:04d}", f"acct_1-SKU-{i}"),
                                  range(BUYERS)))
    pg_system.invoicing.sweep()  # anything a contended sequence deferred

    assert {c.status for c in checkouts} == {"completed"}  # numbering never fails a payment
    assert _invoice_numbers(pg_system) == [f"INV-2026-{n:06d}" for n in range(1, BUYERS + 1)]
    assert check_invariants(pg_system.store.all_events()) == []


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_two_sellers_paid_concurrently_each_count_from_one(pg_system):
    _shop(pg_system, sellers=("acct_a", "acct_b"), skus_per_seller=10)

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda i: _pay(pg_system, f"cs_two_{i:04d}",
                                     f"acct_{'ab'[i % 2]}-SKU-{i // 2}"), range(20)))
    pg_system.invoicing.sweep()

    by_seller: dict[str, list[str]] = {}
    for e in pg_system.store.all_events():
        if isinstance(e, InvoiceIssued):
            by_seller.setdefault(e.seller.seller_id, []).append(e.invoice_number)
    expected = [f"INV-2026-{n:06d}" for n in range(1, 11)]
    assert {k: sorted(v) for k, v in by_seller.items()} == {"acct_a": expected, "acct_b": expected}


class _DiesOnDocuments:
    """A store that is lost (the process dies, the database goes away) exactly when a document
    is appended: that append never happens; everything before it was recorded."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def append(self, events) -> None:
        if any(isinstance(e, InvoiceIssued) for e in events):
            raise ConnectionError("lost between payment and invoice")
        self._store.append(events)


def test_a_crash_between_payment_and_invoice_is_resumed_without_gap_or_duplicate(
        store, database_url):
    clock, gateway = FakeClock(), FakePaymentGateway()
    first = system_for(store, gateway, clock, database_url)
    _shop(first, skus_per_seller=4)
    _pay(first, "cs_crash_0001", "acct_1-SKU-0")  # invoiced: INV-…-000001

    dying = system_for(_DiesOnDocuments(store), gateway, clock, database_url)
    paid = [_pay(dying, f"cs_crash_{i:04d}", f"acct_1-SKU-{i}") for i in (2, 3)]
    assert {c.status for c in paid} == {"completed"}
    assert _invoice_numbers(first) == ["INV-2026-000001"]
    assert [v.invariant for v in check_invariants(store.all_events())] == [8, 8]  # owed, not lost

    restarted = system_for(store, gateway, clock, database_url)
    restarted.invoicing.sweep()
    restarted.invoicing.sweep()  # a second pass (or a second worker) changes nothing
    _pay(restarted, "cs_crash_0004", "acct_1-SKU-3")

    assert _invoice_numbers(restarted) == [f"INV-2026-{n:06d}" for n in range(1, 5)]
    assert check_invariants(store.all_events()) == []
