"""POST/GET /checkouts and its confirm/cancel/events routes, through the HTTP API."""

from __future__ import annotations

import re

from tests.integration.api_support import (
    STORE,
    assert_problem,
    checkout_body,
    paid_checkout,
)

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_a_new_checkout_with_a_card_needing_no_action_is_created_completed(shop_client):
    response = shop_client.post("/checkouts", json=checkout_body(), headers=STORE)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "completed"
    assert (body["amount_subtotal"], body["amount_total"]) == (3998, 3998)
    assert body["items"] == [{"sku": "TSHIRT-M", "quantity": 2, "unit_amount": 1999}]
    assert body["customer"] == {"id": "cus_42", "email": "ada@example.com"}


def test_the_checkout_resource_has_exactly_the_contract_shape(shop_client):
    body = paid_checkout(shop_client)

    assert set(body) == {
        "checkout_id", "checkout_session_id", "status", "customer", "currency", "amount_subtotal",
        "amount_tax", "amount_shipping", "amount_total", "items", "order", "payment", "failure",
        "expires_at", "created_at", "updated_at", "version",
        "shipping_address", "billing_address"}  # v2
    assert set(body["order"]) == {"order_id", "order_number"}
    assert set(body["payment"]) == {"payment_intent_id", "client_secret", "status", "next_action",
                                    "last_error"}
    assert all(RFC3339_Z.match(body[k]) for k in ("expires_at", "created_at", "updated_at"))


def test_the_same_session_and_body_again_replays_with_200(shop_client):
    first = paid_checkout(shop_client)

    again = shop_client.post("/checkouts", json=checkout_body(), headers=STORE)

    assert again.status_code == 200
    assert again.json()["checkout_id"] == first["checkout_id"]


def test_the_same_session_with_another_body_is_an_idempotency_conflict(shop_client):
    paid_checkout(shop_client)

    response = shop_client.post("/checkouts", json=checkout_body(MUG=1), headers=STORE)

    assert_problem(response, 409, "idempotency_conflict")


def test_not_enough_stock_is_insufficient_stock_with_the_lines(shop_client):
    response = shop_client.post("/checkouts", json=checkout_body(**{"TSHIRT-M": 1, "MUG": 6}),
                                headers=STORE)

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["lines"] == [{"sku": "MUG", "requested": 6, "available": 5}]
    assert shop_client.get(f"/checkouts/{body['checkout_id']}", headers=STORE).json()["status"] == "failed"


def test_an_unknown_sku_is_unknown_sku(shop_client):
    response = shop_client.post("/checkouts", json=checkout_body(NOPE=1), headers=STORE)

    assert_problem(response, 422, "unknown_sku")


def test_an_inactive_product_is_product_unavailable(shop_client):
    from tests.integration.api_support import ADMIN

    shop_client.put("/products/MUG", json={"name": "Mug", "unit_amount": 1250, "currency": "usd",
                                           "seller_id": "acct_1", "active": False}, headers=ADMIN)

    response = shop_client.post("/checkouts", json=checkout_body(MUG=1), headers=STORE)

    assert_problem(response, 422, "product_unavailable")


def test_a_seller_without_charges_is_seller_cannot_accept_payments(shop_client):
    from tests.integration.api_support import ADMIN

    shop_client.put("/sellers/acct_1", json={"charges_enabled": False}, headers=ADMIN)

    response = shop_client.post("/checkouts", json=checkout_body(), headers=STORE)

    assert_problem(response, 409, "seller_cannot_accept_payments")
    assert shop_client.get("/inventory/TSHIRT-M", headers=STORE).json()["reserved"] == 0


def test_a_declined_card_is_402_and_the_checkout_awaits_another_card(shop_client):
    response = shop_client.post("/checkouts", json=checkout_body(payment_method="pm_card_chargeDeclined"),
                                headers=STORE)

    body = assert_problem(response, 402, "card_declined")
    assert "decline_code" in body
    checkout = shop_client.get(f"/checkouts/{body['checkout_id']}", headers=STORE).json()
    assert checkout["status"] == "awaiting_payment"


