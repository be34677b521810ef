"""The circuit breaker with the real Stripe gateway: the emulator fails every call until the
breaker opens; a new checkout is then refused with 503 and Retry-After and reserves nothing
(CONTRACT §3.1 v2: "with the real Stripe gateway too")."""

from __future__ import annotations

import httpx
import pytest
from litestar.testing import TestClient

from adapters.circuit_breaker import BreakerSettings
from adapters.clock import SystemClock
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from api.app import create_app
from tests.conftest import system_for
from tests.integration.api_support import (
    ADMIN,
    STORE,
    FakeReadModels,
    api_settings,
    assert_problem,
    checkout_body,
)
from tests.plugins.emulator import TEST_API_KEY

THRESHOLD = 3
COOLDOWN_SECONDS = 30.0


@pytest.fixture
def stripe_gateway(stripe_emulator):
    gateway = StripePaymentGateway(StripeGatewayConfig(
        api_key=TEST_API_KEY, api_base=stripe_emulator.base_url, max_network_retries=0,
        timeout_seconds=5.0,
        breaker=BreakerSettings(failure_threshold=THRESHOLD, cooldown_seconds=COOLDOWN_SECONDS)))
    yield gateway
    gateway.close()


@pytest.fixture
def stripe_client(store, stripe_gateway, database_url):
    system = system_for(store, stripe_gateway, SystemClock(), settings=api_settings(database_url),
                        read_models=FakeReadModels())
    with TestClient(create_app(system)) as client:
        assert client.put("/sellers/acct_1", json={"charges_enabled": True}, headers=ADMIN).status_code == 200
        product = {"name": "T-shirt M", "unit_amount": 1999, "currency": "usd",
                   "seller_id": "acct_1", "active": True}
        assert client.put("/products/TSHIRT-M", json=product, headers=ADMIN).status_code == 200
        assert client.post("/inventory/TSHIRT-M/adjustments", json={"delta": 10, "reason": "initial"},
                           headers=ADMIN).status_code == 200
        yield client


def fail_every_call(emulator) -> None:
    response = httpx.post(f"{emulator.base_url}/_emulator/faults",
                          json={"fault": "error_500", "times": 1000}, timeout=5)
    response.raise_for_status()


def reserved(client) -> int:
    return client.get("/inventory/TSHIRT-M", headers=STORE).json()["reserved"]


def test_once_stripe_keeps_failing_a_new_checkout_is_503_with_retry_after_and_reserves_nothing(
    stripe_client, stripe_gateway, stripe_emulator,
):
    fail_every_call(stripe_emulator)
    for n in range(THRESHOLD):  # each start's create-intent fails: its outcome is unknown
        response = stripe_client.post("/checkouts", json=checkout_body(f"cs_breaker_{n:04d}",
                                                                       **{"TSHIRT-M": 1}), headers=STORE)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "processing"
    assert not stripe_gateway.is_available()
    held = reserved(stripe_client)

    response = stripe_client.post("/checkouts", json=checkout_body("cs_breaker_open", **{"TSHIRT-M": 1}),
                                  headers=STORE)

    assert_problem(response, 503, "payment_provider_unavailable")
    assert 1 <= int(response.headers["Retry-After"]) <= COOLDOWN_SECONDS
    assert reserved(stripe_client) == held == THRESHOLD
    replay = stripe_client.post("/checkouts", json=checkout_body("cs_breaker_open", **{"TSHIRT-M": 1}),
                                headers=STORE)
    assert_problem(replay, 503, "payment_provider_unavailable")  # nothing was recorded for it
