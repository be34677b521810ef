"""The emulator's SetupIntents: saving a card for off-session use, with Stripe's status
machine, 3-D Secure on setup, declines, and the events that keep saved cards current."""

from __future__ import annotations

import pytest
import stripe

from tests.plugins.emulator import stripe_client_for
from tests.stripe_emulator.helpers import control, new_customer

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _setup(client: stripe.StripeClient, customer_id: str, **params) -> stripe.SetupIntent:
    return client.v1.setup_intents.create(
        params={"customer": customer_id, "usage": "off_session", **params}
    )


def test_a_new_setup_intent_without_a_card_requires_one(client):
    customer = new_customer(client)

    setup = _setup(client, customer.id)

    assert setup.id.startswith("seti_")
    assert setup.object == "setup_intent"
    assert setup.status == "requires_payment_method"
    assert setup.usage == "off_session"
    assert setup.client_secret.startswith(f"{setup.id}_secret_")
    assert setup.customer == customer.id


def test_confirming_with_a_card_saves_it_for_the_customer(client):
    customer = new_customer(client)
    setup = _setup(client, customer.id)

    confirmed = client.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})

    assert confirmed.status == "succeeded"
    method = client.v1.payment_methods.retrieve(confirmed.payment_method)
    assert method.customer == customer.id
    assert method.id != "pm_card_visa"
    assert client.v1.setup_intents.retrieve(setup.id).status == "succeeded"


def test_create_and_confirm_in_one_call_records_attached_then_succeeded(client):
    customer = new_customer(client)

    setup = _setup(client, customer.id, payment_method="pm_card_mastercard", confirm=True)

    types = [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]
    assert setup.status == "succeeded"
    assert types[-3:] == [
        "setup_intent.created",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]
    event = client.v1.events.list(params={"type": "setup_intent.succeeded"}).data[0]
    assert event.data.object.payment_method == setup.payment_method


def test_a_card_that_needs_authentication_waits_for_3d_secure_then_is_saved(
    client, stripe_emulator
):
    customer = new_customer(client)
    setup = _setup(
        client, customer.id, payment_method="pm_card_authenticationRequired", confirm=True
    )
    assert setup.status == "requires_action"
    assert setup.next_action.type == "redirect_to_url"

    control(stripe_emulator, f"setup_intents/{setup.id}/authenticate", {"outcome": "succeed"})

    assert client.v1.setup_intents.retrieve(setup.id).status == "succeeded"
    assert client.v1.payment_methods.retrieve(setup.payment_method).customer == customer.id


def test_failed_authentication_saves_nothing(client, stripe_emulator):
    customer = new_customer(client)
    setup = _setup(
        client, customer.id, payment_method="pm_card_authenticationRequired", confirm=True
    )

    control(stripe_emulator, f"setup_intents/{setup.id}/authenticate", {"outcome": "fail"})

    failed = client.v1.setup_intents.retrieve(setup.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_setup_error.code == "setup_intent_authentication_failure"
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []


def test_a_declined_card_is_a_card_error_and_is_not_saved(client):
    customer = new_customer(client)

    with pytest.raises(stripe.CardError) as raised:
        _setup(client, customer.id, payment_method="pm_card_chargeDeclined", confirm=True)

    error = raised.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code) == ("card_declined", "generic_decline")
    assert error.error.setup_intent["status"] == "requires_payment_method"
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []
    assert client.v1.events.list(params={"type": "setup_intent.setup_failed"}).data


def test_confirming_without_a_card_is_refused(client):
    setup = _setup(client, new_customer(client).id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.setup_intents.confirm(setup.id)

    assert (raised.value.code, raised.value.param) == (
        "setup_intent_unexpected_state",
        "payment_method",
    )


def test_a_succeeded_setup_intent_cannot_be_confirmed_again(client):
    setup = _setup(client, new_customer(client).id, payment_method="pm_card_visa", confirm=True)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.setup_intents.confirm(setup.id)

    assert raised.value.code == "setup_intent_unexpected_state"


def test_an_unknown_customer_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _setup(client, "cus_nope")

    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        400,
        "resource_missing",
        "customer",
    )


def test_a_canceled_setup_intent_is_canceled(client):
    setup = _setup(client, new_customer(client).id)

    canceled = client.v1.setup_intents.cancel(setup.id, params={"cancellation_reason": "abandoned"})

    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")


def test_a_replayed_confirm_saves_the_card_once(client):
    customer = new_customer(client)
    setup = _setup(client, customer.id)
    options = {"idempotency_key": f"{setup.id}:confirm"}
    params = {"payment_method": "pm_card_visa"}

    first = client.v1.setup_intents.confirm(setup.id, params=params, options=options)
    again = client.v1.setup_intents.confirm(setup.id, params=params, options=options)

    assert again.payment_method == first.payment_method
    assert len(client.v1.payment_methods.list(params={"customer": customer.id}).data) == 1
    assert len(client.v1.events.list(params={"type": "payment_method.attached"}).data) == 1
