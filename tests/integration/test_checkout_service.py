"""The saga through its service on real SQLite and PostgreSQL, with the fake gateway."""

from __future__ import annotations

import pytest

from checkout_saga import errors
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.invariants import check_invariants


def start(service, session="cs_test_0001", payment_method="pm_card_visa", **lines):
    items = tuple(CartLine(sku=s, quantity=q) for s, q in (lines or {"TSHIRT-M": 2}).items())
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=items, customer_id="cus_42",
        payment_method=payment_method))


def assert_invariants(service, gateway):
    provider = {}
    for intent in gateway.intents.values():
        provider.setdefault(intent.checkout_id, []).append(intent.snapshot())
    assert check_invariants(service.store.all_events(), provider) == []


def test_a_card_that_needs_no_action_completes_the_checkout_in_one_call(shop, gateway):
    result = start(shop)

    assert result.created and result.checkout.status == "completed"
    order = shop.orders.get_order(result.checkout.order_id)
    assert (order.status, order.amount_captured) == ("paid", 3998)
    level = shop.catalog.get_inventory("TSHIRT-M")
    assert (level.on_hand, level.reserved, level.sold) == (8, 0, 2)
    assert gateway.captures == 1
    assert_invariants(shop, gateway)


def test_the_same_session_and_body_again_returns_the_same_checkout(shop, gateway):
    first = start(shop)
    again = start(shop)

    assert not again.created
    assert again.checkout.checkout_id == first.checkout.checkout_id
    assert len(gateway.intents) == 1


def test_the_same_session_with_another_body_is_an_idempotency_conflict(shop):
    start(shop)
    with pytest.raises(errors.IdempotencyConflictError):
        start(shop, MUG=1)


def test_insufficient_stock_reserves_nothing_and_fails_the_checkout(shop, gateway):
    with pytest.raises(errors.InsufficientStockError) as raised:
        start(shop, **{"TSHIRT-M": 2, "MUG": 6})

    assert raised.value.details["lines"] == [{"sku": "MUG", "requested": 6, "available": 5}]
    checkout = shop.checkouts.get(raised.value.details["checkout_id"])
    assert checkout.status == "failed"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert gateway.intents == {}


def test_a_declined_card_leaves_the_checkout_awaiting_payment_and_another_card_completes_it(shop, gateway):
    with pytest.raises(errors.CardDeclinedDomainError) as raised:
        start(shop, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    checkout_id = raised.value.details["checkout_id"]
    assert raised.value.details["decline_code"] == "insufficient_funds"
    assert shop.checkouts.get(checkout_id).status == "awaiting_payment"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 2

    checkout = shop.checkouts.confirm_payment(checkout_id, "pm_card_visa")

    assert checkout.status == "completed"
    assert len(gateway.intents) == 1 and gateway.captures == 1
    assert_invariants(shop, gateway)


def test_three_d_secure_completes_when_the_provider_reports_authorization(shop, gateway):
    checkout = start(shop, payment_method="pm_card_authenticationRequired").checkout
    assert checkout.status == "requires_action" and checkout.next_action_url

    snapshot = gateway.authenticate(checkout.payment_intent_id)
    checkout = shop.checkouts.apply_payment_snapshot(snapshot)

    assert checkout.status == "completed"
    assert_invariants(shop, gateway)


def test_cancel_releases_stock_cancels_the_intent_and_the_order(shop, gateway):
    checkout = start(shop, payment_method=None).checkout
    assert checkout.status == "awaiting_payment"

    cancelled = shop.checkouts.cancel(checkout.checkout_id)

    assert cancelled.status == "cancelled"
    assert gateway.intents[checkout.payment_intent_id].status == "canceled"
    assert shop.orders.get_order(checkout.order_id).status == "cancelled"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert shop.checkouts.cancel(checkout.checkout_id).status == "cancelled"
    assert_invariants(shop, gateway)


def test_a_captured_checkout_cannot_be_cancelled(shop):
    checkout = start(shop).checkout
    with pytest.raises(errors.CheckoutNotCancellableError):
        shop.checkouts.cancel(checkout.checkout_id)


def test_an_expired_reservation_cancels_the_intent_before_releasing_stock(shop, gateway, clock):
    checkout = start(shop, payment_method=None).checkout
    clock.advance(seconds=901)

    expired = shop.checkouts.resume(checkout.checkout_id)

    assert expired.status == "expired"
    assert gateway.intents[checkout.payment_intent_id].status == "canceled"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert_invariants(shop, gateway)


def test_partial_then_full_refund_restocks_on_the_full_one(shop, gateway):
    order_id = start(shop).checkout.order_id

    partial = shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=1000))
    assert partial.status == "succeeded"
    assert shop.orders.get_order(order_id).status == "partially_refunded"
    assert shop.catalog.get_inventory("TSHIRT-M").sold == 2

    with pytest.raises(errors.RefundExceedsRemainingError) as raised:
        shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r2", amount=5000))
    assert raised.value.details["refundable"] == 2998

    full = shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r3"))
    assert full.amount == 2998
    order = shop.orders.get_order(order_id)
    assert (order.status, order.amount_refunded) == ("refunded", 3998)
    level = shop.catalog.get_inventory("TSHIRT-M")
    assert (level.on_hand, level.sold) == (10, 0)
    assert_invariants(shop, gateway)


def test_a_refund_replayed_with_its_key_is_not_refunded_twice(shop, gateway):
    order_id = start(shop).checkout.order_id
    first = shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=500))
    again = shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=500))

    assert first.refund_id == again.refund_id
    assert shop.orders.get_order(order_id).amount_refunded == 500
    assert len(gateway.refunds) == 1
    with pytest.raises(errors.IdempotencyConflictError):
        shop.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=600))


def test_a_lost_capture_reply_is_retried_with_the_same_key_and_captures_once(shop, gateway, clock):
    gateway.inject("capture", "drop_response")
    checkout = start(shop).checkout
    assert checkout.status == "processing" and checkout.pending.step == "capture"

    clock.advance(seconds=120)
    checkout = shop.checkouts.resume(checkout.checkout_id)

    assert checkout.status == "completed"
    assert gateway.captures == 1
    assert_invariants(shop, gateway)
