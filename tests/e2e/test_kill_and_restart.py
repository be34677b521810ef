"""Real processes: ``python -m cli.main serve`` on a fresh PostgreSQL database against a
standalone Stripe emulator, killed with SIGKILL in the middle of a burst of checkouts (and,
in some rounds, again while its worker recovers), for a few seeded rounds, then restarted on
the same database. After the worker's bounded recovery
time nothing is ``processing``, CONTRACT §5 holds for the events and for what the emulator
says about every payment intent, and ``audit verify`` passes."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STORE_KEY = "sk_store_kill_0123456789"
ADMIN_KEY = "sk_admin_kill_0123456789"
STRIPE_KEY = "sk_test_x"
WEBHOOK_SECRET = "whsec_kill_and_restart_test"
SEED = 20261123
ROUNDS = 3
BURST = 16
RECOVERY_BOUND_SECONDS = 25.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(database_url: str, emulator_base: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CHECKOUT_SAGA_DATABASE_URL": database_url,
           "CHECKOUT_SAGA_API_KEYS": STORE_KEY, "CHECKOUT_SAGA_ADMIN_KEYS": ADMIN_KEY,
           "STRIPE_SECRET_KEY": STRIPE_KEY, "STRIPE_API_BASE": emulator_base,
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "CHECKOUT_SAGA_LOG_FORMAT": "json"}
    env.update(extra)
    return env


def wait_until(probe, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s")
        time.sleep(interval)


class Emulator:
    """``python -m cli.main stripe-emulator`` as its own process: it outlives the server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "stripe-emulator", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: httpx.get(f"{self.base}/_emulator/webhook_endpoints",
                                     timeout=1).status_code == 200, 20, "emulator ready")

    def send_webhooks_to(self, url: str) -> None:
        httpx.post(f"{self.base}/_emulator/webhook_endpoints",
                   json={"url": url, "secret": WEBHOOK_SECRET}, timeout=5).raise_for_status()

    def intents(self) -> list:
        from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway

        gateway = StripePaymentGateway(StripeGatewayConfig(api_key=STRIPE_KEY, api_base=self.base))
        try:
            return list(gateway.list_payment_intents(created_gte=0))
        finally:
            gateway.close()

    def events(self, type_: str) -> list[dict]:
        found, after = [], None
        while True:
            params = {"limit": 100, "type": type_, **({"starting_after": after} if after else {})}
            page = httpx.get(f"{self.base}/v1/events", params=params, timeout=10,
                             headers={"Authorization": f"Bearer {STRIPE_KEY}"}).json()
            found.extend(page["data"])
            if not page.get("has_more"):
                return found
            after = page["data"][-1]["id"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Server:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(self._ready, 30, "server ready")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"server exited {self.process.returncode}: {self.process.stderr.read()[-2000:]}")
        return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def client(base: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def stock_the_shop(base: str, units: int = 1000) -> None:
    with client(base, ADMIN_KEY) as admin:
        admin.put("/sellers/acct_1", json={"charges_enabled": True}).raise_for_status()
        admin.put("/products/TSHIRT-M", json={"name": "T-shirt M", "unit_amount": 1999,
                                              "currency": "usd", "seller_id": "acct_1",
                                              "active": True}).raise_for_status()
        admin.post("/inventory/TSHIRT-M/adjustments",
                   json={"delta": units, "reason": "initial"}).raise_for_status()


def checkout_body(session: str, payment_method: str | None) -> dict:
    body = {"checkout_session_id": session, "currency": "usd",
            "customer": {"id": "cus_42", "email": "ada@example.com"},
            "items": [{"sku": "TSHIRT-M", "quantity": 1}]}
    if payment_method:
        body["payment_method"] = payment_method
    return body


def post_checkout(base: str, body: dict) -> int | None:
    try:
        with client(base, STORE_KEY) as store:
            return store.post("/checkouts", json=body).status_code
    except httpx.HTTPError:
        return None  # the server died under us: expected


def statuses(database_url: str) -> dict[str, int]:
    """How many checkouts are in each status, folded from the event store itself."""
    from adapters.database import parse_database_url
    from adapters.event_store import EventsourcingStore
    from checkout_saga.checkout import fold_checkout
    from events import checkout as ev

    store = EventsourcingStore(parse_database_url(database_url), pool_size=2, cache_size=0)
    try:
        sids = {e.originator_id for e in store.all_events() if isinstance(e, ev.CheckoutStarted)}
        counts: dict[str, int] = {}
        for sid in sids:
            status = store.get(sid, fold_checkout).status
            counts[status] = counts.get(status, 0) + 1
        return counts
    finally:
        store.close()


def documents_owed(database_url: str) -> int:
    """Paid orders still owed their invoice (issue 11): a kill between a payment and its
    invoice leaves one for the restarted worker's document sweep to issue."""
    from adapters.database import parse_database_url
    from adapters.event_store import EventsourcingStore
    from checkout_saga.invariants import check_invariants

    store = EventsourcingStore(parse_database_url(database_url), pool_size=2, cache_size=0)
    try:
        return sum(1 for v in check_invariants(store.all_events()) if v.invariant == 8)
    finally:
        store.close()


def timer_resumes(database_url: str) -> dict[str, int]:
    """Events the worker recorded, by the deadline that made it act (for the log)."""
    from adapters.database import parse_database_url
    from adapters.event_store import EventsourcingStore

    store = EventsourcingStore(parse_database_url(database_url), pool_size=2, cache_size=0)
    try:
        counts: dict[str, int] = {}
        for e in store.all_events():
            if e.cause is not None and e.cause.kind == "timer":
                counts[e.cause.ref] = counts.get(e.cause.ref, 0) + 1
        return counts
    finally:
        store.close()


def assert_books_balance(database_url: str, emulator: Emulator) -> None:
    """CONTRACT §5 over the events and the emulator's intents, and ``audit verify``."""
    from adapters.database import parse_database_url
    from adapters.event_store import EventsourcingStore
    from checkout_saga.invariants import check_invariants

    provider: dict = {}
    for intent in emulator.intents():
        provider.setdefault(intent.checkout_id, []).append(intent)
    store = EventsourcingStore(parse_database_url(database_url), pool_size=2)
    try:
        assert check_invariants(store.all_events(), provider) == []
    finally:
        store.close()
    audit = subprocess.run([sys.executable, "-m", "cli.main", "audit", "verify"], cwd=ROOT,
                           env=base_env(database_url, emulator.base), capture_output=True,
                           text=True, timeout=60)
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]


