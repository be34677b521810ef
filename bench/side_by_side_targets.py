"""What ``bench.side_by_side`` runs: the product and the reference (``bench.reference_pipeline``),
each on a *stand* of its own: a fresh PostgreSQL database, a fresh standalone Stripe emulator
(``checkout-saga stripe-emulator``) delivering webhooks to it, and the service itself.

The product's command line is ``PRODUCT_COMMAND`` (override: ``BENCH_PRODUCT_COMMAND``), run
after ``PRODUCT_PREPARE`` (``BENCH_PRODUCT_PREPARE``, empty for none), as ``make run`` does,
with the environment of ``_product_env``: ``STRIPE_SECRET_KEY`` set, so the product uses the
external emulator at ``STRIPE_API_BASE`` and starts none of its own."""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bench.load_rig import (
    ProcessGroup,
    free_port,
    fresh_database,
    postgres_cpu_seconds,
    run_once,
    scalar,
    transactions,
)
from bench.reference_pipeline import COMPLETED_COUNT as REFERENCE_COMPLETED
from checkout_saga.stripe_events import HANDLED_EVENT_TYPES

PRODUCT_COMMAND = os.environ.get(
    "BENCH_PRODUCT_COMMAND", ".venv/bin/checkout-saga serve --host 127.0.0.1 --port {port}")
PRODUCT_PREPARE = os.environ.get("BENCH_PRODUCT_PREPARE", ".venv/bin/checkout-saga migrate")
REFERENCE_COMMAND = (
    f"{sys.executable} -m bench.reference_pipeline --host 127.0.0.1 --port {{port}} "
    "--database-url {database_url} --stripe-base {stripe_base} --webhook-secret {webhook_secret}")
EMULATOR_COMMAND = ".venv/bin/checkout-saga stripe-emulator --host 127.0.0.1 --port {port}"

STORE_KEY = "sk_store_bench_0123456789"
ADMIN_KEY = "sk_admin_bench_0123456789"
WEBHOOK_SECRET = "whsec_bench_side_by_side_0123456789"
SELLER = "acct_bench"
PRODUCT_COMPLETED = ("SELECT count(*) FROM checkoutsaga_events "
                     "WHERE topic LIKE 'CheckoutCompleted@%'")
"""Completed checkouts in the product's event store (the library's table for the app)."""

_DROPPED = ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET",
            "CHECKOUT_SAGA_DATABASE_URL", "CHECKOUT_SAGA_PORT", "CHECKOUT_SAGA_HOST")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(PYTHONUNBUFFERED="1", CHECKOUT_SAGA_LOG_FORMAT="json", **extra)
    return env


def _product_env(database_url: str, stripe_base: str) -> dict[str, str]:
    return _env(CHECKOUT_SAGA_DATABASE_URL=database_url, STRIPE_API_BASE=stripe_base,
                STRIPE_SECRET_KEY="sk_test_bench_side_by_side", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                CHECKOUT_SAGA_API_KEYS=STORE_KEY, CHECKOUT_SAGA_ADMIN_KEYS=ADMIN_KEY)


def _seed_product(base_url: str, stock: dict[str, int]) -> None:
    """Through the admin API: a seller that can take payments, its products, their stock."""
    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as admin:
        admin.put(f"/sellers/{SELLER}", json={"charges_enabled": True}).raise_for_status()
        for sku, units in stock.items():
            admin.put(f"/products/{sku}", json={
                "name": sku, "unit_amount": 1000, "currency": "usd", "seller_id": SELLER,
                "active": True}).raise_for_status()
            admin.post(f"/inventory/{sku}/adjustments",
                       json={"delta": units, "reason": "initial"}).raise_for_status()


