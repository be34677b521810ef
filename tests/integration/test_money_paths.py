"""Issue 15's money paths through the services and the API, on real SQLite and PostgreSQL
with the fake gateway: restock validated as a whole, the captured amount taken from Stripe,
catalog changes mid-payment, the intent cancelled by search, the start in one transaction."""

from __future__ import annotations

import pytest

from checkout_saga import errors
from checkout_saga.checkout import fold_checkout
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.ids import checkout_stream, order_stream
from checkout_saga.order import fold_order
from checkout_saga.saga import decide_start
from tests.integration.api_support import ADMIN, STORE, assert_problem, paid_checkout
from tests.integration.test_checkout_service import assert_invariants, start

# --- 1. restock lines as a whole -----------------------------------------------------------


def test_a_refund_restocking_one_sku_twice_is_a_422_naming_the_second_line_and_creates_no_stock(
    shop_client,
):
    order_id = paid_checkout(shop_client)["order"]["order_id"]
    body = {"restock": [{"sku": "TSHIRT-M", "quantity": 2}, {"sku": "TSHIRT-M", "quantity": 2}]}

    response = shop_client.post(f"/orders/{order_id}/refunds", json=body,
                                headers={**ADMIN, "Idempotency-Key": "dup-restock"})

    problem = assert_problem(response, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["restock[1].sku"]
    level = shop_client.get("/inventory/TSHIRT-M", headers=STORE).json()
    assert (level["on_hand"], level["sold"]) == (8, 2)


def test_restock_across_refunds_never_puts_back_more_than_was_sold(shop, gateway):
    order_id = start(shop).checkout.order_id
    one = (CartLine(sku="TSHIRT-M", quantity=1),)
    shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=1000, restock=one))
    shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r2", amount=1000, restock=one))

    with pytest.raises(errors.ValidationError) as raised:
        shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r3", amount=1000,
                                       restock=one))

    assert [f for f, _ in raised.value.errors] == ["restock[0].quantity"]
    level = shop.catalog.get_inventory("TSHIRT-M")
    assert (level.on_hand, level.sold) == (10, 0)
    assert shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r4")).amount == 1998
    assert_invariants(shop, gateway)


# --- 2. the captured amount comes from Stripe ----------------------------------------------


def test_a_capture_of_another_amount_than_the_total_needs_attention_not_completed(shop, gateway):
    gateway.capture_reports_received = 3000  # the order total is 3998

    checkout = start(shop).checkout

    assert (checkout.status, checkout.failure.code) == ("needs_attention", "amount_mismatch")
    order = shop.orders.get_order(checkout.order_id)
    assert (order.status, order.amount_captured, order.refundable) == ("paid", 3000, 3000)
    assert_invariants(shop, gateway)


def test_an_amount_mismatch_shows_on_the_checkout_as_its_failure(shop_client, gateway):
    gateway.capture_reports_received = 1

    response = shop_client.post("/checkouts", json={
        "checkout_session_id": "cs_mismatch_0001", "currency": "usd",
        "customer": {"id": "cus_42", "email": "ada@example.com"},
        "items": [{"sku": "TSHIRT-M", "quantity": 1}], "payment_method": "pm_card_visa"},
        headers=STORE)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["failure"]["code"]) == ("needs_attention", "amount_mismatch")


# --- M9 / #8: the catalog changing while a payment is under way -------------------------------


def test_a_product_deactivated_and_repriced_mid_payment_does_not_disturb_the_checkout(shop, gateway):
    checkout = start(shop, payment_method=None).checkout
    shop.catalog.upsert_product(sku="TSHIRT-M", name="T-shirt M", unit_amount=2500, currency="usd",
                                seller_id="acct_1", active=False)

    paid = shop.checkouts.confirm_payment(checkout.checkout_id, payment_method="pm_card_visa")

    assert paid.status == "completed"
    order = shop.orders.get_order(paid.order_id)
    assert (order.amount_total, order.amount_captured) == (3998, 3998)
    assert [(i.sku, i.unit_amount) for i in order.items] == [("TSHIRT-M", 1999)]
    with pytest.raises(errors.ProductUnavailableError):
        start(shop, session="cs_after_deactivation")
    assert_invariants(shop, gateway)


