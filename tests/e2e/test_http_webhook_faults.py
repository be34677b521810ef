"""Stripe webhooks that arrive twice, out of order, late or never, across the whole 3-D
Secure flow of the real server (SQLite; the emulator in this process with short delays):
state never moves backwards and nothing is applied twice. Forged webhooks are refused and
leave no trace."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.http_helpers import (
    EmulatorControl,
    Shop,
    eventually,
    server_with_test_emulator,
    signed,
)

AUTHORIZED = "payment_intent.amount_capturable_updated"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    database = tmp_path_factory.mktemp("webhook_faults") / "e2e.db"
    with server_with_test_emulator(f"sqlite:///{database}") as (server, emulator):
        shop, control = Shop(server.base_url), EmulatorControl(emulator.base_url)
        yield server, shop, control
        shop.close()
        control.close()


@pytest.fixture
def shop(world):
    return world[1]


@pytest.fixture
def stripe_side(world):
    return world[2]


@pytest.fixture
def webhook(world):
    server = world[0]
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield lambda body, headers: client.post("/webhooks/stripe", content=body, headers=headers)


def _awaiting_3ds(shop) -> tuple[str, str]:
    sku = shop.product(stock=5)
    started = shop.start_checkout(sku, payment_method="pm_card_authenticationRequired",
                                  return_url="https://shop.example.com/return")
    assert started.status_code == 201 and started.json()["status"] == "requires_action", started.text
    return started.json()["checkout_id"], started.json()["payment"]["payment_intent_id"]


def _event(stripe_side, event_type: str, intent_id: str) -> dict:
    return eventually(lambda: next(iter(stripe_side.events(event_type, intent_id)), None),
                      what=f"{event_type} for {intent_id}")


def _acknowledged(stripe_side, event_id: str, count: int = 1) -> list[dict]:
    def probe():
        done = [d for d in stripe_side.deliveries(event_id) if d["outcome"] == "succeeded"]
        return done if len(done) >= count else None

    return eventually(probe, timeout=15, what=f"{count} acknowledged deliveries of {event_id}")


def _delivered(stripe_side, event_id: str) -> list[dict]:
    return [d for d in stripe_side.deliveries(event_id) if d["outcome"] != "dropped"]


def _applied_once(shop, stripe_side, checkout_id: str, intent_id: str) -> None:
    checkout = shop.checkout(checkout_id)
    assert checkout["status"] == "completed"
    assert shop.history(checkout_id).count("CheckoutCompleted") == 1
    assert stripe_side.captures(intent_id) == 1
    assert len(stripe_side.intents_for(checkout_id)) == 1


def test_duplicated_webhooks_are_applied_once(shop, stripe_side):
    checkout_id, intent_id = _awaiting_3ds(shop)
    stripe_side.fault("duplicate_webhook", times=4)

    stripe_side.authenticate(intent_id)

    shop.wait_for_status(checkout_id, "completed", timeout=15)
    _acknowledged(stripe_side, _event(stripe_side, AUTHORIZED, intent_id)["id"], count=2)
    _acknowledged(stripe_side, _event(stripe_side, "payment_intent.succeeded", intent_id)["id"],
                  count=2)
    _applied_once(shop, stripe_side, checkout_id, intent_id)


def test_reordered_webhooks_never_move_the_checkout_backwards(shop, stripe_side):
    checkout_id, intent_id = _awaiting_3ds(shop)
    stripe_side.fault("reorder_webhooks", times=2)

    stripe_side.authenticate(intent_id)

    shop.wait_for_status(checkout_id, "completed", timeout=15)
    for event_type in ("charge.succeeded", AUTHORIZED, "charge.captured", "payment_intent.succeeded"):
        _acknowledged(stripe_side, _event(stripe_side, event_type, intent_id)["id"])
    _applied_once(shop, stripe_side, checkout_id, intent_id)


def test_a_dropped_authorization_webhook_redelivered_completes_the_checkout_once(
        shop, stripe_side, webhook):
    checkout_id, intent_id = _awaiting_3ds(shop)
    stripe_side.fault("drop_webhook", times=2)  # charge.succeeded and the authorization
    stripe_side.authenticate(intent_id)
    authorized = _event(stripe_side, AUTHORIZED, intent_id)
    assert _delivered(stripe_side, authorized["id"]) == []

    first = webhook(*signed(authorized))
    again = webhook(*signed(authorized))

    assert (first.status_code, first.json()["duplicate"]) == (200, False), first.text
    assert (again.status_code, again.json()["duplicate"]) == (200, True), again.text
    shop.wait_for_status(checkout_id, "completed", timeout=15)
    _applied_once(shop, stripe_side, checkout_id, intent_id)


def test_a_requires_action_webhook_delivered_after_completion_changes_nothing(
        shop, stripe_side, webhook):
    stripe_side.fault("drop_webhook", times=2)  # payment_intent.created and .requires_action
    checkout_id, intent_id = _awaiting_3ds(shop)
    stripe_side.authenticate(intent_id)
    shop.wait_for_status(checkout_id, "completed", timeout=15)
    _acknowledged(stripe_side, _event(stripe_side, "payment_intent.succeeded", intent_id)["id"])
    late = _event(stripe_side, "payment_intent.requires_action", intent_id)
    assert _delivered(stripe_side, late["id"]) == []

    response = webhook(*signed(late))

    assert (response.status_code, response.json()["duplicate"]) == (200, False), response.text
    time.sleep(0.3)  # anything the late event could set off has had its chance
    _applied_once(shop, stripe_side, checkout_id, intent_id)


def _forged(kind: str, event: dict) -> tuple[bytes, dict[str, str]]:
    body, headers = signed(event)
    if kind == "tampered":
        return body.replace(b'"livemode":false', b'"livemode":true '), headers
    if kind == "stale":
        return signed(event, timestamp=int(time.time()) - 600)
    if kind == "wrong_secret":
        return signed(event, secret="whsec_not_the_right_one")
    return body, {"Content-Type": "application/json"}  # missing


@pytest.mark.parametrize("kind", ["tampered", "stale", "wrong_secret", "missing"])
def test_a_forged_webhook_is_refused_and_nothing_is_recorded(webhook, kind):
    event = {"id": f"evt_e2e_{uuid.uuid4().hex[:20]}", "object": "event", "type": "customer.created",
             "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
             "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "data": {"object": {"id": "cus_e2e", "object": "customer"}}}

    refused = webhook(*_forged(kind, event))

    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "invalid_signature"
    genuine = webhook(*signed(event))
    assert (genuine.status_code, genuine.json()["duplicate"]) == (200, False), genuine.text
