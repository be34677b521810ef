"""Checkouts with saved cards (CONTRACT §3.1 v2, §3.9) over the API against the fake gateway,
on SQLite and PostgreSQL: save the card a checkout is paid with, then pay with "default"."""

from __future__ import annotations

from tests.integration.api_support import STORE, assert_problem, checkout_body


def start(client, session, **fields):
    body = checkout_body(session) | fields
    return client.post("/checkouts", json=body, headers=STORE)


def saved(client, customer="cus_42"):
    return client.get(f"/customers/{customer}/payment-methods", headers=STORE).json()["items"]


def test_a_checkout_with_save_payment_method_saves_the_card_it_was_paid_with(shop_client, gateway):
    response = start(shop_client, "cs_save_000001", save_payment_method=True)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "completed"
    [method] = saved(shop_client)
    assert (method["brand"], method["last4"], method["is_default"]) == ("visa", "4242", True)
    intent = gateway.intents[response.json()["payment"]["payment_intent_id"]]
    assert intent.setup_future_usage == "off_session" and intent.customer is not None


def test_a_second_checkout_paid_with_default_completes_off_session(shop_client, gateway):
    start(shop_client, "cs_save_000001", save_payment_method=True)
    response = start(shop_client, "cs_default_0001", payment_method="default")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "completed"
    [method] = saved(shop_client)
    create = next(params for key, (params, _) in gateway._idempotency.items()
                  if params[0] == "create" and params[3] == body["checkout_id"])
    assert create[5] == method["payment_method_id"]  # the saved card, not the token
    assert create[7] is True  # off_session


def test_a_named_saved_method_of_the_customer_is_charged_off_session(shop_client):
    pm = shop_client.post("/customers/cus_42/payment-methods", json={"payment_method": "pm_card_mastercard"},
                          headers=STORE).json()["payment_method_id"]
    response = start(shop_client, "cs_named_00001", payment_method=pm)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "completed"


def test_default_without_a_saved_card_is_not_found_and_reserves_nothing(shop_client):
    assert_problem(start(shop_client, "cs_default_0002", payment_method="default"), 404, "not_found")
    stock = shop_client.get("/inventory/TSHIRT-M", headers=STORE).json()
    assert stock["reserved"] == 0


def test_a_deleted_method_named_by_a_later_checkout_is_not_found(shop_client):
    pm = shop_client.post("/customers/cus_42/payment-methods", json={"payment_method": "pm_card_visa"},
                          headers=STORE).json()["payment_method_id"]
    assert shop_client.delete(f"/customers/cus_42/payment-methods/{pm}", headers=STORE).status_code == 204
    assert_problem(start(shop_client, "cs_deleted_0001", payment_method=pm), 404, "not_found")


def test_saving_a_card_needs_a_customer(shop_client):
    body = checkout_body("cs_nocust_0001") | {"save_payment_method": True}
    del body["customer"]
    response = shop_client.post("/checkouts", json=body, headers=STORE)
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == [{"field": "save_payment_method", "message": "needs customer.id"}]


def test_replaying_a_saved_card_checkout_returns_it_unchanged(shop_client):
    first = start(shop_client, "cs_save_000001", save_payment_method=True)
    again = start(shop_client, "cs_save_000001", save_payment_method=True)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["checkout_id"] == first.json()["checkout_id"]
    assert len(saved(shop_client)) == 1


def test_the_same_session_with_save_payment_method_added_is_an_idempotency_conflict(shop_client):
    assert start(shop_client, "cs_save_000001").status_code == 201
    assert_problem(start(shop_client, "cs_save_000001", save_payment_method=True), 409,
                   "idempotency_conflict")


def test_a_saved_card_needing_3d_secure_is_declined_off_session_and_the_checkout_can_retry(shop_client):
    shop_client.post("/customers/cus_42/payment-methods",
                     json={"payment_method": "pm_card_authenticationRequired"}, headers=STORE)
    response = start(shop_client, "cs_offsess_3ds1", payment_method="default")
    problem = assert_problem(response, 402, "card_declined")
    assert problem["decline_code"] == "authentication_required"
    checkout = shop_client.get(f"/checkouts/{problem['checkout_id']}", headers=STORE).json()
    assert checkout["status"] == "awaiting_payment"


def test_a_checkout_naming_another_customers_saved_method_is_not_found_and_stripe_is_not_asked(
        shop_client, gateway):
    theirs = shop_client.post("/customers/cus_other/payment-methods", json={"payment_method": "pm_card_visa"},
                              headers=STORE).json()["payment_method_id"]
    intents_before = len(gateway.intents)
    response = start(shop_client, "cs_cross_00001", payment_method=theirs)
    problem = assert_problem(response, 404, "not_found")
    assert "cus_other" not in response.text
    assert len(gateway.intents) == intents_before
    anonymous = checkout_body("cs_cross_00002") | {"payment_method": theirs}
    del anonymous["customer"]
    assert_problem(shop_client.post("/checkouts", json=anonymous, headers=STORE), 404, "not_found")
    assert problem["detail"] == f"no payment method {theirs} for this customer"
