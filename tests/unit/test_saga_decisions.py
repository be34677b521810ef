"""decide(): pure decisions, given states and an input, then the events and effects."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.checkout_decisions import decide_cancel, decide_expire, decide_step_result
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ids import checkout_stream
from checkout_saga.saga import decide_start
from events import checkout as ev
from events import inventory as inv_ev
from tests.unit.sagas import (
    NOW,
    TTL,
    after_start,
    apply,
    command,
    fold_all,
    product,
    seller,
    snapshot,
    started,
)


def test_start_reserves_every_line_places_the_order_and_asks_for_an_intent_in_one_decision():
    _, decision = started()

    types = [type(e).__name__ for e in decision.events]
    assert types == ["CheckoutStarted", "UnitsReserved", "StockReserved", "OrderPlaced",
                     "OrderAttached", "PaymentStepRequested"]
    (effect,) = decision.effects
    assert isinstance(effect, fx.CreatePaymentIntent)
    assert effect.idempotency_key.endswith(":create_intent") and effect.payment_method == "pm_card_visa"
    assert effect.amount == 3998


def test_start_with_too_little_stock_refuses_and_reserves_nothing():
    _, decision = started(quantity=11)

    assert not any(isinstance(e, inv_ev.UnitsReserved) for e in decision.events)
    assert isinstance(decision.error, errors.InsufficientStockError)
    assert decision.effects == []


def test_start_for_a_seller_without_charges_fails_before_reserving():
    _, decision = started(enabled=False)

    assert [type(e).__name__ for e in decision.events] == ["CheckoutStarted", "CheckoutFailed"]
    assert isinstance(decision.error, errors.SellerCannotAcceptPaymentsError)


@pytest.mark.parametrize("bad, field", [
    (StartCheckout(checkout_session_id="short", currency="usd", items=(CartLine(sku="A", quantity=1),)), "checkout_session_id"),
    (StartCheckout(checkout_session_id="cs_unit_0001", currency="usd", items=()), "items"),
    (StartCheckout(checkout_session_id="cs_unit_0001", currency="usd", items=(CartLine(sku="A", quantity=0),)), "items[0].quantity"),
    (StartCheckout(checkout_session_id="cs_unit_0001", currency="usd", items=(CartLine(sku="A", quantity=1001),)), "items[0].quantity"),
    (StartCheckout(checkout_session_id="cs_unit_0001", currency="usd", items=(CartLine(sku="A", quantity=1), CartLine(sku="A", quantity=1))), "items[1].sku"),
    (StartCheckout(checkout_session_id="cs_unit_0001", currency="USD", items=(CartLine(sku="A", quantity=1),)), "currency"),
])
def test_start_rejects_bad_input_naming_the_field(bad, field):
    decision = decide_start(bad, None, {}, {}, {}, stream_id=checkout_stream("x"), now=NOW,
                            reservation_ttl=TTL)
    assert isinstance(decision.error, errors.ValidationError) and not decision.events
    assert field in [f for f, _ in decision.error.errors]


def test_start_rejects_unknown_and_inactive_products():
    cmd = command()
    unknown = decide_start(cmd, None, {"TSHIRT-M": None}, {}, {}, stream_id=checkout_stream("x"),
                           now=NOW, reservation_ttl=TTL)
    inactive = decide_start(cmd, None, {"TSHIRT-M": product(active=False)}, {"acct_1": seller()},
                            {}, stream_id=checkout_stream("x"), now=NOW, reservation_ttl=TTL)
    assert isinstance(unknown.error, errors.UnknownSkuError) and not unknown.events
    assert isinstance(inactive.error, errors.ProductUnavailableError) and not inactive.events


def test_a_replayed_start_records_nothing_and_a_changed_one_conflicts():
    cmd, decision = started()
    (checkout,) = fold_all(decision, "checkout").values()

    replay = decide_start(cmd, checkout, {}, {}, {}, stream_id=checkout.id, now=NOW, reservation_ttl=TTL)
    assert replay.events == []
    changed = decide_start(command(quantity=3), checkout, {}, {}, {}, stream_id=checkout.id,
                           now=NOW, reservation_ttl=TTL)
    assert isinstance(changed.error, errors.IdempotencyConflictError) and not changed.events


def test_authorization_commits_stock_before_asking_to_capture():
    checkout, inventory, order = after_start()

    decision = decide_step_result(checkout, "create_intent", checkout.pending.idempotency_key,
                                  snapshot("requires_capture", amount_capturable=3998),
                                  inventory, order, now=NOW)

    types = [type(e).__name__ for e in decision.events]
    assert types.index("ReservationCommitted") < types.index("PaymentStepRequested")
    (effect,) = decision.effects
    assert isinstance(effect, fx.CapturePayment) and effect.idempotency_key.endswith(":capture")


def test_an_unknown_outcome_is_retried_later_with_the_same_key_not_compensated():
    checkout, inventory, order = after_start()
    key = checkout.pending.idempotency_key

    decision = decide_step_result(checkout, "create_intent", key,
                                  ports.PaymentOutcomeUnknownError("timeout"), inventory, order, now=NOW)

    (event,) = decision.events
    assert isinstance(event, ev.PaymentStepOutcomeUnknown) and event.idempotency_key == key
    assert event.retry_at > NOW and decision.effects == []
    later = decide_step_result(apply(checkout, decision.events), "create_intent", key,
                               snapshot("requires_capture", amount_capturable=3998), inventory, order,
                               now=event.retry_at)
    assert not any(isinstance(e, ev.CompensationStarted) for e in later.events)


def test_cancel_undoes_in_reverse_order_starting_with_the_intent():
    checkout, inventory, order = after_start(payment_method=None)
    checkout = apply(checkout, decide_step_result(
        checkout, "create_intent", checkout.pending.idempotency_key,
        snapshot("requires_payment_method"), inventory, order, now=NOW).events)

    decision = decide_cancel(checkout, inventory, order, reason="customer", now=NOW)

    (started_comp,) = [e for e in decision.events if isinstance(e, ev.CompensationStarted)]
    assert started_comp.steps == ["cancel_intent", "release_stock", "cancel_order"]
    assert not any(isinstance(e, inv_ev.ReservationReleased) for e in decision.events)
    (effect,) = decision.effects
    assert isinstance(effect, fx.CancelPaymentIntent) and not effect.unless_authorized


def test_stock_is_released_only_after_the_cancel_succeeded():
    checkout, inventory, order = after_start(payment_method=None)
    checkout = apply(checkout, decide_step_result(
        checkout, "create_intent", checkout.pending.idempotency_key,
        snapshot("requires_payment_method"), inventory, order, now=NOW).events)
    checkout = apply(checkout, decide_cancel(checkout, inventory, order, reason="c", now=NOW).events)

    failed = decide_step_result(checkout, "cancel_intent", "k", ports.PaymentOutcomeUnknownError("500"),
                                inventory, order, now=NOW)
    assert not any(isinstance(e, inv_ev.ReservationReleased) for e in failed.events)
    assert isinstance(failed.events[-1], ev.CompensationStepFailed)

    done = decide_step_result(checkout, "cancel_intent", "k", snapshot("canceled"), inventory, order, now=NOW)
    types = [type(e).__name__ for e in done.events]
    assert "ReservationReleased" in types and "OrderCancelled" in types
    assert types[-1] == "CheckoutCancelled"


def test_a_failing_cancel_escalates_to_needs_attention_after_its_attempts():
    checkout, inventory, order = after_start(payment_method=None)
    checkout = apply(checkout, decide_step_result(
        checkout, "create_intent", checkout.pending.idempotency_key,
        snapshot("requires_payment_method"), inventory, order, now=NOW).events)
    checkout = apply(checkout, decide_cancel(checkout, inventory, order, reason="c", now=NOW).events)

    for _ in range(5):
        decision = decide_step_result(checkout, "cancel_intent", "k",
                                      ports.PaymentOutcomeUnknownError("500"), inventory, order, now=NOW)
        checkout = apply(checkout, decision.events)

    assert checkout.status == "needs_attention"
    assert checkout.stock == "reserved"  # never released while the intent may be live


def test_expiry_asks_to_cancel_unless_already_authorized_and_completes_if_it_was():
    checkout, inventory, order = after_start(payment_method=None)
    checkout = apply(checkout, decide_step_result(
        checkout, "create_intent", checkout.pending.idempotency_key,
        snapshot("requires_action", next_action_url="https://x"), inventory, order, now=NOW).events)

    expiry = decide_expire(checkout, inventory, order, now=NOW + TTL)
    (effect,) = expiry.effects
    assert isinstance(effect, fx.CancelPaymentIntent) and effect.unless_authorized
    expiring = apply(checkout, expiry.events)

    late = decide_step_result(expiring, "cancel_intent", effect.idempotency_key,
                              snapshot("requires_capture", amount_capturable=3998), inventory, order,
                              now=NOW + TTL)
    types = [type(e).__name__ for e in late.events]
    assert types[0] == "CompensationAbandoned" and "ReservationCommitted" in types
    assert isinstance(late.effects[0], fx.CapturePayment)


def test_expiry_before_the_deadline_does_nothing():
    checkout, inventory, order = after_start(payment_method=None)
    assert decide_expire(checkout, inventory, order, now=NOW + TTL - timedelta(seconds=1)).events == []


def test_a_late_older_view_of_the_intent_never_moves_the_checkout_backwards():
    checkout, inventory, order = after_start()
    checkout = apply(checkout, decide_step_result(
        checkout, "create_intent", checkout.pending.idempotency_key,
        snapshot("requires_capture", amount_capturable=3998), inventory, order, now=NOW).events)

    decision = decide_step_result(checkout, "sync_intent", "x", snapshot("requires_action"),
                                  inventory, order, now=NOW)

    assert not any(isinstance(e, ev.PaymentActionRequired) for e in decision.events)
