"""Webhooks: signed as Stripe signs them, retried until acknowledged, and duplicated,
reordered or lost when a fault asks for it."""

from __future__ import annotations

import json

import httpx
import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.plugins.emulator import (
    FAST_CONFIG,
    TEST_WEBHOOK_SECRET,
    eventually,
    stripe_client_for,
)

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


@pytest.fixture
def endpoint(stripe_emulator, webhook_receiver):
    response = httpx.post(
        f"{stripe_emulator.base_url}/_emulator/webhook_endpoints",
        json={"url": webhook_receiver.url, "secret": TEST_WEBHOOK_SECRET},
    )
    response.raise_for_status()
    return webhook_receiver


def _intent(client: stripe.StripeClient) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 700, "currency": "usd"})


def _event_ids(hooks) -> list[str]:
    return [json.loads(hook.payload)["id"] for hook in hooks]


def _fault(emulator, fault: str) -> None:
    httpx.post(f"{emulator.base_url}/_emulator/faults", json={"fault": fault}).raise_for_status()


def test_each_event_is_delivered_with_a_signature_stripe_verifies(client, endpoint):
    intent = _intent(client)

    [hook] = endpoint.wait_for_acknowledged(1)

    event = stripe.Webhook.construct_event(hook.payload, hook.signature, TEST_WEBHOOK_SECRET)
    assert event.type == "payment_intent.created"
    assert event.data.object.id == intent.id


def test_a_signature_does_not_verify_with_another_secret(client, endpoint):
    _intent(client)
    [hook] = endpoint.wait_for_acknowledged(1)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(hook.payload, hook.signature, "whsec_someone_else")


def test_a_webhook_is_retried_until_the_endpoint_acknowledges_it(client, endpoint):
    endpoint.respond_with(500, 503)
    _intent(client)

    [hook] = endpoint.wait_for_acknowledged(1)

    assert [h.status for h in endpoint.received] == [500, 503, 200]
    assert {h.payload for h in endpoint.received} == {hook.payload}


def test_delivery_attempts_are_listed_for_inspection(client, endpoint, stripe_emulator):
    endpoint.respond_with(500)
    _intent(client)
    endpoint.wait_for_acknowledged(1)

    deliveries = httpx.get(f"{stripe_emulator.base_url}/_emulator/webhook_deliveries").json()[
        "data"
    ]

    assert [(d["attempt"], d["outcome"]) for d in deliveries] == [(1, "failed"), (2, "succeeded")]


def test_an_acknowledged_event_has_no_pending_webhooks(client, endpoint):
    _intent(client)
    [hook] = endpoint.wait_for_acknowledged(1)
    event_id = json.loads(hook.payload)["id"]

    assert eventually(lambda: client.v1.events.retrieve(event_id).pending_webhooks == 0)


def test_events_are_delivered_in_creation_order(client, endpoint):
    for _ in range(3):
        _intent(client)

    hooks = endpoint.wait_for_acknowledged(3)

    expected = [e.id for e in reversed(client.v1.events.list().data)]
    assert _event_ids(hooks) == expected


def test_a_duplicate_webhook_fault_delivers_the_next_event_twice(client, endpoint, stripe_emulator):
    _fault(stripe_emulator, "duplicate_webhook")
    _intent(client)

    hooks = endpoint.wait_for_acknowledged(2)

    assert len(set(_event_ids(hooks))) == 1


def test_a_reorder_fault_delivers_the_next_two_events_swapped(client, endpoint, stripe_emulator):
    _fault(stripe_emulator, "reorder_webhooks")
    _intent(client)
    _intent(client)

    hooks = endpoint.wait_for_acknowledged(2)

    created_order = [e.id for e in reversed(client.v1.events.list().data)]
    assert _event_ids(hooks) == created_order[::-1]


def test_a_dropped_webhook_is_never_delivered_but_is_listed_in_events(
    client, endpoint, stripe_emulator
):
    _fault(stripe_emulator, "drop_webhook")
    _intent(client)
    _intent(client)

    hooks = endpoint.wait_for_acknowledged(1)

    first, second = (e.id for e in reversed(client.v1.events.list().data))
    assert _event_ids(hooks) == [second]
    assert client.v1.events.retrieve(first).type == "payment_intent.created"


def test_an_endpoint_given_to_the_server_receives_events(stripe_emulator, webhook_receiver, client):
    stripe_emulator.register_webhook_endpoint(webhook_receiver.url, TEST_WEBHOOK_SECRET)

    _intent(client)

    [hook] = webhook_receiver.wait_for_acknowledged(1)
    assert stripe.Webhook.construct_event(hook.payload, hook.signature, TEST_WEBHOOK_SECRET)


def test_the_constructors_endpoint_survives_a_reset(webhook_receiver):
    server = EmulatorServer(
        webhook_secret=TEST_WEBHOOK_SECRET, webhook_url=webhook_receiver.url, config=FAST_CONFIG
    ).start()
    try:
        server.reset()
        _intent(stripe_client_for(server))

        [hook] = webhook_receiver.wait_for_acknowledged(1)
    finally:
        server.stop()
    assert stripe.Webhook.construct_event(hook.payload, hook.signature, TEST_WEBHOOK_SECRET)
