"""Concurrent duplicates of one write with one Idempotency-Key, over real HTTP (uvicorn on
loopback, in a thread) and a real database: the write is applied exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from api.app import create_app
from application.catalog_service import CatalogService
from tests.conftest import system_for
from tests.e2e.http_helpers import eventually, free_port
from tests.integration.api_support import ADMIN, FakeReadModels, api_settings

DUPLICATES = 4


class SlowAdjustments(CatalogService):
    """Holds each adjustment a moment, so that the duplicates all arrive while the first runs."""

    def adjust_stock(self, *args, **kwargs):
        time.sleep(0.3)
        return super().adjust_stock(*args, **kwargs)


@pytest.fixture
def server(store, gateway, clock, database_url):
    system = system_for(store, gateway, clock, settings=api_settings(database_url),
                        read_models=FakeReadModels())
    system.catalog = SlowAdjustments(system.catalog.runner)
    app = create_app(system)
    port = free_port()
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                   access_log=False))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    eventually(lambda: uvicorn_server.started, timeout=20, what="uvicorn started")
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=20)


def _put_product(client):
    product = {"name": "Mug", "unit_amount": 1250, "currency": "usd", "seller_id": "acct_1", "active": True}
    assert client.put("/products/MUG", json=product, headers=ADMIN).status_code == 200


def test_four_concurrent_adjustments_with_one_key_add_the_delta_once(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        _put_product(client)
        start = threading.Barrier(DUPLICATES)

        def adjust(_):
            start.wait(timeout=10)
            return client.post("/inventory/MUG/adjustments", json={"delta": 5, "reason": "restock"},
                               headers={**ADMIN, "Idempotency-Key": "restock-2026-12-01"})

        with ThreadPoolExecutor(DUPLICATES) as pool:
            responses = list(pool.map(adjust, range(DUPLICATES)))
        level = client.get("/inventory/MUG", headers=ADMIN).json()

    assert level["on_hand"] == 5
    answered = [r for r in responses if r.status_code == 200]
    assert answered and all(r.json()["on_hand"] == 5 for r in answered)
    assert all(r.status_code == 200 or (r.status_code == 409 and r.json()["code"] == "idempotency_key_in_use")
               for r in responses), [r.text for r in responses]


def test_a_good_card_racing_a_declined_one_on_confirm_is_charged_and_answered_200(server):
    from tests.integration.api_support import STORE, checkout_body

    with httpx.Client(base_url=server, timeout=30) as client:
        _put_product(client)
        assert client.put("/sellers/acct_1", json={"charges_enabled": True}, headers=ADMIN).status_code == 200
        assert client.post("/inventory/MUG/adjustments", json={"delta": 3, "reason": "initial"},
                           headers=ADMIN).status_code == 200
        declined = client.post("/checkouts", json=checkout_body("cs_race_cards_http", "pm_card_chargeDeclined",
                                                                MUG=1), headers=STORE)
        assert declined.status_code == 402, declined.text
        confirm = f"/checkouts/{declined.json()['checkout_id']}/confirm"
        start = threading.Barrier(2)

        def attempt(card):
            start.wait(timeout=10)
            return client.post(confirm, json={"payment_method": card}, headers=STORE)

        with ThreadPoolExecutor(2) as pool:
            good, bad = pool.map(attempt, ["pm_card_visa", "pm_card_chargeDeclined"])

    assert good.status_code == 200, good.text
    assert good.json()["status"] == "completed"
    assert bad.status_code in (200, 402), bad.text