@pytest.fixture
def emulator():
    running = Emulator()
    yield running
    running.stop()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(90)
def test_kill_9_mid_burst_then_restart_loses_no_money_and_no_stock(pg_database_url, emulator):
    rng = random.Random(SEED)
    port = free_port()
    env = base_env(pg_database_url, emulator.base)
    emulator.send_webhooks_to(f"http://127.0.0.1:{port}/webhooks/stripe")
    methods = ["pm_card_visa", "pm_card_visa", None, "pm_card_authenticationRequired",
               "pm_card_chargeDeclined"]
    server = Server(env, port)
    stock_the_shop(server.base)
    sessions = 0
    try:
        for _ in range(ROUNDS):
            bodies = [checkout_body(f"cs_kill_{(sessions := sessions + 1):06d}", rng.choice(methods))
                      for _ in range(BURST)]
            with ThreadPoolExecutor(max_workers=8) as pool:
                futures = [pool.submit(post_checkout, server.base, body) for body in bodies]
                time.sleep(rng.uniform(0.1, 1.0))
                server.kill9()  # mid-burst
                [f.result() for f in futures]
            server = Server(env, port)
            if rng.random() < 0.5:
                time.sleep(rng.uniform(0.5, 6.5))
                server.kill9()  # again, while its worker may be recovering the last burst
                server = Server(env, port)

        with client(server.base, ADMIN_KEY) as admin:
            wait_until(lambda: not statuses(pg_database_url).get("processing") and admin.get(
                "/ops/checkouts", params={"status": "processing"}).json()["items"] == []
                and documents_owed(pg_database_url) == 0,
                RECOVERY_BOUND_SECONDS, "nothing left processing, no invoice owed")
    finally:
        server.stop()
    final = statuses(pg_database_url)
    print("statuses after recovery:", final, "resumed by timers:", timer_resumes(pg_database_url))
    assert final.get("completed", 0) > 0 and sum(final.values()) <= ROUNDS * BURST
    assert_books_balance(pg_database_url, emulator)
