"""The emulator's Refunds: never more than captured, and the asynchronous failure path of
`pm_card_refundFail`, and the events a refund made directly (as from Stripe's dashboard)
produces."""

from __future__ import annotations

import json

import pytest
import stripe

from tests.plugins.emulator import eventually, stripe_client_for

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _paid(
    client: stripe.StripeClient, card: str = "pm_card_visa", capture: int | None = None
) -> stripe.PaymentIntent:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": card,
            "confirm": True,
        }
    )
    params = {"amount_to_capture": capture} if capture else {}
    return client.v1.payment_intents.capture(intent.id, params=params)


def test_a_partial_refund_succeeds_and_shows_on_the_charge(client):
    intent = _paid(client)

    refund = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 500,
            "reason": "requested_by_customer",
            "metadata": {"refund_id": "rf_1"},
        }
    )

    assert refund.id.startswith("re_")
    assert refund.status == "succeeded"
    assert refund.amount == 500
    assert refund.metadata["refund_id"] == "rf_1"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 500
    assert charge.refunded is False


def test_a_refund_without_an_amount_refunds_what_remains(client):
    intent = _paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})

    rest = client.v1.refunds.create(params={"payment_intent": intent.id})

    assert rest.amount == 1500
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True


def test_refunds_are_bounded_by_the_captured_amount_not_the_authorised_one(client):
    intent = _paid(client, capture=800)

    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    assert refund.amount == 800


def test_refunding_more_than_remains_is_amount_too_large(client):
    intent = _paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1500})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 600})

    assert raised.value.code == "amount_too_large"
    assert raised.value.param == "amount"


def test_refunding_a_fully_refunded_payment_is_charge_already_refunded(client):
    intent = _paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})

    assert raised.value.code == "charge_already_refunded"


def test_refunding_an_uncaptured_payment_is_refused(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id})

    assert raised.value.code == "payment_intent_unexpected_state"


def test_a_refund_of_a_refund_fail_card_is_pending_then_failed(client):
    intent = _paid(client, card="pm_card_refundFail")

    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 700})
    assert refund.status == "pending"

    failed = eventually(
        lambda: (r := client.v1.refunds.retrieve(refund.id)).status == "failed" and r
    )
    assert failed.failure_reason is not None
    failures = client.v1.events.list(params={"type": "refund.failed"})
    assert [event.data.object.id for event in failures.data] == [refund.id]


def test_a_failed_refund_frees_its_amount_again(client):
    intent = _paid(client, card="pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    eventually(lambda: client.v1.refunds.retrieve(refund.id).status == "failed")

    again = client.v1.refunds.create(params={"payment_intent": intent.id})

    assert again.amount == 2000
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 0


def test_refunds_are_listed_by_payment_intent(client):
    first, second = _paid(client), _paid(client)
    mine = client.v1.refunds.create(params={"payment_intent": first.id, "amount": 100})
    client.v1.refunds.create(params={"payment_intent": second.id, "amount": 100})

    listed = client.v1.refunds.list(params={"payment_intent": first.id})

    assert [refund.id for refund in listed.data] == [mine.id]


def test_refunds_are_listed_by_creation_time(client):
    refund = client.v1.refunds.create(params={"payment_intent": _paid(client).id})

    listed = client.v1.refunds.list(params={"created": {"gte": refund.created}})

    assert [r.id for r in listed.data] == [refund.id]


@pytest.fixture
def subscribed(client, webhook_receiver):
    """An endpoint for the refund events a product records for refunds it did not make."""
    client.v1.webhook_endpoints.create(
        params={
            "url": webhook_receiver.url,
            "enabled_events": ["charge.refunded", "refund.created", "refund.updated"],
        }
    )
    return webhook_receiver


def _delivered(receiver, count: int) -> list[dict]:
    return [json.loads(hook.payload) for hook in receiver.wait_for_acknowledged(count)]


def test_a_refund_made_directly_is_delivered_as_refund_created_and_charge_refunded(
    client, subscribed
):
    intent = _paid(client)

    refund = client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 600})

    created, refunded = _delivered(subscribed, 2)
    assert created["type"] == "refund.created"
    assert created["data"]["object"]["id"] == refund.id
    assert created["data"]["object"]["payment_intent"] == intent.id
    assert (created["data"]["object"]["amount"], created["data"]["object"]["status"]) == (
        600,
        "succeeded",
    )
    assert refunded["type"] == "charge.refunded"
    charge = refunded["data"]["object"]
    assert (charge["id"], charge["payment_intent"]) == (intent.latest_charge, intent.id)
    assert (charge["amount_refunded"], charge["refunded"]) == (600, False)
    assert refunded["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}


def test_a_refund_that_fails_later_is_delivered_as_refund_updated(client, subscribed):
    intent = _paid(client, card="pm_card_refundFail")

    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    created, updated = _delivered(subscribed, 2)
    assert (created["type"], created["data"]["object"]["status"]) == ("refund.created", "pending")
    assert updated["type"] == "refund.updated"
    assert updated["data"]["object"]["id"] == refund.id
    assert updated["data"]["object"]["status"] == "failed"
    assert updated["data"]["previous_attributes"] == {"status": "pending"}


def test_updating_a_refunds_metadata_records_refund_updated(client):
    refund = client.v1.refunds.create(params={"payment_intent": _paid(client).id})

    client.v1.refunds.update(refund.id, params={"metadata": {"note": "dashboard"}})

    event = client.v1.events.list(params={"type": "refund.updated"}).data[0]
    assert event.data.object.metadata["note"] == "dashboard"
    assert event.data.previous_attributes["metadata"].to_dict() == {}


def test_a_replayed_refund_refunds_once(client):
    intent = _paid(client)
    options = {"idempotency_key": f"{intent.id}:refund"}

    first = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 300}, options=options
    )
    again = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 300}, options=options
    )

    assert again.id == first.id
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 300
