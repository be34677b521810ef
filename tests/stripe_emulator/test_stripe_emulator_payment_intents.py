"""The emulator's PaymentIntents, driven through the real stripe SDK: each test payment
method's outcome, Stripe's status machine, and its error shapes."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.plugins.emulator import stripe_client_for

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _intent(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "capture_method": "manual", **params}
    )


def _authorised(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return _intent(client, payment_method="pm_card_visa", confirm=True, **params)


def test_a_new_intent_without_a_payment_method_requires_one(client):
    intent = _intent(client, metadata={"checkout_id": "chk_1"})

    assert intent.id.startswith("pi_")
    assert intent.object == "payment_intent"
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.metadata["checkout_id"] == "chk_1"
    assert intent.livemode is False


def test_an_intent_with_a_payment_method_requires_confirmation(client):
    intent = _intent(client, payment_method="pm_card_visa")

    assert intent.status == "requires_confirmation"
    # as at Stripe, a test token becomes a PaymentMethod of its own with the token's card
    assert intent.payment_method.startswith("pm_") and intent.payment_method != "pm_card_visa"
    assert client.v1.payment_methods.retrieve(intent.payment_method).card.last4 == "4242"


@pytest.mark.parametrize("card", ["pm_card_visa", "pm_card_mastercard", "pm_card_refundFail"])
def test_a_good_card_with_manual_capture_is_authorised_for_the_full_amount(client, card):
    intent = _intent(client, payment_method=card, confirm=True)

    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 2500
    assert intent.amount_received == 0
    assert intent.latest_charge.startswith("ch_")


def test_a_good_card_with_automatic_capture_succeeds_at_once(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 900, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )

    assert intent.status == "succeeded"
    assert intent.amount_received == 900


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_raises_a_card_error_carrying_the_intent(client, card, decline_code):
    with pytest.raises(stripe.CardError) as raised:
        _intent(client, payment_method=card, confirm=True)

    error = raised.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error.decline_code == decline_code
    assert error.error.payment_intent["status"] == "requires_payment_method"
    assert error.error.payment_intent["last_payment_error"]["decline_code"] == decline_code


def test_a_declined_intent_can_be_retried_with_another_card(client):
    intent = _intent(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )

    retried = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )

    assert retried.status == "requires_capture"
    assert retried.last_payment_error is None


def test_an_unknown_payment_method_is_a_missing_resource(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _intent(client, payment_method="pm_card_nonsense", confirm=True)

    assert raised.value.code == "resource_missing"
    assert raised.value.param == "payment_method"


def test_a_card_needing_authentication_asks_for_a_redirect(client):
    intent = _intent(
        client,
        payment_method="pm_card_authenticationRequired",
        confirm=True,
        return_url="https://shop.example/return",
    )

    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == "https://shop.example/return"
    assert intent.next_action.redirect_to_url.url.startswith("http://127.0.0.1:")


def test_completed_authentication_authorises_the_payment(client, stripe_emulator):
    intent = _intent(client, payment_method="pm_card_authenticationRequired", confirm=True)

    httpx.post(
        f"{stripe_emulator.base_url}/_emulator/payment_intents/{intent.id}/authenticate",
        json={"outcome": "succeed"},
    ).raise_for_status()

    authorised = client.v1.payment_intents.retrieve(intent.id)
    assert authorised.status == "requires_capture"
    assert authorised.amount_capturable == 2500


def test_failed_authentication_returns_the_intent_to_requires_payment_method(
    client, stripe_emulator
):
    intent = _intent(client, payment_method="pm_card_authenticationRequired", confirm=True)

    httpx.post(
        f"{stripe_emulator.base_url}/_emulator/payment_intents/{intent.id}/authenticate",
        json={"outcome": "fail"},
    ).raise_for_status()

    failed = client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"


def test_capturing_the_whole_authorisation_succeeds(client):
    intent = _authorised(client)

    captured = client.v1.payment_intents.capture(intent.id)

    assert captured.status == "succeeded"
    assert captured.amount_received == 2500
    assert captured.amount_capturable == 0


def test_a_partial_capture_receives_only_that_amount_and_releases_the_rest(client):
    intent = _authorised(client)

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1000})

    assert captured.status == "succeeded"
    assert captured.amount_received == 1000
    assert captured.amount_capturable == 0
    assert client.v1.charges.retrieve(captured.latest_charge).amount_captured == 1000


def test_capturing_more_than_authorised_is_refused(client):
    intent = _authorised(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 9999})

    assert raised.value.code == "amount_too_large"


def test_capturing_an_unconfirmed_intent_is_an_unexpected_state_carrying_the_intent(client):
    intent = _intent(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.error.payment_intent["id"] == intent.id


@pytest.mark.parametrize(
    ("params", "state"),
    [
        ({}, "requires_payment_method"),
        ({"payment_method": "pm_card_visa"}, "requires_confirmation"),
        ({"payment_method": "pm_card_authenticationRequired", "confirm": True}, "requires_action"),
        ({"payment_method": "pm_card_visa", "confirm": True}, "requires_capture"),
    ],
)
def test_an_intent_can_be_cancelled_from_each_unfinished_state(client, params, state):
    intent = _intent(client, **params)
    assert intent.status == state

    cancelled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "abandoned"}
    )

    assert cancelled.status == "canceled"
    assert cancelled.cancellation_reason == "abandoned"
    assert cancelled.canceled_at is not None
    assert cancelled.amount_capturable == 0


def test_a_succeeded_intent_cannot_be_cancelled(client):
    intent = client.v1.payment_intents.capture(_authorised(client).id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.cancel(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.error.payment_intent["status"] == "succeeded"


def test_an_unconfirmed_intent_can_change_amount_and_merges_metadata(client):
    intent = _intent(client, metadata={"checkout_id": "chk_1", "note": "x"})

    updated = client.v1.payment_intents.update(
        intent.id, params={"amount": 3000, "metadata": {"order_id": "ord_1", "note": ""}}
    )

    assert updated.amount == 3000
    assert updated.metadata.to_dict() == {"checkout_id": "chk_1", "order_id": "ord_1"}


def test_an_authorised_intent_cannot_change_amount(client):
    intent = _authorised(client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.update(intent.id, params={"amount": 1})

    assert raised.value.code == "payment_intent_unexpected_state"


def test_an_unknown_intent_is_a_missing_resource(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_doesnotexist")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_an_unknown_parameter_is_refused_as_stripe_does(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _intent(client, metdata={"checkout_id": "chk_1"})

    assert raised.value.code == "parameter_unknown"


def test_a_request_without_an_api_key_is_an_authentication_error(stripe_emulator):
    response = httpx.get(f"{stripe_emulator.base_url}/v1/payment_intents")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_a_wrong_kind_of_api_key_raises_an_authentication_error(stripe_emulator):
    client = stripe.StripeClient(
        "pk_test_wrong", base_addresses={"api": stripe_emulator.base_url}, max_network_retries=0
    )

    with pytest.raises(stripe.AuthenticationError):
        client.v1.payment_intents.list()


def test_search_finds_intents_by_checkout_id_in_metadata(client):
    wanted = _intent(client, metadata={"checkout_id": "chk_wanted"})
    _intent(client, metadata={"checkout_id": "chk_other"})

    found = client.v1.payment_intents.search(
        params={"query": "metadata['checkout_id']:'chk_wanted'"}
    )

    assert found.object == "search_result"
    assert [intent.id for intent in found.data] == [wanted.id]
    assert found.has_more is False


def test_listing_pages_through_intents_newest_first(client):
    created = [_intent(client).id for _ in range(3)]

    first = client.v1.payment_intents.list(params={"limit": 2})
    rest = client.v1.payment_intents.list(params={"limit": 2, "starting_after": first.data[-1].id})

    assert [i.id for i in first.data] == created[::-1][:2]
    assert first.has_more is True
    assert [i.id for i in rest.data] == created[:1]
    assert rest.has_more is False


def test_listing_filters_by_creation_time(client):
    intent = _intent(client)

    later = client.v1.payment_intents.list(params={"created": {"gte": intent.created + 1}})
    since = client.v1.payment_intents.list(params={"created": {"gte": intent.created}})

    assert later.data == []
    assert [i.id for i in since.data] == [intent.id]


def test_the_latest_charge_can_be_expanded(client):
    intent = _authorised(client)

    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})

    assert expanded.latest_charge.object == "charge"
    assert expanded.latest_charge.payment_intent == intent.id
