"""The emulator's PaymentMethods: test tokens become cards of their own when saved,
attach and detach with Stripe's rules and events, and a detached card is never charged."""

from __future__ import annotations

import pytest
import stripe

from tests.plugins.emulator import stripe_client_for
from tests.stripe_emulator.helpers import new_customer, paid, saved_card

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


@pytest.mark.parametrize(
    ("token", "brand", "last4"),
    [
        ("pm_card_visa", "visa", "4242"),
        ("pm_card_mastercard", "mastercard", "4444"),
        ("pm_card_chargeDeclined", "visa", "0002"),
        ("pm_card_authenticationRequired", "visa", "3184"),
    ],
)
def test_a_test_token_resolves_to_a_card_with_brand_last4_and_expiry(client, token, brand, last4):
    method = client.v1.payment_methods.retrieve(token)

    assert (method.object, method.type) == ("payment_method", "card")
    assert (method.card.brand, method.card.last4) == (brand, last4)
    assert 1 <= method.card.exp_month <= 12
    assert method.card.exp_year >= 2030


def test_attaching_a_token_saves_a_new_payment_method_for_the_customer(client):
    customer = new_customer(client)

    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})

    assert method.id.startswith("pm_") and method.id != "pm_card_visa"
    assert method.customer == customer.id
    assert (method.card.brand, method.card.last4) == ("visa", "4242")
    assert client.v1.payment_methods.retrieve(method.id).customer == customer.id


def test_the_same_token_saved_by_two_customers_gives_two_payment_methods(client):
    ada, bob = new_customer(client), new_customer(client)

    first, second = saved_card(client, ada.id), saved_card(client, bob.id)

    assert first.id != second.id
    assert first.card.fingerprint == second.card.fingerprint


def test_a_saved_card_cannot_be_attached_to_another_customer(client):
    ada, bob = new_customer(client), new_customer(client)
    card = saved_card(client, ada.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.attach(card.id, params={"customer": bob.id})

    assert "already been attached to a customer" in raised.value.user_message
    assert client.v1.payment_methods.retrieve(card.id).customer == ada.id


def test_attaching_needs_a_customer_that_exists(client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_methods.attach("pm_card_visa", params={})
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_methods.attach("pm_card_visa", params={"customer": "cus_nope"})

    assert (missing.value.code, missing.value.param) == ("parameter_missing", "customer")
    assert (unknown.value.code, unknown.value.param) == ("resource_missing", "customer")


def test_a_customers_cards_are_listed_newest_first(client):
    customer, other = new_customer(client), new_customer(client)
    visa = saved_card(client, customer.id)
    mastercard = saved_card(client, customer.id, "pm_card_mastercard")
    saved_card(client, other.id)

    listed = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    nested = client.v1.customers.payment_methods.list(customer.id)

    assert [m.id for m in listed.data] == [mastercard.id, visa.id]
    assert [m.id for m in nested.data] == [mastercard.id, visa.id]


def test_a_detached_card_leaves_the_customer_and_its_default(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )

    detached = client.v1.payment_methods.detach(card.id)

    assert detached.customer is None
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None


def test_a_detached_card_cannot_pay_again(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)
    client.v1.payment_methods.detach(card.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        paid(client, card=card.id, customer=customer.id)

    assert raised.value.param == "payment_method"
    assert "may not be used again" in raised.value.user_message


def test_a_card_paid_with_and_not_saved_cannot_be_used_again(client):
    first = paid(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        paid(client, card=first.payment_method)

    assert "may not be used again" in raised.value.user_message


def test_a_saved_card_pays_for_its_customer_again_and_again(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)

    payments = [paid(client, card=card.id, customer=customer.id) for _ in range(2)]

    assert [p.status for p in payments] == ["succeeded", "succeeded"]
    assert {p.payment_method for p in payments} == {card.id}


def test_another_customers_card_cannot_pay(client):
    ada, bob = new_customer(client), new_customer(client)
    card = saved_card(client, ada.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        paid(client, card=card.id, customer=bob.id)

    assert (raised.value.code, raised.value.param) == ("resource_missing", "payment_method")


def test_detaching_a_card_that_is_not_attached_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.detach("pm_card_visa")

    assert "not attached to a customer" in raised.value.user_message


def test_an_unknown_payment_method_is_a_missing_resource(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.retrieve("pm_nope")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_attach_and_detach_record_their_events(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)
    client.v1.payment_methods.detach(card.id)

    attached = client.v1.events.list(params={"type": "payment_method.attached"}).data[0]
    detached = client.v1.events.list(params={"type": "payment_method.detached"}).data[0]

    assert (attached.data.object.id, attached.data.object.customer) == (card.id, customer.id)
    assert detached.data.object.customer is None
    assert detached.data.previous_attributes["customer"] == customer.id


def test_a_replayed_attach_returns_the_same_payment_method(client):
    customer = new_customer(client)
    options = {"idempotency_key": f"save:{customer.id}"}

    first = client.v1.payment_methods.attach(
        "pm_card_visa", params={"customer": customer.id}, options=options
    )
    again = client.v1.payment_methods.attach(
        "pm_card_visa", params={"customer": customer.id}, options=options
    )

    assert again.id == first.id
    assert len(client.v1.payment_methods.list(params={"customer": customer.id}).data) == 1
