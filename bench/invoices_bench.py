"""Invoices: the latency the invoice adds to a completed checkout (p50/p99), PDF render time,
and the sequence stream's throughput when 64 payments of one seller complete at once (with
the numbers checked: 1..64, no gap, no duplicate). PostgreSQL when reachable, else SQLite."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from adapters.clock import SystemClock
from adapters.database import parse_database_url
from adapters.fake_payment_gateway import FakePaymentGateway
from adapters.pdf_documents import render_invoice
from adapters.settings import Settings
from bench.saga_throughput import _drop, _postgres_url
from bootstrap import build
from checkout_saga.commands import CartLine, StartCheckout
from events.order import InvoiceIssued

SEQUENTIAL = 100
CONCURRENT = 64
RENDERS = 50


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def _system(url: str):
    system = build(Settings(database_url=url, database=parse_database_url(url)),
                   gateway=FakePaymentGateway(), clock=SystemClock())
    system.catalog.set_seller("acct_1", charges_enabled=True, name="Bench seller")
    for i in range(CONCURRENT):
        system.catalog.upsert_product(sku=f"SKU-{i}", name=f"Item {i}", unit_amount=1000,
                                      currency="usd", seller_id="acct_1", active=True)
        system.catalog.adjust_stock(f"SKU-{i}", 1000, "bench")
    return system


def _pay(system, i: int) -> str:
    return system.checkouts.start_checkout(StartCheckout(
        checkout_session_id=f"cs_inv_{uuid.uuid4().hex}", currency="usd",
        items=(CartLine(sku=f"SKU-{i % CONCURRENT}", quantity=1),),
        payment_method="pm_card_visa")).checkout.status


def _measure(url: str) -> dict:
    system = _system(url)
    runner_followers = system.checkouts.runner.followers
    issue_times: list[float] = []
    inner = runner_followers[0]

    def timed(events) -> None:
        started = time.perf_counter()
        inner(events)
        if any(type(e).__name__ == "OrderPaid" for e in events):
            issue_times.append(time.perf_counter() - started)

    runner_followers[0] = timed
    checkout_times = []
    for i in range(SEQUENTIAL):
        started = time.perf_counter()
        _pay(system, i)
        checkout_times.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        statuses = list(pool.map(lambda i: _pay(system, i), range(CONCURRENT)))
    burst = time.perf_counter() - started
    system.invoicing.sweep()
    numbers = sorted(int(e.invoice_number[-6:]) for e in system.store.all_events()
                     if isinstance(e, InvoiceIssued))

    order = next(system.orders.get_order(e.order_id) for e in system.store.all_events()
                 if type(e).__name__ == "OrderPlaced")
    renders = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        render_invoice(order, order.invoice)
        renders.append(time.perf_counter() - started)
    system.close()
    return {
        "invoice_issue_added_to_checkout": _percentiles(issue_times),
        "completed_checkout_with_invoice": _percentiles(checkout_times),
        "pdf_render": _percentiles(renders),
        "concurrent_payments_one_seller": {
            "payments": CONCURRENT, "completed": statuses.count("completed"),
            "seconds": round(burst, 3), "invoices_per_second": round(CONCURRENT / burst, 1),
            "numbers_consecutive": numbers == list(range(1, len(numbers) + 1)),
            "invoices": len(numbers)},
    }


def run() -> dict:
    url = _postgres_url()
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            return {"sqlite": _measure(f"sqlite:///{tmp}/bench.db")}
    try:
        return {"postgres": _measure(url)}
    finally:
        _drop(url)