def test_a_seller_disabled_mid_payment_stops_new_checkouts_not_the_one_already_checked(shop, gateway):
    """The seller is checked in the decision that records the create-intent intention (H8):
    an intent created while the seller could take payments goes on; nothing new starts."""
    checkout = start(shop, payment_method=None).checkout
    shop.catalog.set_seller("acct_1", charges_enabled=False)

    paid = shop.checkouts.confirm_payment(checkout.checkout_id, payment_method="pm_card_visa")

    assert paid.status == "completed"
    with pytest.raises(errors.SellerCannotAcceptPaymentsError):
        start(shop, session="cs_after_disable")
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert len(gateway.intents) == 1
    assert_invariants(shop, gateway)


# --- C1: an intent whose id was never learnt -----------------------------------------------


def test_cancelling_a_checkout_whose_intent_id_was_never_learnt_finds_it_by_metadata(shop, gateway):
    gateway.inject("create", "drop_response")  # Stripe created the intent; the reply was lost
    checkout = start(shop, payment_method=None).checkout
    assert checkout.payment_intent_id is None and checkout.pending.step == "create_intent"
    (intent,) = gateway.intents.values()

    cancelled = shop.checkouts.cancel(checkout.checkout_id)

    assert cancelled.status == "cancelled"
    assert ("search", None) in gateway.calls
    assert intent.status == "canceled" and cancelled.payment_intent_id == intent.id
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert_invariants(shop, gateway)


# --- C2: the start decision is one transaction ---------------------------------------------


def test_the_start_decisions_events_are_written_in_one_transaction_or_not_at_all(shop):
    cmd = StartCheckout(checkout_session_id="cs_one_transaction", currency="usd",
                        items=(CartLine(sku="TSHIRT-M", quantity=2), CartLine(sku="MUG", quantity=1)),
                        payment_method="pm_card_visa")
    sid = checkout_stream(cmd.checkout_session_id)
    products = {sku: shop.catalog.get_product(sku) for sku in ("TSHIRT-M", "MUG")}
    decision = decide_start(cmd, None, products, {"acct_1": shop.catalog.get_seller("acct_1")},
                            {sku: shop.catalog.get_inventory(sku) for sku in ("TSHIRT-M", "MUG")},
                            stream_id=sid, now=shop.checkouts.clock.now(),
                            reservation_ttl=shop.checkouts.reservation_ttl)
    assert len({e.originator_id for e in decision.events}) == 4  # checkout, 2 SKUs, order
    shop.catalog.adjust_stock("MUG", 1, "delivery")  # the last stream moves on meanwhile

    with pytest.raises(errors.ConcurrencyConflictError):
        shop.store.append(decision.events)

    assert shop.store.get(sid, fold_checkout) is None
    assert shop.store.get(order_stream(sid), fold_order) is None
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert shop.catalog.get_inventory("MUG").reserved == 0


# --- 5. an unknown payment method: the same answer on /checkouts as on /confirm -------------


def test_an_unknown_payment_method_at_start_is_a_402_and_the_customer_may_retry(shop_client, gateway,
                                                                                service):
    body = {"checkout_session_id": "cs_unknown_method", "currency": "usd",
            "customer": {"id": "cus_42", "email": "ada@example.com"},
            "items": [{"sku": "TSHIRT-M", "quantity": 1}], "payment_method": "pm_card_nonexistent"}

    response = shop_client.post("/checkouts", json=body, headers=STORE)

    problem = assert_problem(response, 402, "card_declined")
    checkout = shop_client.get(f"/checkouts/{problem['checkout_id']}", headers=STORE).json()
    assert checkout["status"] == "awaiting_payment"
    assert checkout["payment"]["payment_intent_id"] is not None
    retried = shop_client.post(f"/checkouts/{problem['checkout_id']}/confirm",
                               json={"payment_method": "pm_card_visa"}, headers=STORE)
    assert (retried.status_code, retried.json()["status"]) == (200, "completed")
    assert len(gateway.intents) == 1
    assert_invariants(service, gateway)


def test_an_unknown_payment_method_on_confirm_is_the_same_402(shop_client):
    body = {"checkout_session_id": "cs_unknown_on_confirm", "currency": "usd",
            "customer": {"id": "cus_42", "email": "ada@example.com"},
            "items": [{"sku": "TSHIRT-M", "quantity": 1}]}
    checkout_id = shop_client.post("/checkouts", json=body, headers=STORE).json()["checkout_id"]

    response = shop_client.post(f"/checkouts/{checkout_id}/confirm",
                                json={"payment_method": "pm_card_nonexistent"}, headers=STORE)

    assert_problem(response, 402, "card_declined")
    assert shop_client.get(f"/checkouts/{checkout_id}", headers=STORE).json()["status"] == "awaiting_payment"
