"""Events: every state change is recorded with a snapshot of the object at that time,
listable by type and creation time."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.plugins.emulator import stripe_client_for

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _types(client: stripe.StripeClient) -> list[str]:
    return [event.type for event in reversed(client.v1.events.list(params={"limit": 100}).data)]


def _authorised(client: stripe.StripeClient) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"checkout_id": "chk_ev"},
        },
        options={"idempotency_key": "chk_ev:create"},
    )


def test_authorising_and_capturing_records_stripes_events_in_order(client):
    intent = _authorised(client)
    client.v1.payment_intents.capture(intent.id)

    assert _types(client) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
        "charge.captured",
        "payment_intent.succeeded",
    ]


def test_a_decline_records_a_payment_failed_event(client):
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={
                "amount": 1000,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )

    assert _types(client)[-1] == "payment_intent.payment_failed"


def test_authentication_cancel_and_refund_record_their_events(client):
    needs_action = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
        }
    )
    client.v1.payment_intents.cancel(needs_action.id)
    paid = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 300})

    types = _types(client)

    assert types.index("payment_intent.requires_action") < types.index("payment_intent.canceled")
    assert types[-2:] == ["refund.created", "charge.refunded"]


def test_an_event_carries_the_object_as_it_was_and_the_request_that_caused_it(client):
    intent = _authorised(client)
    client.v1.payment_intents.capture(intent.id)

    event = client.v1.events.list(params={"type": "payment_intent.amount_capturable_updated"}).data[
        0
    ]

    assert event.id.startswith("evt_")
    assert event.object == "event"
    assert event.livemode is False
    assert event.api_version
    assert event.data.object.status == "requires_capture"
    assert event.data.object.metadata["checkout_id"] == "chk_ev"
    assert event.request.idempotency_key == "chk_ev:create"


def test_a_charge_refunded_event_carries_the_refunded_amount_and_the_intent(client):
    intent = client.v1.payment_intents.capture(_authorised(client).id)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 400})

    event = client.v1.events.list(params={"type": "charge.refunded"}).data[0]

    assert event.data.object.payment_intent == intent.id
    assert event.data.object.amount_refunded == 400


def test_an_event_can_be_retrieved_by_id(client):
    _authorised(client)
    listed = client.v1.events.list(params={"limit": 1}).data[0]

    retrieved = client.v1.events.retrieve(listed.id)

    assert retrieved.type == listed.type


def test_events_are_listed_since_a_time_and_paged(client):
    _authorised(client)
    everything = client.v1.events.list(params={"limit": 100}).data
    oldest = everything[-1]

    since = client.v1.events.list(params={"created": {"gte": oldest.created}, "limit": 2})
    after = client.v1.events.list(params={"limit": 100, "starting_after": since.data[-1].id})

    assert since.has_more is True
    assert [e.id for e in since.data + after.data] == [e.id for e in everything]


def test_a_dispute_records_a_dispute_created_event(client, stripe_emulator):
    intent = client.v1.payment_intents.capture(_authorised(client).id)

    httpx.post(
        f"{stripe_emulator.base_url}/_emulator/payment_intents/{intent.id}/dispute",
        json={"amount": 600, "reason": "fraudulent"},
    ).raise_for_status()

    event = client.v1.events.list(params={"type": "charge.dispute.created"}).data[0]
    dispute = event.data.object
    assert (dispute.object, dispute.payment_intent, dispute.charge) == (
        "dispute",
        intent.id,
        intent.latest_charge,
    )
    assert (dispute.amount, dispute.reason, dispute.status) == (600, "fraudulent", "needs_response")


def test_reset_forgets_every_object_and_event(client, stripe_emulator):
    _authorised(client)

    httpx.post(f"{stripe_emulator.base_url}/_emulator/reset").raise_for_status()

    assert client.v1.payment_intents.list().data == []
    assert client.v1.events.list().data == []
