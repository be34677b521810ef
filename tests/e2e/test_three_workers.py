"""Three ``python -m cli.main worker`` processes on one PostgreSQL database: every
reservation deadline fires exactly once — one resume per checkout across all workers' logs,
one ``CheckoutExpired`` per checkout, one effective cancel per intent at the emulator — and
CONTRACT §5 and ``audit verify`` hold afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from tests.e2e.test_kill_and_restart import (
    ROOT,
    STRIPE_KEY,
    Emulator,
    assert_books_balance,
    base_env,
    statuses,
    wait_until,
)

CHECKOUTS = 24
TTL_SECONDS = 4


@pytest.fixture
def emulator():
    running = Emulator()
    yield running
    running.stop()


def start_checkouts(database_url: str, emulator: Emulator) -> list[str]:
    from adapters.clock import SystemClock
    from adapters.database import parse_database_url
    from adapters.event_store import EventsourcingStore
    from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
    from checkout_saga.commands import CartLine, StartCheckout
    from tests.conftest import system_for

    store = EventsourcingStore(parse_database_url(database_url), pool_size=2)
    gateway = StripePaymentGateway(StripeGatewayConfig(api_key=STRIPE_KEY, api_base=emulator.base))
    service = system_for(store, gateway, SystemClock(), database_url,
                         reservation_ttl_seconds=TTL_SECONDS)
    try:
        service.catalog.set_seller("acct_1", charges_enabled=True)
        service.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                               seller_id="acct_1", active=True)
        service.catalog.adjust_stock("MUG", CHECKOUTS, "initial")
        return [service.checkouts.start_checkout(StartCheckout(
            checkout_session_id=f"cs_three_{n:06d}", currency="usd",
            items=(CartLine(sku="MUG", quantity=1),), customer_id="cus_42")).checkout.checkout_id
            for n in range(CHECKOUTS)]
    finally:
        gateway.close()
        store.close()


def expired_events(database_url: str) -> Counter:
    from adapters.database import parse_database_url
    from adapters.event_store import EventsourcingStore
    from checkout_saga.ids import checkout_id_of
    from events import checkout as ev

    store = EventsourcingStore(parse_database_url(database_url), pool_size=2)
    try:
        return Counter(checkout_id_of(e.originator_id) for e in store.all_events()
                       if isinstance(e, ev.CheckoutExpired))
    finally:
        store.close()


def resumes_in(log_text: str) -> list[tuple[str, str]]:
    """(checkout, worker) for each reservation deadline a worker acted on."""
    found = []
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "checkout_resumed" and entry.get("reason") == "reservation_expiry":
            found.append((entry["checkout_id"], entry["worker"]))
    return found


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(90)
def test_three_workers_fire_every_reservation_deadline_exactly_once(pg_database_url, emulator):
    env = base_env(pg_database_url, emulator.base,
                   CHECKOUT_SAGA_RESERVATION_TTL_SECONDS=str(TTL_SECONDS))
    migrate = subprocess.run([sys.executable, "-m", "cli.main", "migrate"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert migrate.returncode == 0, migrate.stderr
    workers = [subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    try:
        checkout_ids = start_checkouts(pg_database_url, emulator)
        wait_until(lambda: statuses(pg_database_url).get("expired") == CHECKOUTS, 40,
                   "every reservation expired")
    finally:
        logs = []
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                logs.append(worker.communicate(timeout=15)[1])
            except subprocess.TimeoutExpired:
                worker.kill()
                logs.append(worker.communicate()[1])

    resumed = [r for text in logs for r in resumes_in(text)]
    per_checkout = Counter(checkout_id for checkout_id, _ in resumed)
    assert per_checkout == Counter(dict.fromkeys(checkout_ids, 1)), "\n".join(
        line for text in logs for line in text.splitlines() if "checkout_" in line)[-6000:]
    print("resumes per worker:", Counter(worker for _, worker in resumed))
    assert expired_events(pg_database_url) == Counter(dict.fromkeys(checkout_ids, 1))
    cancels = Counter(e["data"]["object"]["id"] for e in emulator.events("payment_intent.canceled"))
    assert len(cancels) == CHECKOUTS and set(cancels.values()) == {1}
    assert_books_balance(pg_database_url, emulator)
