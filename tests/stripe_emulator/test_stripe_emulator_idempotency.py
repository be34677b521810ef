"""Idempotency keys, as Stripe honours them: replay, reuse with other parameters, and a
key still in use."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.plugins.emulator import stripe_client_for

pytest_plugins = ["tests.plugins.emulator"]

PARAMS = {
    "amount": 1500,
    "currency": "usd",
    "capture_method": "manual",
    "metadata": {"checkout_id": "chk_1"},
}


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def test_a_replayed_key_returns_the_same_object_without_a_second_effect(client):
    first = client.v1.payment_intents.create(
        params=PARAMS, options={"idempotency_key": "chk_1:create"}
    )

    second = client.v1.payment_intents.create(
        params=PARAMS, options={"idempotency_key": "chk_1:create"}
    )

    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.payment_intents.list().data) == 1


def test_parameters_in_another_order_are_the_same_request(client):
    first = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k"})

    reordered = dict(reversed(list(PARAMS.items())))
    second = client.v1.payment_intents.create(params=reordered, options={"idempotency_key": "k"})

    assert second.id == first.id


def test_a_replayed_error_is_the_same_error(client):
    options = {"idempotency_key": "chk_2:confirm"}
    params = {**PARAMS, "payment_method": "pm_card_chargeDeclined", "confirm": True}
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.create(params=params, options=options)

    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_intents.create(params=params, options=options)

    assert second.value.json_body == first.value.json_body
    assert second.value.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_other_parameters_is_an_idempotency_error(client):
    client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "chk_3:create"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(
            params={**PARAMS, "amount": 1}, options={"idempotency_key": "chk_3:create"}
        )


def test_the_same_key_on_another_endpoint_is_an_idempotency_error(client):
    intent = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "shared"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.cancel(intent.id, options={"idempotency_key": "shared"})


def test_a_parameter_error_is_not_stored_so_the_key_can_be_used_again(client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            params={"currency": "usd"}, options={"idempotency_key": "k4"}
        )

    intent = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k4"})

    assert intent.status == "requires_payment_method"


def test_a_key_whose_first_request_is_still_running_is_a_409_conflict(client, stripe_emulator):
    httpx.post(
        f"{stripe_emulator.base_url}/_emulator/faults",
        json={
            "method": "POST",
            "path": "/v1/payment_intents",
            "fault": "timeout",
            "delay_seconds": 2,
        },
    ).raise_for_status()
    impatient = stripe_client_for(stripe_emulator, timeout=0.2)
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "slow"})

    with pytest.raises(stripe.APIError) as raised:
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "slow"})

    assert raised.value.http_status == 409
    assert raised.value.error.code == "idempotency_key_in_use"
