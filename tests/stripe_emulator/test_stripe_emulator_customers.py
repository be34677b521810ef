"""The emulator's Customers: created with Stripe's shape, updated field by field, and a
default payment method that must be one the customer has saved."""

from __future__ import annotations

import pytest
import stripe

from tests.plugins.emulator import stripe_client_for
from tests.stripe_emulator.helpers import new_customer, saved_card

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def test_a_new_customer_has_stripes_shape(client):
    customer = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"customer_id": "c_1"}}
    )

    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert (customer.email, customer.name) == ("ada@example.com", "Ada")
    assert customer.metadata["customer_id"] == "c_1"
    assert customer.invoice_settings.default_payment_method is None
    assert customer.livemode is False
    assert client.v1.customers.retrieve(customer.id).email == "ada@example.com"


def test_an_update_merges_metadata_and_changes_only_what_it_names(client):
    customer = new_customer(client, metadata={"a": "1", "b": "2"})

    updated = client.v1.customers.update(
        customer.id, params={"name": "Ada L.", "metadata": {"b": "", "c": "3"}}
    )

    assert updated.name == "Ada L."
    assert updated.email == "ada@example.com"
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}


def test_a_saved_card_becomes_the_default_payment_method(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id)

    updated = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )

    assert updated.invoice_settings.default_payment_method == card.id
    event = client.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert event.data.previous_attributes["invoice_settings"]["default_payment_method"] is None


def test_a_card_the_customer_has_not_saved_cannot_be_the_default(client):
    customer, other = new_customer(client), new_customer(client)
    theirs = saved_card(client, other.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": theirs.id}}
        )

    assert raised.value.http_status == 400
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "invoice_settings[default_payment_method]"
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None


def test_a_customer_created_with_a_card_saves_it_as_a_new_payment_method(client):
    customer = client.v1.customers.create(
        params={
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )

    [method] = client.v1.payment_methods.list(params={"customer": customer.id}).data
    assert method.id != "pm_card_visa"
    assert customer.invoice_settings.default_payment_method == method.id


def test_an_unknown_customer_is_a_missing_resource(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve("cus_nope")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert "No such customer: 'cus_nope'" in raised.value.user_message


def test_an_unknown_parameter_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"emial": "ada@example.com"})

    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "emial")


def test_a_replayed_create_returns_the_same_customer_and_creates_no_other(client):
    first = client.v1.customers.create(
        params={"metadata": {"customer_id": "c_7"}}, options={"idempotency_key": "cus:c_7"}
    )

    again = client.v1.customers.create(
        params={"metadata": {"customer_id": "c_7"}}, options={"idempotency_key": "cus:c_7"}
    )

    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.customers.list().data) == 1


def test_the_same_key_with_other_parameters_is_an_idempotency_error(client):
    client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "k"}
        )


def test_customers_are_found_by_metadata_and_listed_by_email(client):
    mine = new_customer(client, email="ada@example.com", metadata={"customer_id": "c_1"})
    new_customer(client, email="bob@example.com", metadata={"customer_id": "c_2"})

    found = client.v1.customers.search(params={"query": "metadata['customer_id']:'c_1'"})
    listed = client.v1.customers.list(params={"email": "ada@example.com"})

    assert [c.id for c in found.data] == [mine.id]
    assert [c.id for c in listed.data] == [mine.id]


def test_creating_a_customer_records_a_customer_created_event(client):
    customer = new_customer(client)

    [event] = client.v1.events.list(params={"type": "customer.created"}).data

    assert event.data.object.id == customer.id


def test_the_default_card_can_be_expanded_on_the_customer(client):
    customer = new_customer(client)
    card = saved_card(client, customer.id, "pm_card_mastercard")
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )

    expanded = client.v1.customers.retrieve(
        customer.id, params={"expand": ["invoice_settings.default_payment_method"]}
    )

    default = expanded.invoice_settings.default_payment_method
    assert (default.id, default.card.brand, default.card.last4) == (card.id, "mastercard", "4444")
