"""Inventory, catalog and operations routes (admin writes, storefront reads)."""

from __future__ import annotations

from tests.integration.api_support import (
    ADMIN,
    STORE,
    assert_problem,
    checkout_body,
    paid_checkout,
)


def test_an_inventory_level_has_the_contract_shape(shop_client):
    paid_checkout(shop_client)

    body = shop_client.get("/inventory/TSHIRT-M", headers=STORE).json()

    assert body == {"sku": "TSHIRT-M", "on_hand": 8, "reserved": 0, "available": 8, "sold": 2}


def test_an_adjustment_returns_the_new_level(shop_client):
    response = shop_client.post("/inventory/MUG/adjustments", json={"delta": 25, "reason": "restock"},
                                headers=ADMIN)

    assert response.status_code == 200 and response.json()["on_hand"] == 30


def test_a_negative_adjustment_below_available_is_insufficient_stock(shop_client):
    response = shop_client.post("/inventory/MUG/adjustments", json={"delta": -6, "reason": "shrink"},
                                headers=ADMIN)

    assert_problem(response, 409, "insufficient_stock")


def test_a_storefront_key_cannot_adjust_stock(shop_client):
    response = shop_client.post("/inventory/MUG/adjustments", json={"delta": 1, "reason": "x"},
                                headers=STORE)

    assert_problem(response, 403, "forbidden")


def test_a_product_is_put_and_read_back(client):
    product = {"name": "Hat", "unit_amount": 900, "currency": "usd", "seller_id": "acct_9", "active": True}

    client.put("/products/HAT", json=product, headers=ADMIN)
    body = client.get("/products/HAT", headers=ADMIN).json()

    assert {k: body[k] for k in product} == product and body["sku"] == "HAT"


def test_an_unknown_product_is_not_found(client):
    assert_problem(client.get("/products/NOPE", headers=ADMIN), 404, "not_found")


def test_a_product_with_a_negative_price_is_a_validation_error(client):
    product = {"name": "Hat", "unit_amount": -1, "currency": "usd", "seller_id": "acct_9"}

    body = assert_problem(client.put("/products/HAT", json=product, headers=ADMIN), 422, "validation_error")
    assert body["errors"][0]["field"] == "unit_amount"


def test_a_seller_is_put_with_charges_enabled(client):
    response = client.put("/sellers/acct_2", json={"charges_enabled": True}, headers=ADMIN)

    assert response.status_code == 200 and response.json()["charges_enabled"] is True


def test_ops_lists_checkouts_from_the_ops_projection(shop_client, api_read_models):
    created = shop_client.post("/checkouts", json=checkout_body(payment_method=None), headers=STORE).json()
    api_read_models.ops = [created["checkout_id"]]

    response = shop_client.get("/ops/checkouts?status=awaiting_payment&older_than_seconds=60", headers=ADMIN)

    assert [c["checkout_id"] for c in response.json()["items"]] == [created["checkout_id"]]
    assert api_read_models.calls[-1] == {"status": "awaiting_payment", "older_than_seconds": 60}


def test_ops_routes_need_an_admin_key(client):
    assert_problem(client.get("/ops/checkouts", headers=STORE), 403, "forbidden")
    assert_problem(client.get("/ops/checkouts"), 401, "unauthorized")


def test_retrying_a_completed_checkout_is_refused(shop_client):
    checkout = paid_checkout(shop_client)

    response = shop_client.post(f"/ops/checkouts/{checkout['checkout_id']}/retry", headers=ADMIN)

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


def test_resolving_needs_a_note(shop_client):
    checkout = paid_checkout(shop_client)

    response = shop_client.post(f"/ops/checkouts/{checkout['checkout_id']}/resolve", json={},
                                headers=ADMIN)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "note"


def test_resolving_an_unknown_checkout_is_not_found(client):
    response = client.post("/ops/checkouts/chk_00/resolve", json={"note": "done"}, headers=ADMIN)

    assert_problem(response, 404, "not_found")


def test_reconciliation_says_when_none_has_run(client):
    response = client.get("/ops/reconciliation", headers=ADMIN)

    assert response.status_code == 200
    assert response.json() == {"report": None, "detail": "no reconciliation has run yet"}


def _checkout_needing_attention(client, service, gateway, clock):
    """An unpaid checkout whose cancel keeps failing at the provider until it escalates."""
    created = client.post("/checkouts", json=checkout_body(payment_method=None), headers=STORE).json()
    gateway.inject("cancel", "error_500", times=5)
    client.post(f"/checkouts/{created['checkout_id']}/cancel", headers=STORE)
    for _ in range(10):
        if service.checkouts.get(created["checkout_id"]).status == "needs_attention":
            break
        clock.advance(hours=1)
        service.checkouts.resume(created["checkout_id"])
    assert service.checkouts.get(created["checkout_id"]).status == "needs_attention"
    return created["checkout_id"]


def test_an_operator_retry_reruns_the_failed_compensation(shop_client, service, gateway, clock):
    checkout_id = _checkout_needing_attention(shop_client, service, gateway, clock)

    response = shop_client.post(f"/ops/checkouts/{checkout_id}/retry", json={"note": "stripe is back"},
                                headers=ADMIN)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"


def test_an_operator_resolves_a_checkout_needing_attention_and_is_recorded(shop_client, service, gateway, clock):
    checkout_id = _checkout_needing_attention(shop_client, service, gateway, clock)

    response = shop_client.post(f"/ops/checkouts/{checkout_id}/resolve",
                                json={"note": "cancelled by hand in the dashboard"}, headers=ADMIN)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "resolved"
    last = shop_client.get(f"/checkouts/{checkout_id}/events", headers=STORE).json()["events"][-1]
    assert last["type"] == "CheckoutResolved"
    assert last["data"]["note"] == "cancelled by hand in the dashboard"
    assert last["data"]["cause"]["kind"] == "operator" and last["data"]["cause"]["actor"].startswith("key_")
