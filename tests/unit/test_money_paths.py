"""Issue 15's money paths at the decision level: restock validated as a whole, the captured
amount taken from Stripe, and terminal checkouts that stay terminal."""

from __future__ import annotations

import msgspec
import pytest

from checkout_saga import errors, ports
from checkout_saga.checkout import fold_checkout
from checkout_saga.checkout_decisions import decide_cancel, decide_confirm, decide_step_result
from checkout_saga.commands import CartLine, RefundOrder
from checkout_saga.inventory import fold_inventory
from checkout_saga.order import fold_order
from checkout_saga.refunds import decide_refund, decide_refund_result
from events import checkout as ev
from events import inventory as inv_ev
from events import order as ord_ev
from events.base import LineItem
from events.codec import decode, encode, topic_for
from tests.unit.sagas import NOW, after_start, apply, awaiting_payment, paid, snapshot

# --- given ---------------------------------------------------------------------------------


def refund(order, key="r1", amount=None, **restock):
    lines = tuple(CartLine(sku=s.replace("_", "-"), quantity=q) for s, q in restock.items())
    return decide_refund(order, RefundOrder(order_id=order.order_id, idempotency_key=key,
                                            amount=amount, restock=lines or None), now=NOW)


# --- 1. restock lines are validated as a whole ---------------------------------------------


def test_a_restock_naming_a_sku_twice_is_refused_naming_the_second_line():
    _, _, order = paid()
    cmd = RefundOrder(order_id=order.order_id, idempotency_key="r1",
                      restock=(CartLine(sku="TSHIRT-M", quantity=2), CartLine(sku="TSHIRT-M", quantity=2)))

    raised_decision = decide_refund(order, cmd, now=NOW)
    assert isinstance(raised_decision.error, errors.ValidationError) and not raised_decision.events

    assert [field for field, _ in raised_decision.error.errors] == ["restock[1].sku"]


def test_a_restock_beyond_what_was_sold_less_what_another_refund_restocks_is_refused():
    _, _, order = paid()
    first = refund(order, "r1", amount=1000, TSHIRT_M=1)
    order = fold_order(order, first.events)

    refused = refund(order, "r2", amount=1000, TSHIRT_M=2)
    assert isinstance(refused.error, errors.ValidationError) and not refused.events
    assert refused.error.errors == [("restock[0].quantity", "must be between 1 and 1")]

    order = fold_order(order, refund(order, "r3", amount=1000, TSHIRT_M=1).events)
    refused = refund(order, "r4", amount=500, TSHIRT_M=1)
    assert isinstance(refused.error, errors.ValidationError)
    ((field, message),) = refused.error.errors
    assert field == "restock[0].quantity" and "already restocked" in message


def test_a_refund_recorded_with_a_sku_twice_restocks_no_more_than_was_sold():
    """Refunds recorded before the whole-request check keep their duplicate lines: the
    restock still puts back at most what the checkout sold."""
    checkout, inventory, order = paid()
    twice = (LineItem(sku="TSHIRT-M", quantity=2), LineItem(sku="TSHIRT-M", quantity=2))
    order = fold_order(order, [ord_ev.RefundRequested(
        originator_id=order.id, originator_version=order.version + 1, occurred_at=NOW,
        refund_id="rf_old", amount=3998, reason=None, restock=list(twice), idempotency_key="old",
        request_fingerprint="x")])
    assert order.refunds["rf_old"].restock == twice

    decision = decide_refund_result(
        order, "rf_old", ports.RefundSnapshot(id="re_1", payment_intent_id="pi_1", amount=3998,
                                              currency="usd", status="succeeded"),
        inventory, now=NOW)

    restocked = [e for e in decision.events if isinstance(e, inv_ev.UnitsRestocked)]
    assert [(e.sku, e.quantity) for e in restocked] == [("TSHIRT-M", 2)]
    level = fold_inventory(inventory["TSHIRT-M"], restocked)
    assert (level.on_hand, level.sold) == (10, 0)


# --- 2. the captured amount comes from Stripe ----------------------------------------------


def _authorized():
    checkout, inventory, order = after_start()
    decision = decide_step_result(checkout, "create_intent", checkout.pending.idempotency_key,
                                  snapshot("requires_capture", amount_capturable=3998),
                                  inventory, order, now=NOW)
    inventory = {"TSHIRT-M": fold_inventory(inventory["TSHIRT-M"], [
        e for e in decision.events if isinstance(e, inv_ev.ReservationCommitted)])}
    return apply(checkout, decision.events), inventory, order


def test_a_capture_of_another_amount_than_the_total_needs_attention_with_amount_mismatch():
    checkout, inventory, order = _authorized()

    decision = decide_step_result(checkout, "capture", checkout.pending.idempotency_key,
                                  snapshot("succeeded", amount_received=3000), inventory, order,
                                  now=NOW)

    after = apply(checkout, decision.events)
    assert (after.status, after.failure.code, after.amount_captured) == ("needs_attention", "amount_mismatch", 3000)
    assert not any(isinstance(e, ev.CheckoutCompleted) for e in decision.events)
    paid_order = fold_order(order, [e for e in decision.events if e.originator_id == order.id])
    assert (paid_order.status, paid_order.amount_captured) == ("paid", 3000)

    again = decide_step_result(after, "sync_intent", "k", snapshot("succeeded", amount_received=3000),
                               inventory, paid_order, now=NOW)
    assert again.events == []


