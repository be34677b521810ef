"""The v2 order surface over HTTP (CONTRACT §3.1 v2, §3.2 v2, §3.4 v2): addresses, tax and
shipping fixed per checkout, fulfilment moves, cancelling an unpaid order, invoices and
credit notes as JSON and PDF, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from litestar.testing import TestClient
from pypdf import PdfReader

from api.app import create_app
from checkout_saga.invariants import check_invariants
from tests.conftest import system_for
from tests.integration.api_support import ADMIN, STORE, FakeReadModels, api_settings, assert_problem

SHIP_TO = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}
BILL_TO = {"name": "Ada King", "line1": "1 Ockham Park", "city": "Ockham", "postal_code": "GU23 6NJ",
           "country": "GB"}
SELLER = {"charges_enabled": True, "name": "Analytical Engines Ltd",
          "address": {"name": "Analytical Engines Ltd", "line1": "5 Dorset Street",
                      "city": "London", "postal_code": "W1U 6QJ", "country": "GB"},
          "tax_id": "GB123456789", "email": "billing@engines.example"}


def pricing_settings(database_url, **changes):
    pricing = {"tax_rate": "0.1", "shipping_amount": 499, "free_shipping_over": 10000, **changes}
    return replace(api_settings(database_url), **pricing)


def make_client(service, gateway, clock, database_url, **changes):
    app = create_app(system_for(service.store, gateway, clock,
                                settings=pricing_settings(database_url, **changes),
                                read_models=FakeReadModels()))
    return TestClient(app)


@pytest.fixture
def shop(service, gateway, clock, database_url):
    with make_client(service, gateway, clock, database_url) as client:
        assert client.put("/sellers/acct_1", json=SELLER, headers=ADMIN).status_code == 200
        for sku, name, amount, stock in (("TSHIRT-M", "T-shirt, medium", 1999, 50),
                                         ("MUG", "Mug", 1250, 50)):
            product = {"name": name, "unit_amount": amount, "currency": "usd",
                       "seller_id": "acct_1", "active": True}
            assert client.put(f"/products/{sku}", json=product, headers=ADMIN).status_code == 200
            assert client.post(f"/inventory/{sku}/adjustments", json={"delta": stock, "reason": "in"},
                               headers=ADMIN).status_code == 200
        yield client


def start(client, session="cs_v2_000001", payment_method="pm_card_visa", items=None, **extra):
    body = {"checkout_session_id": session, "customer": {"id": "cus_42", "email": "ada@example.com"},
            "items": items or [{"sku": "TSHIRT-M", "quantity": 2}], "shipping_address": SHIP_TO,
            **extra}
    if payment_method:
        body["payment_method"] = payment_method
    return client.post("/checkouts", json=body, headers=STORE)


def paid_order_id(client, session="cs_v2_000001", **extra) -> str:
    response = start(client, session, **extra)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "completed"
    return response.json()["order"]["order_id"]


# --- amounts and addresses --------------------------------------------------------------


def test_a_checkout_charges_tax_and_shipping_in_the_default_currency(shop, gateway):
    response = start(shop)

    checkout = response.json()
    assert response.status_code == 201, response.text
    assert checkout["currency"] == "usd"
    assert (checkout["amount_subtotal"], checkout["amount_tax"], checkout["amount_shipping"],
            checkout["amount_total"]) == (3998, 400, 499, 4897)
    assert checkout["shipping_address"] == {**SHIP_TO, "line2": None, "state": None}
    assert checkout["billing_address"] is None
    (intent,) = gateway.intents.values()
    assert intent.amount == 4897


def test_shipping_is_free_from_the_threshold(shop):
    checkout = start(shop, items=[{"sku": "TSHIRT-M", "quantity": 5}]).json()  # 99.95: below

    assert checkout["amount_shipping"] == 499
    checkout = start(shop, "cs_v2_000002", items=[{"sku": "TSHIRT-M", "quantity": 5},
                                                  {"sku": "MUG", "quantity": 1}]).json()
    assert checkout["amount_subtotal"] == 11245 and checkout["amount_shipping"] == 0


def test_the_order_carries_the_amounts_and_addresses(shop):
    order_id = paid_order_id(shop, billing_address=BILL_TO)

    order = shop.get(f"/orders/{order_id}", headers=STORE).json()

    assert (order["amount_subtotal"], order["amount_tax"], order["amount_shipping"],
            order["amount_total"]) == (3998, 400, 499, 4897)
    assert order["shipping_address"]["name"] == "Ada Lovelace"
    assert order["billing_address"]["name"] == "Ada King"
    assert order["fulfillment"] == {"status": "unfulfilled", "carrier": None,
                                    "tracking_number": None, "shipped_at": None,
                                    "delivered_at": None}


def test_a_later_change_of_the_tax_rate_never_alters_an_existing_checkout(
        shop, service, gateway, clock, database_url):
    checkout = start(shop, payment_method=None).json()
    assert checkout["amount_total"] == 4897

    with make_client(service, gateway, clock, database_url, tax_rate="0.25",
                     shipping_amount=0) as changed:
        again = changed.get(f"/checkouts/{checkout['checkout_id']}", headers=STORE).json()
        confirmed = changed.post(f"/checkouts/{checkout['checkout_id']}/confirm",
                                 json={"payment_method": "pm_card_visa"}, headers=STORE).json()
        fresh = start(changed, "cs_v2_000009", payment_method=None).json()

    assert again["amount_tax"] == 400 and again["amount_total"] == 4897
    assert confirmed["status"] == "completed"
    assert {i.amount for i in gateway.intents.values() if i.checkout_id == checkout["checkout_id"]} == {4897}
    assert (fresh["amount_tax"], fresh["amount_shipping"], fresh["amount_total"]) == (1000, 0, 4998)


@pytest.mark.parametrize(("change", "field"), [
    ({"country": "gb"}, "shipping_address.country"),
    ({"country": "XX"}, "shipping_address.country"),
    ({"name": "   "}, "shipping_address.name"),
    ({"postal_code": ""}, "shipping_address.postal_code"),
])
def test_a_bad_address_field_is_a_validation_error_naming_it(shop, change, field):
    response = start(shop, shipping_address={**SHIP_TO, **change})

    body = assert_problem(response, 422, "validation_error")
    assert field in [e["field"] for e in body["errors"]]


def test_a_missing_address_field_is_named(shop):
    address = {k: v for k, v in BILL_TO.items() if k != "city"}

    body = assert_problem(start(shop, billing_address=address), 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["billing_address.city"]


# --- fulfilment -------------------------------------------------------------------------


def move(client, order_id, headers=ADMIN, **body):
    return client.patch(f"/orders/{order_id}/status", json=body, headers=headers)


def test_fulfilment_moves_forward_and_records_who_moved_it(shop, service):
    order_id = paid_order_id(shop)

    assert move(shop, order_id, status="processing").json()["fulfillment"]["status"] == "processing"
    assert_problem(move(shop, order_id, status="shipped"), 422, "validation_error")
    shipped = move(shop, order_id, status="shipped", carrier="Royal Mail", tracking_number="RM1")
    delivered = move(shop, order_id, status="delivered").json()

    assert shipped.status_code == 200
    f = delivered["fulfillment"]
    assert (f["status"], f["carrier"], f["tracking_number"]) == ("delivered", "Royal Mail", "RM1")
    assert f["shipped_at"] and f["delivered_at"]
    moves = [e for e in service.store.stream(service.orders.get_order(order_id).id)
             if type(e).__name__ == "FulfillmentUpdated"]
    assert [e.status for e in moves] == ["processing", "shipped", "delivered"]
    assert all(e.cause.kind == "operator" and e.cause.actor for e in moves)


def test_a_backward_or_repeated_move_is_refused(shop):
    order_id = paid_order_id(shop)
    assert move(shop, order_id, status="shipped", tracking_number="T1").status_code == 200

    assert_problem(move(shop, order_id, status="shipped", tracking_number="T1"), 409,
                   "invalid_fulfillment_transition")
    assert_problem(move(shop, order_id, status="processing"), 409, "invalid_fulfillment_transition")


def test_an_unpaid_order_cannot_be_fulfilled(shop):
    order_id = start(shop, payment_method=None).json()["order"]["order_id"]

    assert_problem(move(shop, order_id, status="processing"), 409, "order_not_paid")


def test_fulfilment_is_for_admin_keys(shop):
    order_id = paid_order_id(shop)

    assert_problem(move(shop, order_id, headers=STORE, status="processing"), 403, "forbidden")


# --- cancelling an order ----------------------------------------------------------------


def test_deleting_an_unpaid_order_cancels_its_checkout_with_full_compensation(shop):
    checkout = start(shop, payment_method=None).json()
    order_id = checkout["order"]["order_id"]

    response = shop.delete(f"/orders/{order_id}", headers=ADMIN)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    after = shop.get(f"/checkouts/{checkout['checkout_id']}", headers=STORE).json()
    assert after["status"] == "cancelled" and after["payment"]["status"] == "canceled"
    assert shop.get("/inventory/TSHIRT-M", headers=STORE).json()["reserved"] == 0
    assert shop.delete(f"/orders/{order_id}", headers=ADMIN).json()["status"] == "cancelled"


def test_a_paid_order_cannot_be_deleted(shop):
    order_id = paid_order_id(shop)

    assert_problem(shop.delete(f"/orders/{order_id}", headers=ADMIN), 409, "order_paid")


# --- invoices and credit notes ----------------------------------------------------------


def test_a_paid_order_has_an_invoice_with_the_seller_and_buyer_as_they_were(shop):
    order_id = paid_order_id(shop, billing_address=BILL_TO)
    shop.put("/sellers/acct_1", json={"charges_enabled": True}, headers=ADMIN)  # later change

    invoice = shop.get(f"/orders/{order_id}/invoice", headers=STORE).json()

    assert invoice["invoice_number"] == "INV-2026-000001"
    assert invoice["seller"]["name"] == "Analytical Engines Ltd"
    assert invoice["seller"]["tax_id"] == "GB123456789"
    assert invoice["buyer"]["name"] == "Ada King" and invoice["buyer"]["email"] == "ada@example.com"
    assert invoice["lines"] == [{"sku": "TSHIRT-M", "name": "T-shirt, medium", "quantity": 2,
                                 "unit_amount": 1999, "amount": 3998}]
    assert (invoice["amount_subtotal"], invoice["amount_tax"], invoice["amount_shipping"],
            invoice["amount_total"], invoice["currency"]) == (3998, 400, 499, 4897, "usd")
    assert invoice["credit_notes"] == []
    order = shop.get(f"/orders/{order_id}", headers=STORE).json()
    assert order["invoice_number"] == "INV-2026-000001"


def test_invoice_numbers_run_on_per_seller(shop):
    numbers = [shop.get(f"/orders/{paid_order_id(shop, f'cs_v2_00000{i}')}/invoice",
                        headers=STORE).json()["invoice_number"] for i in range(1, 4)]

    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]


def test_an_unpaid_order_has_no_invoice(shop):
    order_id = start(shop, payment_method=None).json()["order"]["order_id"]

    assert_problem(shop.get(f"/orders/{order_id}/invoice", headers=STORE), 404, "not_found")
    assert_problem(shop.get(f"/orders/{order_id}/invoice.pdf", headers=STORE), 404, "not_found")


def _pdf_text(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_invoice_pdf_shows_number_parties_lines_and_totals(shop):
    order_id = paid_order_id(shop, billing_address=BILL_TO,
                             items=[{"sku": "TSHIRT-M", "quantity": 2}, {"sku": "MUG", "quantity": 1}])

    response = shop.get(f"/orders/{order_id}/invoice.pdf", headers=STORE)
    text = _pdf_text(response)

    for expected in ("INV-2026-000001", "Analytical Engines Ltd", "5 Dorset Street", "GB123456789",
                     "Ada King", "1 Ockham Park", "T-shirt, medium", "Mug", "$39.98", "$12.50",
                     "$52.48", "Tax (10%)", "$5.25", "$4.99", "$62.72"):
        assert expected in text, expected
    assert shop.get(f"/orders/{order_id}/invoice.pdf", headers=STORE).content == response.content


def test_a_succeeded_refund_gets_a_credit_note_and_its_pdf(shop):
    order_id = paid_order_id(shop)
    refund = shop.post(f"/orders/{order_id}/refunds", json={"amount": 1000},
                       headers={**ADMIN, "Idempotency-Key": "refund-1"})
    assert refund.status_code == 201 and refund.json()["status"] == "succeeded"

    (note,) = shop.get(f"/orders/{order_id}/invoice", headers=STORE).json()["credit_notes"]
    text = _pdf_text(shop.get(f"/orders/{order_id}/credit-notes/{note['credit_note_number']}.pdf",
                              headers=STORE))

    assert note["credit_note_number"] == "CN-2026-000001" and note["amount"] == 1000
    assert note["refund_id"] == refund.json()["refund_id"]
    assert "CN-2026-000001" in text and "INV-2026-000001" in text and "$10.00" in text
    assert_problem(shop.get(f"/orders/{order_id}/credit-notes/CN-2026-000009.pdf", headers=STORE),
                   404, "not_found")


def test_every_paid_order_has_exactly_one_invoice_after_all_this(shop, service):
    for i in range(1, 4):
        order_id = paid_order_id(shop, f"cs_v2_00001{i}")
        shop.post(f"/orders/{order_id}/refunds", json={},
                  headers={**ADMIN, "Idempotency-Key": f"full-{i}"})
    start(shop, "cs_v2_000020", payment_method=None)

    assert check_invariants(service.store.all_events()) == []


# --- sellers ----------------------------------------------------------------------------


def test_put_seller_replaces_it_so_left_out_fields_are_cleared(shop):
    before = shop.get("/sellers/acct_1", headers=ADMIN).json()
    after = shop.put("/sellers/acct_1", json={"charges_enabled": True, "name": "AE"},
                     headers=ADMIN).json()

    assert before["tax_id"] == "GB123456789" and before["address"]["city"] == "London"
    assert (after["name"], after["tax_id"], after["address"], after["email"]) == ("AE", None, None, None)


def test_a_seller_address_is_validated_like_any_other(shop):
    body = {**SELLER, "address": {**SELLER["address"], "country": "UK"}}

    response = assert_problem(shop.put("/sellers/acct_1", json=body, headers=ADMIN), 422,
                              "validation_error")
    assert response["errors"][0]["field"] == "address.country"
