"""Completed checkouts per second through the service (no HTTP, fake gateway), and database
transactions (appends) per completed checkout, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from bench.wiring import system_on
from checkout_saga.commands import CartLine, StartCheckout

CHECKOUTS = 400


class CountingStore:
    def __init__(self, inner: EventsourcingStore) -> None:
        self.inner, self.appends = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def append(self, events) -> None:
        self.appends += 1
        self.inner.append(events)


def _measure(url: str, threads: int) -> dict:
    inner = EventsourcingStore(parse_database_url(url), pool_size=threads + 2)
    store = CountingStore(inner)
    service = system_on(url, store, FakePaymentGateway())
    service.catalog.set_seller("acct_1", charges_enabled=True)
    skus = [f"SKU-{i}" for i in range(50)]
    for sku in skus:
        service.catalog.upsert_product(sku=sku, name=sku, unit_amount=1000, currency="usd",
                               seller_id="acct_1", active=True)
        service.catalog.adjust_stock(sku, 10_000, "bench")
    store.appends = 0

    def one(i: int) -> str:
        return service.checkouts.start_checkout(StartCheckout(
            checkout_session_id=f"cs_bench_{uuid.uuid4().hex}", currency="usd",
            items=(CartLine(sku=skus[i % len(skus)], quantity=1),),
            payment_method="pm_card_visa")).checkout.status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(one, range(CHECKOUTS)))
    elapsed = time.perf_counter() - started
    completed = statuses.count("completed")
    inner.close()
    return {"threads": threads, "checkouts": CHECKOUTS, "completed": completed,
            "seconds": round(elapsed, 3), "completed_per_second": round(completed / elapsed, 1),
            "transactions_per_checkout": round(store.appends / max(completed, 1), 2)}


def _postgres_url() -> str | None:
    try:
        import psycopg

        name = f"cs_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 user=root dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://root@127.0.0.1:5432/{name}"
    except Exception as exc:  # noqa: BLE001 - the bench reports what it could not measure
        print(f"PostgreSQL not reachable, skipping: {exc}")
        return None


def _drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect("host=127.0.0.1 user=root dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_saga_throughput() -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite_1_thread"] = _measure(f"sqlite:///{tmp}/bench.db", 1)
    for label, threads in (("postgres_1_thread", 1), ("postgres_8_threads", 8)):
        url = _postgres_url()
        if url is None:
            break
        try:
            results[label] = _measure(url, threads)
        finally:
            _drop(url)
    return results
