"""Saved cards end to end (CONTRACT §3.9): the real server with its built-in Stripe emulator
(webhooks delivered to the product), over HTTP on loopback. Each test has its own customer."""

from __future__ import annotations

import pytest
import stripe

from tests.e2e.http_helpers import STRIPE_KEY, ServerProcess, eventually, unique


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("saved_cards") / "e2e.db"
    with ServerProcess(f"sqlite:///{database}") as running:
        yield running


def methods(shop, customer):
    response = shop.store.get(f"/customers/{customer}/payment-methods")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def pay(shop, sku, customer, payment_method, **extra):
    return shop.start_checkout(sku, payment_method=payment_method,
                               customer={"id": customer, "email": "ada@example.com"}, **extra)


def test_a_card_saved_through_a_setup_intent_pays_a_later_checkout_by_default(shop):
    customer, sku = unique("cust"), shop.product(stock=5)
    setup = shop.store.post(f"/customers/{customer}/setup-intents", json={"payment_method": "pm_card_visa"})
    assert setup.status_code == 201, setup.text
    assert setup.json()["status"] == "succeeded"
    [card] = methods(shop, customer)
    assert (card["brand"], card["last4"], card["is_default"]) == ("visa", "4242", True)
    response = pay(shop, sku, customer, "default")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "completed"


def test_a_checkout_that_saves_its_card_lets_the_next_one_pay_off_session(shop):
    customer, sku = unique("cust"), shop.product(stock=5)
    first = pay(shop, sku, customer, "pm_card_mastercard", save_payment_method=True)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "completed"
    [card] = methods(shop, customer)
    assert card["last4"] == "4444" and card["payment_method_id"] != "pm_card_mastercard"
    second = pay(shop, sku, customer, "default")
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "completed"


def test_a_detached_card_is_refused_by_a_later_checkout(shop):
    customer, sku = unique("cust"), shop.product(stock=5)
    saved = shop.store.post(f"/customers/{customer}/payment-methods", json={"payment_method": "pm_card_visa"})
    assert saved.status_code == 201, saved.text
    pm = saved.json()["payment_method_id"]
    assert shop.store.delete(f"/customers/{customer}/payment-methods/{pm}").status_code == 204
    assert methods(shop, customer) == []
    refused = pay(shop, sku, customer, pm)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert pay(shop, sku, customer, "default").status_code == 404


def test_another_customers_card_is_not_found(shop):
    mine, theirs = unique("cust"), unique("cust")
    pm = shop.store.post(f"/customers/{theirs}/payment-methods",
                         json={"payment_method": "pm_card_visa"}).json()["payment_method_id"]
    shop.store.post(f"/customers/{mine}/payment-methods", json={"payment_method": "pm_card_visa"})
    for response in (shop.store.patch(f"/customers/{mine}/payment-methods/{pm}/default"),
                     shop.store.delete(f"/customers/{mine}/payment-methods/{pm}")):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert [m["payment_method_id"] for m in methods(shop, theirs)] == [pm]


def test_a_card_attached_at_stripe_directly_is_listed_through_the_webhook(shop, server):
    customer = unique("cust")
    shop.store.post(f"/customers/{customer}/setup-intents")  # links the Stripe customer
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": server.emulator_url})
    [found] = client.v1.customers.search(params={"query": f"metadata['customer_id']:'{customer}'"}).data
    attached = client.v1.payment_methods.attach("pm_card_mastercard", params={"customer": found.id})
    listed = eventually(lambda: methods(shop, customer), timeout=15.0, what="the attached card listed")
    assert [m["payment_method_id"] for m in listed] == [attached.id]
    client.v1.payment_methods.detach(attached.id)
    eventually(lambda: methods(shop, customer) == [], timeout=15.0, what="the detached card gone")
