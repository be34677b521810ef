"""PaymentIntents for a customer: saving the card as it pays (`setup_future_usage`), and
charging a saved card with the customer away (`off_session`), as Stripe does."""

from __future__ import annotations

import pytest
import stripe

from tests.plugins.emulator import stripe_client_for
from tests.stripe_emulator.helpers import new_customer, saved_card

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _off_session(client: stripe.StripeClient, customer_id: str, card_id: str, **params):
    return client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "usd",
            "customer": customer_id,
            "payment_method": card_id,
            "off_session": True,
            "confirm": True,
            **params,
        }
    )


def test_setup_future_usage_saves_the_card_it_paid_with(client):
    customer = new_customer(client)

    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "setup_future_usage": "off_session",
            "capture_method": "manual",
            "confirm": True,
        }
    )

    assert intent.status == "requires_capture"
    assert intent.setup_future_usage == "off_session"
    [method] = client.v1.payment_methods.list(params={"customer": customer.id}).data
    assert method.id == intent.payment_method
    attached = client.v1.events.list(params={"type": "payment_method.attached"}).data[0]
    assert attached.data.object.customer == customer.id


def test_a_saved_card_is_charged_off_session(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)

    intent = _off_session(client, customer.id, card.id)

    assert intent.status == "succeeded"
    assert intent.customer == customer.id
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.customer, charge.payment_method) == (customer.id, card.id)


def test_a_card_that_always_needs_authentication_fails_off_session(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id, "pm_card_authenticationRequired")

    with pytest.raises(stripe.CardError) as raised:
        _off_session(client, customer.id, card.id)

    error = raised.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code) == (
        "authentication_required",
        "authentication_required",
    )
    assert error.error.payment_intent["status"] == "requires_payment_method"
    assert error.error.payment_intent["last_payment_error"]["payment_method"]["id"] == card.id
    failed = client.v1.events.list(params={"type": "payment_intent.payment_failed"}).data[0]
    assert failed.data.object.last_payment_error.code == "authentication_required"


def test_the_same_card_on_session_asks_for_3d_secure_instead(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id, "pm_card_authenticationRequired")

    intent = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": card.id,
            "confirm": True,
        }
    )

    assert intent.status == "requires_action"


def test_off_session_without_confirm_is_refused(client):
    customer = new_customer(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 100, "currency": "usd", "customer": customer.id, "off_session": True}
        )

    assert raised.value.param == "off_session"


def test_an_unknown_customer_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 100, "currency": "usd", "customer": "cus_nope"}
        )

    assert (raised.value.code, raised.value.param) == ("resource_missing", "customer")


def test_a_declined_saved_card_off_session_is_a_card_decline(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id, "pm_card_chargeDeclinedInsufficientFunds")

    with pytest.raises(stripe.CardError) as raised:
        _off_session(client, customer.id, card.id)

    assert (raised.value.code, raised.value.error.decline_code) == (
        "card_declined",
        "insufficient_funds",
    )


def test_a_replayed_off_session_payment_charges_once(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)
    options = {"idempotency_key": "renewal:1"}

    first = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": card.id,
            "off_session": True,
            "confirm": True,
        },
        options=options,
    )
    again = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": card.id,
            "off_session": True,
            "confirm": True,
        },
        options=options,
    )

    assert again.id == first.id
    assert len(client.v1.charges.list(params={"customer": customer.id}).data) == 1