def test_a_capture_reply_without_amount_received_takes_the_latest_charges_amount_captured():
    checkout, inventory, order = _authorized()

    decision = decide_step_result(checkout, "capture", checkout.pending.idempotency_key,
                                  snapshot("succeeded", charge_amount_captured=3998), inventory,
                                  order, now=NOW)

    after = apply(checkout, decision.events)
    assert (after.status, after.amount_captured) == ("completed", 3998)


def test_a_capture_that_says_nothing_of_its_amount_is_not_completed_at_zero():
    checkout, inventory, order = _authorized()

    decision = decide_step_result(checkout, "capture", checkout.pending.idempotency_key,
                                  snapshot("succeeded"), inventory, order, now=NOW)

    after = apply(checkout, decision.events)
    assert (after.status, after.failure.code) == ("needs_attention", "amount_mismatch")


def test_a_needs_attention_event_stored_without_a_code_still_loads():
    stored = ev.CheckoutNeedsAttention(originator_id=after_start()[0].id, originator_version=9,
                                       occurred_at=NOW, step="capture", reason="old")
    old = msgspec.json.encode({k: v for k, v in msgspec.to_builtins(stored).items() if k != "code"})
    assert b'"code"' not in old and b'"reason"' in encode(stored)

    assert decode(topic_for(stored), old).code is None


# --- 4. terminal means terminal ------------------------------------------------------------


def _cancelled_while_confirming():
    """A declined card's confirm is in flight while the customer cancels and the cancel wins."""
    checkout, inventory, order = awaiting_payment()
    checkout = apply(checkout, decide_confirm(checkout, payment_method="pm_card_chargeDeclined",
                                              return_url=None, now=NOW).events)
    confirm_key = checkout.pending.idempotency_key
    checkout = apply(checkout, decide_cancel(checkout, inventory, order, reason="c", now=NOW).events)
    done = decide_step_result(checkout, "cancel_intent", "k", snapshot("canceled"), inventory,
                              order, now=NOW)
    checkout = apply(checkout, done.events)
    assert (checkout.status, checkout.payment_status) == ("cancelled", "canceled")
    return checkout, inventory, order, confirm_key


@pytest.mark.parametrize("late", [
    ports.CardDeclinedError("Your card was declined.", decline_code="generic_decline",
                            payment_intent=snapshot("requires_payment_method",
                                                    last_error_code="card_declined")),
    ports.PaymentRequestRejectedError("No such PaymentMethod", code="resource_missing"),
    ports.PaymentOutcomeUnknownError("timeout"),
], ids=["declined", "rejected", "unknown"])
def test_a_confirm_outcome_arriving_after_the_cancel_is_recorded_as_an_observation_only(late):
    checkout, inventory, order, key = _cancelled_while_confirming()

    decision = decide_step_result(checkout, "confirm", key, late, inventory, order, now=NOW)

    assert [type(e) for e in decision.events] == [ev.PaymentObservedAfterEnd]
    after = apply(checkout, decision.events)
    assert (after.status, after.payment_status, after.pending) == ("cancelled", "canceled", None)
    assert decision.effects == []


def test_a_stale_authorization_after_stripe_cancelled_the_intent_changes_nothing():
    checkout, inventory, order, key = _cancelled_while_confirming()

    decision = decide_step_result(checkout, "confirm", key,
                                  snapshot("requires_capture", amount_capturable=3998),
                                  inventory, order, now=NOW)

    assert decision.events == [] and decision.effects == []


@pytest.mark.parametrize("late", [
    lambda sid, v: ev.PaymentDeclined(originator_id=sid, originator_version=v, occurred_at=NOW,
                                      payment_intent_id="pi_1", code="card_declined",
                                      decline_code=None, message="declined"),
    lambda sid, v: ev.PaymentAuthorized(originator_id=sid, originator_version=v, occurred_at=NOW,
                                        payment_intent_id="pi_1", amount_capturable=3998),
    lambda sid, v: ev.PaymentStepRequested(originator_id=sid, originator_version=v, occurred_at=NOW,
                                           step="confirm", idempotency_key="k"),
    lambda sid, v: ev.PaymentAwaitingMethod(originator_id=sid, originator_version=v,
                                            occurred_at=NOW, payment_intent_id="pi_1",
                                            status="requires_payment_method"),
], ids=["declined", "authorized", "confirm_requested", "awaiting_method"])
def test_the_fold_never_moves_an_ended_checkout_whatever_was_recorded_after_the_end(late):
    """Second line of defence: streams recorded before the decisions were fixed (e.g.
    CheckoutCancelled then PaymentDeclined) replay as still cancelled, intent cancelled."""
    checkout, *_ = _cancelled_while_confirming()

    after = fold_checkout(checkout, [late(checkout.id, checkout.version + 1)])

    assert (after.status, after.payment_status, after.pending) == ("cancelled", "canceled", None)
    assert after.version == checkout.version + 1
