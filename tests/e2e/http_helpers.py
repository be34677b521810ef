"""Helpers for end-to-end tests (and HTTP benches): the real server as a subprocess
(``python -m cli.main serve``) on a free loopback port, a standalone emulator process,
a PostgreSQL database per module, and small HTTP clients for the shop and the emulator.

Everything binds 127.0.0.1; every wait is bounded."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import stripe

ROOT = Path(__file__).resolve().parents[2]
STORE_KEY = "sk_store_e2e_0123456789"
ADMIN_KEY = "sk_admin_e2e_0123456789"
WEBHOOK_SECRET = "whsec_e2e_0123456789abcdef"
STRIPE_KEY = "sk_test_e2e_emulator"
PG_ADMIN = "host=127.0.0.1 port=5432 user=root dbname=postgres connect_timeout=3"
_STRIPE_VARS = ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET")

T = TypeVar("T")


class Unavailable(RuntimeError):
    """A prerequisite (PostgreSQL) is not reachable; the caller skips or fails."""


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05,
               what: str = "condition") -> T:
    """The first truthy result of ``probe``, or AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s (last: {result!r})")
        time.sleep(interval)


# --- processes ---------------------------------------------------------------------------


def _base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIPE_VARS}
    env.update({"CHECKOUT_SAGA_API_KEYS": STORE_KEY, "CHECKOUT_SAGA_ADMIN_KEYS": ADMIN_KEY,
                "CHECKOUT_SAGA_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """``checkout-saga serve`` as a subprocess. With ``stripe_api_base`` unset the built-in
    emulator runs in the server on ``emulator_port`` (signing with WEBHOOK_SECRET)."""

    database_url: str
    stripe_api_base: str | None = None
    port: int = field(default_factory=free_port)
    emulator_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()  # e.g. ("--no-worker",)
    process: subprocess.Popen | None = None
    _log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def emulator_url(self) -> str:
        return self.stripe_api_base or f"http://127.0.0.1:{self.emulator_port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/stripe"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = _base_env(CHECKOUT_SAGA_DATABASE_URL=self.database_url,
                        CHECKOUT_SAGA_STRIPE_EMULATOR_PORT=str(self.emulator_port),
                        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, **self.extra_env)
        if self.stripe_api_base:
            env.update(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_API_BASE=self.stripe_api_base)
        self._log = tempfile.TemporaryFile(mode="w+")  # never a full pipe that blocks the server
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), *self.extra_args],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, text=True)
        _wait_ready(f"{self.base_url}/readyz", self.process, timeout, self.output)
        return self

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-4000:]

    def full_output(self) -> str:
        """Everything the server wrote (stdout and stderr), from its first line."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()

    def stop_gracefully(self) -> None:
        """SIGTERM (then wait), keeping the output for ``full_output``."""
        _stop(self.process)

    def stop(self) -> None:
        _stop(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class EmulatorProcess:
    """``checkout-saga stripe-emulator`` as its own process, signing with WEBHOOK_SECRET."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> EmulatorProcess:
        env = _base_env(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "stripe-emulator", "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ready(f"{self.base_url}/_emulator/health", self.process, timeout, lambda: "")
        return self

    def stop(self) -> None:
        _stop(self.process)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_ready(url: str, process: subprocess.Popen, timeout: float,
                output: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"{url}: process exited {process.returncode}: {output()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    _stop(process)
    raise ServerFailed(f"{url} did not become ready within {timeout}s: {output()}")


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards; Unavailable when
    the server does not answer."""
    import psycopg

    name = f"cs_e2e_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise Unavailable(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__})") from None
    try:
        yield f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- clients -----------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def checkout_body(session_id: str, sku: str, quantity: int = 1,
                  payment_method: str | None = "pm_card_visa", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "checkout_session_id": session_id, "currency": "usd",
        "customer": {"id": "cus_e2e", "email": "ada@example.com"},
        "items": [{"sku": sku, "quantity": quantity}]}
    if payment_method is not None:
        body["payment_method"] = payment_method
    return body | extra


class Shop:
    """The API as a storefront (``store``) and an operator (``admin``) use it."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.admin = httpx.Client(base_url=base_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        self.store = httpx.Client(base_url=base_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {STORE_KEY}"})

    def product(self, stock: int, unit_amount: int = 1999, seller: str = "acct_e2e") -> str:
        """A new SKU of a seller who can take payments, with ``stock`` units."""
        sku = unique("SKU").upper()
        self.admin.put(f"/sellers/{seller}", json={"charges_enabled": True}).raise_for_status()
        self.admin.put(f"/products/{sku}", json={
            "name": sku, "unit_amount": unit_amount, "currency": "usd", "seller_id": seller,
            "active": True}).raise_for_status()
        self.admin.post(f"/inventory/{sku}/adjustments",
                        json={"delta": stock, "reason": "initial"}).raise_for_status()
        return sku

    def start_checkout(self, sku: str, quantity: int = 1, payment_method: str | None = "pm_card_visa",
                       **extra: Any) -> httpx.Response:
        return self.store.post("/checkouts", json=checkout_body(
            unique("cs_e2e"), sku, quantity, payment_method, **extra))

    def checkout(self, checkout_id: str) -> dict[str, Any]:
        response = self.store.get(f"/checkouts/{checkout_id}")
        response.raise_for_status()
        return response.json()

    def wait_for_status(self, checkout_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            checkout = self.checkout(checkout_id)
            return checkout if checkout["status"] == status else None

        return eventually(probe, timeout, what=f"checkout {checkout_id} {status}")

    def history(self, checkout_id: str) -> list[str]:
        response = self.store.get(f"/checkouts/{checkout_id}/events")
        response.raise_for_status()
        return [event["type"] for event in response.json()["events"]]

    def inventory(self, sku: str) -> dict[str, Any]:
        response = self.store.get(f"/inventory/{sku}")
        response.raise_for_status()
        return response.json()

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.store.get(f"/orders/{order_id}")
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.admin.close()
        self.store.close()


class EmulatorControl:
    """The emulator's Stripe API (as a merchant) and its ``/_emulator`` control routes."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {STRIPE_KEY}"})

    def intents_for(self, checkout_id: str) -> list[dict[str, Any]]:
        """Every PaymentIntent whose metadata names this checkout."""
        response = self.http.get("/v1/payment_intents", params={"limit": 100})
        response.raise_for_status()
        return [pi for pi in response.json()["data"]
                if pi.get("metadata", {}).get("checkout_id") == checkout_id]

    def events(self, event_type: str, payment_intent_id: str) -> list[dict[str, Any]]:
        """Events of a type whose object is (or belongs to) the intent."""
        response = self.http.get("/v1/events", params={"type": event_type, "limit": 100})
        response.raise_for_status()
        found = []
        for event in response.json()["data"]:
            obj = event["data"]["object"]
            if payment_intent_id in (obj.get("id"), obj.get("payment_intent")):
                found.append(event)
        return found

    def captures(self, payment_intent_id: str) -> int:
        return len(self.events("charge.captured", payment_intent_id))

    def authenticate(self, payment_intent_id: str, outcome: str = "succeed") -> None:
        self.http.post(f"/_emulator/payment_intents/{payment_intent_id}/authenticate",
                       json={"outcome": outcome}).raise_for_status()

    def fault(self, fault: str, *, method: str | None = None, path: str | None = None,
              times: int = 1, delay_seconds: float | None = None) -> None:
        body: dict[str, Any] = {"fault": fault, "times": times}
        if method:
            body["method"] = method
        if path:
            body["path"] = path
        if delay_seconds is not None:
            body["delay_seconds"] = delay_seconds
        self.http.post("/_emulator/faults", json=body).raise_for_status()

    def armed_faults(self) -> list[dict[str, Any]]:
        return self.http.get("/_emulator/faults").json()["data"]

    def register_webhook_endpoint(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        self.http.post("/_emulator/webhook_endpoints",
                       json={"url": url, "secret": secret}).raise_for_status()

    def deliveries(self, event_id: str) -> list[dict[str, Any]]:
        data = self.http.get("/_emulator/webhook_deliveries").json()["data"]
        return [d for d in data if d["event"] == event_id]

    def close(self) -> None:
        self.http.close()


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET,
           timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The event as Stripe would POST it: body and ``Stripe-Signature``."""
    payload = json.dumps(event, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


@contextlib.contextmanager
def server_with_test_emulator(database_url: str) -> Iterator[tuple[ServerProcess, Any]]:
    """The emulator in this process with short delays (``FAST_CONFIG``), and the server as a
    subprocess using it as its Stripe (``STRIPE_API_BASE``), webhooks registered to it."""
    from stripe_emulator import EmulatorServer
    from tests.plugins.emulator import FAST_CONFIG

    emulator = EmulatorServer(webhook_secret=WEBHOOK_SECRET, config=FAST_CONFIG).start()
    try:
        server = ServerProcess(database_url, stripe_api_base=emulator.base_url)
        emulator.register_webhook_endpoint(server.webhook_url, WEBHOOK_SECRET)
        with server:
            yield server, emulator
    finally:
        emulator.stop()
