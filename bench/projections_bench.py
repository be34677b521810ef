"""Projection figures on PostgreSQL: rebuild speed (events/s), live projection lag under a
concurrent write load (LISTEN/NOTIFY runner), and ``audit show`` of a 50-event checkout.

Rebuild events are synthetic but realistic: one real checkout (product, stock, reservation,
payment, order placed and paid, a partial refund) is recorded through the service, then
cloned with fresh stream ids, SKUs, session and Stripe ids and inserted in large batches
straight through the library's recorder. ``BENCH_PROJECTION_EVENTS`` sets the count
(default the issue's 1,000,000: about 35 s to insert and 30 s to rebuild here)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from eventsourcing.persistence import StoredEvent

from adapters.clock import SystemClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from bench.wiring import system_on
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.ids import checkout_stream
from cli import audit
from events import checkout as ev
from projections.rebuild import rebuild_in_place
from projections.registry import PROJECTIONS
from projections.runtime import ReadModels

EVENTS = int(os.environ.get("BENCH_PROJECTION_EVENTS", "1000000"))
INSERT_BATCH = 5000
LAG_CHECKOUTS = 300
LAG_THREADS = 8
MARK = b"\x01"
_TOKEN = re.compile(rb'"((?:pi|ch|re|rf|evt|dp|du|txn|cs)_[A-Za-z0-9_]+)"')


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=root dbname=postgres", autocommit=True) as c:
        c.execute(sql)


@contextlib.contextmanager
def _postgres():
    name = f"cs_bench_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _service(store):
    service = system_on("sqlite:///:memory:", store, FakePaymentGateway())
    service.catalog.set_seller("acct_1", charges_enabled=True)
    return service


# --- the synthetic event log ----------------------------------------------------------------

def _template() -> tuple[list, list]:
    """(shared prefix, per-checkout events) as StoredEvents of one real checkout, with every
    per-checkout id marked so a clone can make it unique."""
    with tempfile.TemporaryDirectory() as tmp:
        store = EventsourcingStore(parse_database_url(f"sqlite:///{tmp}/t.db"), pool_size=1)
        service = _service(store)
        prefix_end = store.max_notification_id()
        service.catalog.upsert_product(sku="BENCHTPL", name="Bench", unit_amount=1000, currency="usd",
                               seller_id="acct_1", active=True)
        service.catalog.adjust_stock("BENCHTPL", 10_000, "bench")
        paid = service.checkouts.start_checkout(StartCheckout(
            checkout_session_id="cs_benchtpl", currency="usd", customer_id="cus_bench",
            items=(CartLine(sku="BENCHTPL", quantity=2),), payment_method="pm_card_visa")).checkout
        service.orders.refund(RefundOrder(order_id=paid.order_id, idempotency_key="rf-bench", amount=500))
        notes = store.notifications(1, 10_000)
        store.close()
    shared = [n for n in notes if n.id <= prefix_end]
    own = [n for n in notes if n.id > prefix_end]
    streams = {n.originator_id for n in own}
    tokens = {t for n in own for t in _TOKEN.findall(n.state)} | {b"BENCHTPL"}
    marked = []
    for n in own:
        state = n.state
        for token in sorted(tokens, key=len, reverse=True):
            state = state.replace(token, token + MARK)
        for s in streams:  # dashed and hex forms share the last 8 hex digits
            state = state.replace(s.hex[-8:].encode(), MARK)
        marked.append((n.originator_id.int >> 32, n.originator_version, n.topic, state))
    return shared, marked


def _clone(marked: list, i: int) -> list[StoredEvent]:
    suffix = b"%08x" % i
    return [StoredEvent(originator_id=uuid.UUID(int=(high << 32) | i), originator_version=version,
                        topic=topic, state=state.replace(MARK, suffix))
            for high, version, topic, state in marked]


def _fill(store: EventsourcingStore, count: int) -> int:
    shared, marked = _template()
    recorder = store.app.recorder
    recorder.insert_events([StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                            for n in shared])
    batch: list[StoredEvent] = []
    recorded, i = len(shared), 0
    while recorded < count:
        clone = _clone(marked, i)
        batch.extend(clone)
        recorded += len(clone)
        i += 1
        if len(batch) >= INSERT_BATCH:
            recorder.insert_events(batch)
            batch = []
    if batch:
        recorder.insert_events(batch)
    return store.max_notification_id()


def _rebuild_speed(url: str) -> dict:
    store = EventsourcingStore(parse_database_url(url), pool_size=4, cache_size=100)
    models = ReadModels(parse_database_url(url), event_store=store)
    try:
        models.migrate()
        began = time.perf_counter()
        total = _fill(store, EVENTS)
        filled = time.perf_counter() - began
        began = time.perf_counter()
        applied = rebuild_in_place(models.db, store, list(PROJECTIONS))
        seconds = time.perf_counter() - began
        with models.db.read() as tx:
            orders = tx.fetchone("SELECT count(*) AS n FROM orders")["n"]
    finally:
        models.close()
        store.close()
    return {"events": total, "applied": applied, "orders": orders,
            "insert_seconds": round(filled, 2), "rebuild_seconds": round(seconds, 2),
            "events_per_second": round(applied / seconds), "target_events_per_second": 20_000}


# --- live lag -----------------------------------------------------------------------------

def _live_lag(url: str) -> dict:
    store = EventsourcingStore(parse_database_url(url), pool_size=LAG_THREADS + 2)
    models = ReadModels(parse_database_url(url), event_store=store)
    lags: list[float] = []

    def heard(_n: int, events: list) -> None:
        now = SystemClock().now()
        lags.extend((now - e.occurred_at).total_seconds() for e in events)

    try:
        models.migrate()
        service = _service(store)
        skus = [f"LAG-{i}" for i in range(50)]
        for sku in skus:
            service.catalog.upsert_product(sku=sku, name=sku, unit_amount=1000, currency="usd",
                                   seller_id="acct_1", active=True)
            service.catalog.adjust_stock(sku, 10_000, "bench")
        models.catch_up()
        models.on_batch = heard
        models.start_background()

        def one(i: int) -> None:
            service.checkouts.start_checkout(StartCheckout(
                checkout_session_id=f"cs_lag_{uuid.uuid4().hex}", currency="usd",
                items=(CartLine(sku=skus[i % len(skus)], quantity=1),), payment_method="pm_card_visa"))

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=LAG_THREADS) as pool:
            list(pool.map(one, range(LAG_CHECKOUTS)))
        elapsed = time.perf_counter() - began
        deadline = time.monotonic() + 10
        while any(s["lag_events"] for s in models.status()) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        models.close()
        store.close()
    ms = sorted(x * 1000 for x in lags)
    return {"checkouts": LAG_CHECKOUTS, "writer_threads": LAG_THREADS, "events": len(ms),
            "write_seconds": round(elapsed, 2), "lag_ms_p50": round(statistics.median(ms), 1),
            "lag_ms_p99": round(ms[int(len(ms) * 0.99) - 1], 1), "lag_ms_max": round(ms[-1], 1),
            "target_lag_ms_p99": 100}


# --- audit show -----------------------------------------------------------------------------

def _fifty_event_checkout(store) -> str:
    """A checkout whose payment step was retried: 3 + 23 × (request, unknown outcome) + 1."""
    clock = SystemClock()
    service = _service(store)
    service.catalog.upsert_product(sku="AUDIT", name="Audit", unit_amount=1000, currency="usd",
                           seller_id="acct_1", active=True)
    service.catalog.adjust_stock("AUDIT", 10, "bench")
    started = service.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_audit_bench", currency="usd", items=(CartLine(sku="AUDIT", quantity=1),),
        payment_method=None)).checkout
    stream = checkout_stream("cs_audit_bench")
    version = store.stream(stream)[-1].originator_version
    padding = []
    for attempt in range(50 - version):
        version += 1
        key = f"{started.checkout_id}:confirm"
        if attempt % 2 == 0:
            padding.append(ev.PaymentStepRequested(originator_id=stream, originator_version=version,
                                                   occurred_at=clock.now(), step="confirm",
                                                   idempotency_key=key))
        else:
            padding.append(ev.PaymentStepOutcomeUnknown(
                originator_id=stream, originator_version=version, occurred_at=clock.now(),
                step="confirm", idempotency_key=key, reason="timeout", attempt=attempt,
                retry_at=clock.now() + timedelta(seconds=1)))
    store.append(padding)
    return started.checkout_id


def _audit_show(url: str, runs: int = 200) -> dict:
    store = EventsourcingStore(parse_database_url(url), pool_size=2)
    try:
        checkout_id = _fifty_event_checkout(store)
        events = len(audit.history(store, checkout_id)[0])
        timings = []
        for _ in range(runs):
            began = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                code = audit.show(store, checkout_id)
            timings.append((time.perf_counter() - began) * 1000)
            assert code == 0
    finally:
        store.close()
    timings.sort()
    return {"events": events, "runs": runs, "ms_p50": round(statistics.median(timings), 2),
            "ms_p99": round(timings[int(runs * 0.99) - 1], 2), "target_ms": 5}


def run() -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["audit_show_sqlite"] = _audit_show(f"sqlite:///{tmp}/audit.db")
    try:
        _pg_admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - the bench reports what it could not measure
        results["postgres"] = f"not reachable: {type(exc).__name__}"
        return results
    with _postgres() as url:
        results["audit_show_postgres"] = _audit_show(url)
    with _postgres() as url:
        results["live_lag_postgres"] = _live_lag(url)
    with _postgres() as url:
        results["rebuild_postgres"] = _rebuild_speed(url)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
