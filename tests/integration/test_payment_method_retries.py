"""A payment method that cannot be charged leaves the customer free to try another, at start
as on confirm (CONTRACT §3.1: 402, the checkout stays awaiting_payment); and a good card
confirmed while another request's declined card is in flight is still charged."""

from __future__ import annotations

import pytest

from checkout_saga import errors
from checkout_saga.checkout_decisions import decide_confirm
from tests.integration.api_support import STORE, assert_problem, checkout_body


def test_an_unknown_payment_method_at_start_is_a_402_and_the_checkout_awaits_another(shop_client):
    response = shop_client.post("/checkouts", json=checkout_body("cs_unknown_pm_01", "pm_bogus"),
                                headers=STORE)

    problem = assert_problem(response, 402, "card_declined")
    checkout = shop_client.get(f"/checkouts/{problem['checkout_id']}", headers=STORE).json()
    assert checkout["status"] == "awaiting_payment"
    assert checkout["payment"]["payment_intent_id"] is not None


def test_after_an_unknown_payment_method_at_start_another_card_completes_the_checkout(shop_client):
    problem = shop_client.post("/checkouts", json=checkout_body("cs_unknown_pm_02", "pm_bogus"),
                               headers=STORE).json()

    confirmed = shop_client.post(f"/checkouts/{problem['checkout_id']}/confirm",
                                 json={"payment_method": "pm_card_visa"}, headers=STORE)

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "completed"


def test_an_unknown_payment_method_on_confirm_is_the_same_402(shop_client):
    started = shop_client.post("/checkouts", json=checkout_body("cs_unknown_pm_03", None), headers=STORE)

    response = shop_client.post(f"/checkouts/{started.json()['checkout_id']}/confirm",
                                json={"payment_method": "pm_bogus"}, headers=STORE)

    assert_problem(response, 402, "card_declined")
    assert shop_client.get(f"/checkouts/{started.json()['checkout_id']}",
                           headers=STORE).json()["status"] == "awaiting_payment"


def _declined_checkout(service) -> str:
    from checkout_saga.commands import CartLine, StartCheckout

    with pytest.raises(errors.CardDeclinedDomainError) as raised:
        service.checkouts.start_checkout(StartCheckout(
            checkout_session_id="cs_race_cards_01", currency="usd",
            items=(CartLine(sku="TSHIRT-M", quantity=1),), payment_method="pm_card_chargeDeclined"))
    return raised.value.details["checkout_id"]


def test_a_good_card_confirmed_while_a_declined_one_is_in_flight_is_charged(shop, clock):
    checkout_id = _declined_checkout(shop)
    # another request has recorded its intention to confirm with a declined card, and has
    # not yet called the provider
    other = decide_confirm(shop.checkouts.get(checkout_id), payment_method="pm_card_chargeDeclined",
                           return_url=None, now=clock.now())
    shop.store.append(other.events)

    state = shop.checkouts.confirm_payment(checkout_id, "pm_card_visa")

    assert state.status == "completed"
