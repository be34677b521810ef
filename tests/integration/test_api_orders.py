"""/orders: read, list (orders projection), refunds with a required Idempotency-Key."""

from __future__ import annotations

from tests.integration.api_support import (
    ADMIN,
    STORE,
    assert_problem,
    checkout_body,
    paid_checkout,
)


def refund(client, order_id, body, key="refund-1", headers=ADMIN):
    return client.post(f"/orders/{order_id}/refunds", json=body,
                       headers={**headers, "Idempotency-Key": key} if key else headers)


def test_a_paid_order_has_the_contract_shape(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    body = shop_client.get(f"/orders/{order_id}", headers=STORE).json()

    assert set(body) == {"order_id", "order_number", "checkout_id", "customer_id", "status",
                         "currency", "amount_total", "amount_refunded", "items", "created_at",
                         "paid_at", "dispute",
                         # v2
                         "amount_subtotal", "amount_tax", "amount_shipping", "shipping_address",
                         "billing_address", "invoice_number", "fulfillment"}
    assert body["dispute"] is None
    assert (body["status"], body["amount_total"], body["customer_id"]) == ("paid", 3998, "cus_42")


def test_an_unknown_order_is_not_found(client):
    assert_problem(client.get("/orders/ord_nope", headers=STORE), 404, "not_found")


def test_listing_orders_reads_the_orders_projection_with_the_filters(client, api_read_models):
    api_read_models.orders = [{"order_id": "ord_1"}]

    response = client.get("/orders?customer_id=cus_42&status=paid&limit=10", headers=STORE)

    assert response.json() == {"items": [{"order_id": "ord_1"}], "next_cursor": None}
    assert api_read_models.calls[-1]["customer_id"] == "cus_42" and api_read_models.calls[-1]["limit"] == 10


def test_a_refund_is_created_with_201(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    response = refund(shop_client, order_id, {"amount": 1999, "reason": "requested_by_customer"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"refund_id", "order_id", "amount", "status", "reason", "created_at",
                         "source", "requested_by", "approved_by", "override_window",
                         "rejection_note"}
    assert (body["amount"], body["reason"], body["order_id"], body["source"]) == (
        1999, "requested_by_customer", order_id, "api")
    assert shop_client.get(f"/orders/{order_id}", headers=STORE).json()["status"] == "partially_refunded"


def test_a_refund_without_an_amount_refunds_the_rest(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    assert refund(shop_client, order_id, {}).json()["amount"] == 3998
    assert shop_client.get(f"/orders/{order_id}", headers=STORE).json()["status"] == "refunded"


def test_a_refund_without_an_idempotency_key_is_refused(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    assert_problem(refund(shop_client, order_id, {"amount": 1}, key=None), 400,
                   "idempotency_key_required")


def test_a_refund_replayed_with_its_key_returns_the_first_response(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]
    first = refund(shop_client, order_id, {"amount": 500})

    again = refund(shop_client, order_id, {"amount": 500})

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert len(shop_client.get(f"/orders/{order_id}/refunds", headers=STORE).json()["items"]) == 1


def test_a_refund_key_reused_with_another_body_is_an_idempotency_conflict(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]
    refund(shop_client, order_id, {"amount": 500})

    assert_problem(refund(shop_client, order_id, {"amount": 501}), 409, "idempotency_conflict")


def test_refunding_more_than_remains_is_refused_with_the_refundable_amount(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    body = assert_problem(refund(shop_client, order_id, {"amount": 5000}), 409,
                          "refund_exceeds_remaining")
    assert body["refundable"] == 3998


def test_refunding_an_unpaid_order_is_order_not_paid(shop_client):
    created = shop_client.post("/checkouts", json=checkout_body(payment_method=None), headers=STORE).json()

    response = refund(shop_client, created["order"]["order_id"], {"amount": 100})

    assert_problem(response, 409, "order_not_paid")


def test_a_storefront_key_cannot_refund(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    assert_problem(refund(shop_client, order_id, {"amount": 1}, headers=STORE), 403, "forbidden")


def test_a_refund_with_an_unknown_reason_is_a_validation_error(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]

    body = assert_problem(refund(shop_client, order_id, {"reason": "because"}), 422, "validation_error")
    assert body["errors"][0]["field"] == "reason"


def test_the_refunds_of_an_order_are_listed(shop_client):
    order_id = paid_checkout(shop_client)["order"]["order_id"]
    created = refund(shop_client, order_id, {"amount": 100}).json()

    listed = shop_client.get(f"/orders/{order_id}/refunds", headers=STORE).json()

    assert listed == {"items": [created]}


def test_listing_orders_reads_the_real_orders_projection_after_catch_up(service, gateway, clock,
                                                                       database_url):
    from litestar.testing import TestClient

    from api.app import create_app
    from projections.runtime import ReadModels
    from tests.conftest import system_for
    from tests.integration.api_support import api_settings

    settings = api_settings(database_url)
    models = ReadModels(settings.database, event_store=service.store)
    models.migrate()
    app = create_app(system_for(service.store, gateway, clock, settings=settings,
                                read_models=models))
    try:
        with TestClient(app) as real_client:
            real_client.put("/sellers/acct_1", json={"charges_enabled": True}, headers=ADMIN)
            real_client.put("/products/MUG", json={"name": "Mug", "unit_amount": 1250, "currency": "usd",
                                                   "seller_id": "acct_1", "active": True}, headers=ADMIN)
            real_client.post("/inventory/MUG/adjustments", json={"delta": 5, "reason": "initial"}, headers=ADMIN)
            paid = real_client.post("/checkouts", json=checkout_body(MUG=1), headers=STORE).json()
            models.catch_up()

            listed = real_client.get("/orders?customer_id=cus_42", headers=STORE).json()
    finally:
        models.close()

    assert [row["order_id"] for row in listed["items"]] == [paid["order"]["order_id"]]
    assert listed["next_cursor"] is None