def test_confirming_with_a_good_card_after_a_decline_completes_the_checkout(shop_client):
    declined = shop_client.post("/checkouts", json=checkout_body(payment_method="pm_card_chargeDeclined"),
                                headers=STORE).json()

    response = shop_client.post(f"/checkouts/{declined['checkout_id']}/confirm",
                                json={"payment_method": "pm_card_visa"}, headers=STORE)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"


def test_confirming_a_completed_checkout_returns_200(shop_client):
    checkout = paid_checkout(shop_client)

    response = shop_client.post(f"/checkouts/{checkout['checkout_id']}/confirm", headers=STORE)

    assert response.status_code == 200 and response.json()["status"] == "completed"


def test_confirming_a_cancelled_checkout_is_not_confirmable(shop_client):
    created = shop_client.post("/checkouts", json=checkout_body(payment_method=None), headers=STORE).json()
    shop_client.post(f"/checkouts/{created['checkout_id']}/cancel", headers=STORE)

    response = shop_client.post(f"/checkouts/{created['checkout_id']}/confirm",
                                json={"payment_method": "pm_card_visa"}, headers=STORE)

    assert_problem(response, 409, "checkout_not_confirmable")


def test_cancelling_an_unpaid_checkout_releases_its_stock(shop_client):
    created = shop_client.post("/checkouts", json=checkout_body(payment_method=None), headers=STORE).json()
    assert created["status"] == "awaiting_payment"

    response = shop_client.post(f"/checkouts/{created['checkout_id']}/cancel", headers=STORE)

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert shop_client.get("/inventory/TSHIRT-M", headers=STORE).json()["reserved"] == 0


def test_cancelling_twice_returns_200(shop_client):
    created = shop_client.post("/checkouts", json=checkout_body(payment_method=None), headers=STORE).json()
    shop_client.post(f"/checkouts/{created['checkout_id']}/cancel", headers=STORE)

    again = shop_client.post(f"/checkouts/{created['checkout_id']}/cancel", headers=STORE)

    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_cancelling_a_paid_checkout_is_not_cancellable(shop_client):
    checkout = paid_checkout(shop_client)

    response = shop_client.post(f"/checkouts/{checkout['checkout_id']}/cancel", headers=STORE)

    assert_problem(response, 409, "checkout_not_cancellable")


def test_a_checkout_can_be_read_as_of_an_earlier_version(shop_client):
    checkout = paid_checkout(shop_client)

    response = shop_client.get(f"/checkouts/{checkout['checkout_id']}?at_version=1", headers=STORE)

    assert response.status_code == 200
    assert (response.json()["version"], response.json()["status"]) == (1, "processing")


def test_the_events_route_lists_the_history_in_order(shop_client):
    checkout = paid_checkout(shop_client)

    events = shop_client.get(f"/checkouts/{checkout['checkout_id']}/events", headers=STORE).json()["events"]

    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "CheckoutStarted" and events[-1]["type"] == "CheckoutCompleted"
    assert {"version", "type", "occurred_at", "data"} == set(events[0])


def test_an_unknown_checkout_is_not_found(client):
    assert_problem(client.get("/checkouts/chk_0000", headers=STORE), 404, "not_found")
    assert_problem(client.get("/checkouts/chk_0000/events", headers=STORE), 404, "not_found")


def test_a_confirm_replayed_with_its_idempotency_key_returns_the_first_response(shop_client):
    checkout = paid_checkout(shop_client)
    headers = {**STORE, "Idempotency-Key": "confirm-1"}
    first = shop_client.post(f"/checkouts/{checkout['checkout_id']}/confirm", json={}, headers=headers)

    again = shop_client.post(f"/checkouts/{checkout['checkout_id']}/confirm", json={}, headers=headers)

    assert (again.status_code, again.json()) == (first.status_code, first.json())


def test_a_new_checkout_while_the_provider_is_unavailable_is_503(shop_client, gateway):
    gateway.available = False

    response = shop_client.post("/checkouts", json=checkout_body(), headers=STORE)

    assert_problem(response, 503, "payment_provider_unavailable")
