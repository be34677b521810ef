"""Injected request faults, as the product's gateway meets them through the stripe SDK:
which exception it sees, and whether the effect happened."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.plugins.emulator import eventually, stripe_client_for

pytest_plugins = ["tests.plugins.emulator"]

PARAMS = {
    "amount": 1200,
    "currency": "usd",
    "capture_method": "manual",
    "payment_method": "pm_card_visa",
    "confirm": True,
}


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _inject(emulator, fault: str, path: str = "/v1/payment_intents", **extra) -> dict:
    response = httpx.post(
        f"{emulator.base_url}/_emulator/faults",
        json={"method": "POST", "path": path, "fault": fault, "times": 1, **extra},
    )
    response.raise_for_status()
    return response.json()


def test_an_injected_500_raises_api_error_and_changes_nothing(client, stripe_emulator):
    _inject(stripe_emulator, "error_500")

    with pytest.raises(stripe.APIError) as raised:
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k1"})

    assert raised.value.http_status == 500
    assert client.v1.payment_intents.list().data == []


def test_after_an_injected_500_a_retry_with_the_same_key_runs_for_real(client, stripe_emulator):
    _inject(stripe_emulator, "error_500")
    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k1"})

    intent = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k1"})

    assert intent.status == "requires_capture"


def test_rate_limiting_raises_rate_limit_error_and_changes_nothing(client, stripe_emulator):
    _inject(stripe_emulator, "rate_limit")

    with pytest.raises(stripe.RateLimitError) as raised:
        client.v1.payment_intents.create(params=PARAMS)

    assert raised.value.http_status == 429
    assert client.v1.payment_intents.list().data == []


def test_a_fault_path_with_a_placeholder_matches_any_id(client, stripe_emulator):
    intent = client.v1.payment_intents.create(params=PARAMS)
    _inject(stripe_emulator, "error_500", "/v1/payment_intents/{id}/capture")

    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.capture(intent.id)

    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_a_fault_affects_only_as_many_requests_as_asked(client, stripe_emulator):
    _inject(stripe_emulator, "rate_limit", times=2)
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            client.v1.payment_intents.create(params=PARAMS)

    assert client.v1.payment_intents.create(params=PARAMS).status == "requires_capture"


def test_a_dropped_response_is_a_connection_error_although_the_effect_happened(
    client, stripe_emulator
):
    intent = client.v1.payment_intents.create(params=PARAMS)
    _inject(stripe_emulator, "drop_response", "/v1/payment_intents/{id}/capture")

    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.capture(intent.id, options={"idempotency_key": "cap"})

    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_after_a_dropped_response_a_replay_with_the_same_key_returns_the_object(
    client, stripe_emulator
):
    _inject(stripe_emulator, "drop_response")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "lost"})

    replayed = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "lost"})

    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert [i.id for i in client.v1.payment_intents.list().data] == [replayed.id]


def test_a_timeout_makes_the_client_give_up_although_the_effect_happened(stripe_emulator, client):
    intent = client.v1.payment_intents.create(params=PARAMS)
    _inject(stripe_emulator, "timeout", "/v1/payment_intents/{id}/cancel", delay_seconds=1.0)
    impatient = stripe_client_for(stripe_emulator, timeout=0.2)

    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.payment_intents.cancel(intent.id, options={"idempotency_key": "cancel"})

    assert client.v1.payment_intents.retrieve(intent.id).status == "canceled"


def test_after_a_timeout_a_replay_with_the_same_key_returns_the_stored_reply(
    stripe_emulator, client
):
    _inject(stripe_emulator, "timeout", delay_seconds=0.5)
    impatient = stripe_client_for(stripe_emulator, timeout=0.2)
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "late"})

    def replay() -> stripe.PaymentIntent | None:
        try:
            return client.v1.payment_intents.create(
                params=PARAMS, options={"idempotency_key": "late"}
            )
        except stripe.APIError as busy:  # 409 while the first request still holds the key
            assert busy.http_status == 409
            return None

    replayed = eventually(replay)
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"


def test_an_unknown_fault_is_refused(stripe_emulator):
    response = httpx.post(
        f"{stripe_emulator.base_url}/_emulator/faults",
        json={"path": "/v1/payment_intents", "fault": "meteor"},
    )

    assert response.status_code == 400


def test_a_webhook_fault_with_a_path_is_refused(stripe_emulator):
    response = httpx.post(
        f"{stripe_emulator.base_url}/_emulator/faults",
        json={"path": "/v1/payment_intents", "fault": "drop_webhook"},
    )

    assert response.status_code == 400
