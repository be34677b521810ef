"""CHECKOUT_SAGA_LOG_FORMAT=json (CONTRACT §1): every line the real server writes, on stdout
and stderr, the libraries' included (uvicorn, the Stripe SDK, httpx, APScheduler), is one
JSON object, and none carries a secret or a card number. The server runs as a subprocess
against the Stripe emulator in its own process, with a real Stripe secret key configured."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.http_helpers import (
    ADMIN_KEY,
    STORE_KEY,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    EmulatorProcess,
    ServerProcess,
    Shop,
)

CARD_NUMBER = "4242424242424242"
SECRETS = (STRIPE_KEY, WEBHOOK_SECRET, STORE_KEY, ADMIN_KEY, CARD_NUMBER)


@pytest.fixture(scope="module")
def emulator():
    with EmulatorProcess() as process:
        yield process


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('json_logs')}/checkout-saga.db"
    process = ServerProcess(url, stripe_api_base=emulator.base_url,
                            extra_env={"CHECKOUT_SAGA_LOG_FORMAT": "json"}).start()
    yield process
    process.stop()


def _exercise(shop: Shop) -> None:
    """A paid checkout, a declined one, bad requests and a 404: lines from every layer."""
    sku = shop.product(stock=5)
    assert shop.start_checkout(sku).status_code == 201
    assert shop.start_checkout(sku, payment_method="pm_card_chargeDeclined").status_code == 402
    assert shop.store.post("/checkouts", content=b"[" * 5000).status_code == 400
    assert shop.store.get("/orders/ord_missing").status_code == 404
    time.sleep(1.5)  # a worker sweep or two, and the webhooks' deliveries


def test_every_line_of_the_server_is_json_and_none_carries_a_secret(server):
    shop = Shop(server.base_url)
    try:
        _exercise(shop)
    finally:
        shop.close()
    server.stop_gracefully()

    lines = [line for line in server.full_output().splitlines() if line.strip()]

    assert lines, "the server wrote nothing"
    not_json = [line for line in lines if not _is_json_object(line)]
    assert not_json == [], not_json[:5]
    leaked = [line for line in lines if any(secret in line for secret in SECRETS)]
    assert leaked == [], leaked[:5]
    events = {json.loads(line).get("event") for line in lines}
    assert {"request", "serving"} <= events, sorted(map(str, events))
    idle = [line for line in lines if json.loads(line).get("logger", "").startswith("apscheduler")]
    assert idle == [], idle[:2]  # the worker's every-second ticks are DEBUG


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