def _sold_by_product(stand: Stand, sku: str) -> int:
    """Units sold as the inventory API reports them, once that figure is steady (the read
    model follows the event store) and nothing is left reserved, within 10 s."""
    deadline, last = time.monotonic() + 10, None
    with httpx.Client(base_url=stand.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as admin:
        while True:
            level = admin.get(f"/inventory/{sku}").raise_for_status().json()
            if (level["reserved"] == 0 and level["sold"] == last) or time.monotonic() > deadline:
                return int(level["sold"])
            last = level["sold"]
            time.sleep(0.5)


def _sold_by_reference(stand: Stand, sku: str) -> int:
    return scalar(stand.database_url, f"SELECT sold FROM ref_stock WHERE sku = '{sku}'")


def _seed_reference(base_url: str, stock: dict[str, int]) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for sku, units in stock.items():
            client.put(f"/stock/{sku}", json={"on_hand": units, "unit_amount": 1000}
                       ).raise_for_status()


@dataclass(frozen=True)
class Target:
    name: str
    command: str
    prepare: str
    env: Callable[[str, str], dict[str, str]]
    seed: Callable[[str, dict[str, int]], None]
    completed_sql: str
    store_key: str  # "-": no Authorization header
    sold: Callable[[Stand, str], int]


PRODUCT = Target("product", PRODUCT_COMMAND, PRODUCT_PREPARE, _product_env, _seed_product,
                 PRODUCT_COMPLETED, STORE_KEY, _sold_by_product)
REFERENCE = Target("reference", REFERENCE_COMMAND, "", lambda _db, _stripe: _env(),
                   _seed_reference, REFERENCE_COMPLETED, "-", _sold_by_reference)
TARGETS = {t.name: t for t in (PRODUCT, REFERENCE)}


@dataclass
class Stand:
    target: Target
    dbname: str
    database_url: str
    emulator: ProcessGroup
    service: ProcessGroup
    base_url: str

    def completed(self) -> int:
        return scalar(self.database_url, self.target.completed_sql)

    def snapshot(self) -> dict[str, float]:
        """CPU seconds so far per process group, and completed checkouts."""
        backends, every_postgres = postgres_cpu_seconds(self.dbname)
        return {"service": self.service.cpu_seconds(), "emulator": self.emulator.cpu_seconds(),
                "postgres_backends": backends, "postgres_all": every_postgres,
                "completed": self.completed(), "deliveries": len(self.deliveries())}

    def checkout(self, client: httpx.Client, session_id: str, sku: str) -> int:
        """One checkout of one unit, as the wrk script sends it; the status code."""
        headers = ({} if self.target.store_key == "-"
                   else {"Authorization": f"Bearer {self.target.store_key}"})
        return client.post(f"{self.base_url}/checkouts", headers=headers, json={
            "checkout_session_id": session_id, "currency": "usd",
            "customer": {"id": "cus_bench", "email": "ada@example.com"},
            "items": [{"sku": sku, "quantity": 1}], "payment_method": "pm_card_visa",
        }).status_code

    def deliveries_per_checkout(self, sku: str, count: int) -> float | None:
        """Webhook deliveries caused by one checkout: ``count`` checkouts one after the other
        on a quiet stand, then the delivery log once it has stopped growing (at most 5 s)."""
        before = len(self.deliveries())
        with httpx.Client(timeout=30) as client:
            done = sum(self.checkout(client, f"cs_sample_{uuid.uuid4().hex}", sku) == 201
                       for _ in range(count))
        return round((len(self.settle(10**9, 5.0)) - before) / done, 2) if done else None

    def deliveries(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.emulator_url}/_emulator/webhook_deliveries", timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    @property
    def emulator_url(self) -> str:
        return self.emulator.ready_url.removesuffix("/_emulator/health")

    def settle(self, expected: int, limit: float) -> list[dict[str, Any]]:
        """The delivery log once it has ``expected`` entries or has not grown for 1 s, or
        when ``limit`` s have passed."""
        deadline, last, still_since = time.monotonic() + limit, -1, time.monotonic()
        while True:
            entries, now = self.deliveries(), time.monotonic()
            if len(entries) != last:
                last, still_since = len(entries), now
            if len(entries) >= expected or now - still_since >= 1.0 or now > deadline:
                return entries
            time.sleep(0.25)

    def sold(self, sku: str) -> int:
        return self.target.sold(self, sku)

    def stop_service(self) -> tuple[int, int]:
        """Stop the service, then read the database's transaction counters (a backend's
        counters are flushed when it exits)."""
        self.service.stop()
        time.sleep(0.5)
        return transactions(self.dbname)


@contextlib.contextmanager
def stand(target: Target) -> Iterator[Stand]:
    with fresh_database(f"bench_sbs_{target.name}") as (dbname, database_url):
        port, emulator_port = free_port(), free_port()
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        emulator = ProcessGroup("emulator", EMULATOR_COMMAND.format(port=emulator_port),
                                _env(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET),
                                f"{emulator_url}/_emulator/health")
        command = target.command.format(port=port, database_url=database_url,
                                        stripe_base=emulator_url, webhook_secret=WEBHOOK_SECRET)
        env = target.env(database_url, emulator_url)
        service = ProcessGroup(target.name, command, env, f"http://127.0.0.1:{port}/readyz")
        try:
            emulator.start()
            if target.prepare:
                run_once(f"{target.name} prepare", target.prepare, env)
            service.start(timeout=60)
            # both stands subscribe to the types the product handles (issue 10 #5), as
            # `checkout-saga stripe setup-webhooks` does: the same deliveries for each
            httpx.post(f"{emulator_url}/_emulator/webhook_endpoints", timeout=10, json={
                "url": f"http://127.0.0.1:{port}/webhooks/stripe", "secret": WEBHOOK_SECRET,
                "enabled_events": list(HANDLED_EVENT_TYPES),
            }).raise_for_status()
            yield Stand(target, dbname, database_url, emulator, service,
                        f"http://127.0.0.1:{port}")
        finally:
            service.stop()
            emulator.stop()
