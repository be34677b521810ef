"""The real server (``checkout-saga serve``, SQLite, built-in Stripe emulator) driven over
HTTP on loopback: the checkout flows a shop sees. One server for the module; every test
uses its own SKU and session ids."""

from __future__ import annotations

import pytest

from tests.e2e.http_helpers import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("http_flows") / "e2e.db"
    with ServerProcess(f"sqlite:///{database}") as running:
        yield running


def test_a_checkout_with_a_card_that_needs_no_action_is_paid_and_completed(shop, stripe_side):
    sku = shop.product(stock=5)

    response = shop.start_checkout(sku, quantity=2)

    assert response.status_code == 201, response.text
    checkout = response.json()
    assert checkout["status"] == "completed"
    assert shop.order(checkout["order"]["order_id"])["status"] == "paid"
    assert shop.inventory(sku) | {"sku": None} == {
        "sku": None, "on_hand": 3, "reserved": 0, "available": 3, "sold": 2}
    [intent] = stripe_side.intents_for(checkout["checkout_id"])
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 3998)


def test_a_declined_card_can_be_retried_with_another_card_on_the_same_intent(shop, stripe_side):
    sku = shop.product(stock=5)
    declined = shop.start_checkout(sku, payment_method="pm_card_chargeDeclined")
    assert declined.status_code == 402, declined.text
    assert declined.json()["code"] == "card_declined"
    checkout_id = declined.json()["checkout_id"]
    assert shop.checkout(checkout_id)["status"] == "awaiting_payment"

    retried = shop.store.post(f"/checkouts/{checkout_id}/confirm",
                              json={"payment_method": "pm_card_visa"})

    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "completed"
    [intent] = stripe_side.intents_for(checkout_id)
    assert intent["status"] == "succeeded"
    assert shop.inventory(sku)["sold"] == 1


def test_3d_secure_is_completed_by_the_webhook_alone(shop, stripe_side):
    sku = shop.product(stock=5)
    started = shop.start_checkout(sku, payment_method="pm_card_authenticationRequired",
                                  return_url="https://shop.example.com/return")
    assert started.status_code == 201, started.text
    checkout = started.json()
    assert checkout["status"] == "requires_action"
    assert checkout["payment"]["next_action"]["redirect_url"]

    stripe_side.authenticate(checkout["payment"]["payment_intent_id"])

    completed = shop.wait_for_status(checkout["checkout_id"], "completed", timeout=15)
    assert shop.order(completed["order"]["order_id"])["status"] == "paid"
    assert stripe_side.captures(checkout["payment"]["payment_intent_id"]) == 1
    assert shop.inventory(sku)["sold"] == 1


def test_cancelling_a_checkout_cancels_its_intent_and_releases_the_stock(shop, stripe_side):
    sku = shop.product(stock=5)
    started = shop.start_checkout(sku, quantity=3, payment_method=None)
    assert started.status_code == 201, started.text
    checkout_id = started.json()["checkout_id"]
    assert shop.inventory(sku)["reserved"] == 3

    cancelled = shop.store.post(f"/checkouts/{checkout_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    [intent] = stripe_side.intents_for(checkout_id)
    assert intent["status"] == "canceled"
    level = shop.inventory(sku)
    assert (level["reserved"], level["available"], level["sold"]) == (0, 5, 0)


def _paid_order(shop, sku: str, quantity: int) -> dict:
    response = shop.start_checkout(sku, quantity=quantity)
    assert response.status_code == 201 and response.json()["status"] == "completed", response.text
    return shop.order(response.json()["order"]["order_id"])


def test_a_partial_refund_leaves_the_order_partially_refunded_and_keeps_the_stock_sold(shop):
    sku = shop.product(stock=5)
    order = _paid_order(shop, sku, quantity=2)

    refund = shop.admin.post(f"/orders/{order['order_id']}/refunds",
                             headers={"Idempotency-Key": f"partial-{order['order_id']}"},
                             json={"amount": 1999, "reason": "requested_by_customer"})

    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["status"]) == (1999, "succeeded")
    after = shop.order(order["order_id"])
    assert (after["status"], after["amount_refunded"]) == ("partially_refunded", 1999)
    assert (shop.inventory(sku)["sold"], shop.inventory(sku)["on_hand"]) == (2, 3)


def test_a_full_refund_leaves_the_order_refunded_and_restocks_every_item(shop):
    sku = shop.product(stock=5)
    order = _paid_order(shop, sku, quantity=2)

    refund = shop.admin.post(f"/orders/{order['order_id']}/refunds",
                             headers={"Idempotency-Key": f"full-{order['order_id']}"},
                             json={"reason": "requested_by_customer"})

    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["status"]) == (3998, "succeeded")
    after = shop.order(order["order_id"])
    assert (after["status"], after["amount_refunded"]) == ("refunded", 3998)
    level = shop.inventory(sku)
    assert (level["sold"], level["on_hand"], level["available"]) == (0, 5, 5)
