"""Fulfilment moves forward only; shipped needs a tracking number; only a paid order moves."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import msgspec
import pytest

from checkout_saga import errors
from checkout_saga.fulfillment import FULFILLMENT_STATUSES, decide_fulfillment
from checkout_saga.order import FulfillmentState, fold_order
from events.base import Cause, LineItem
from events.order import OrderPlaced

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ORDER_SID = __import__("uuid").uuid4()


def order(status="paid", fulfillment="unfulfilled"):
    placed = fold_order(None, [OrderPlaced(
        originator_id=ORDER_SID, originator_version=1, occurred_at=NOW, order_id="ord_1",
        order_number="ORD-1", checkout_id="chk_1", customer_id="cus_1", currency="usd",
        items=[LineItem(sku="A", quantity=1, unit_amount=100)], amount_total=100)])
    return msgspec.structs.replace(placed, status=status,
                                   fulfillment=FulfillmentState(status=fulfillment))


def move(o, status, tracking="1Z999", carrier=None):
    return decide_fulfillment(o, status=status, carrier=carrier, tracking_number=tracking, now=NOW,
                              cause=Cause(kind="operator", actor="admin_1"))


FORWARD = [(a, b) for a, b in itertools.combinations(FULFILLMENT_STATUSES, 2)]
NOT_FORWARD = [(a, b) for a, b in itertools.product(FULFILLMENT_STATUSES, FULFILLMENT_STATUSES[1:])
               if FULFILLMENT_STATUSES.index(b) <= FULFILLMENT_STATUSES.index(a)]


@pytest.mark.parametrize(("current", "target"), FORWARD)
def test_every_forward_move_is_recorded_with_who_made_it(current, target):
    decision = move(order(fulfillment=current), target)

    (event,) = decision.events
    assert event.status == target and event.cause.actor == "admin_1"
    assert fold_order(order(fulfillment=current), decision.events).fulfillment.status == target


@pytest.mark.parametrize(("current", "target"), NOT_FORWARD)
def test_a_backward_or_repeated_move_is_an_invalid_transition(current, target):
    with pytest.raises(errors.InvalidFulfillmentTransitionError):
        move(order(fulfillment=current), target)


def test_shipped_without_a_tracking_number_is_a_validation_error():
    with pytest.raises(errors.ValidationError) as raised:
        move(order(), "shipped", tracking=None)

    assert [f for f, _ in raised.value.errors] == ["tracking_number"]


def test_delivered_may_skip_shipped_without_a_tracking_number():
    assert move(order(fulfillment="processing"), "delivered", tracking=None).events


@pytest.mark.parametrize("status", ["pending", "refunded", "cancelled"])
def test_an_order_that_is_not_paid_does_not_move(status):
    with pytest.raises(errors.OrderNotPaidError):
        move(order(status=status), "processing")


def test_a_partly_refunded_order_still_ships():
    assert move(order(status="partially_refunded"), "shipped").events


def test_shipping_records_carrier_tracking_and_time():
    o = order(fulfillment="processing")
    after = fold_order(o, move(o, "shipped", tracking="1Z1", carrier="UPS").events).fulfillment

    assert (after.carrier, after.tracking_number, after.shipped_at) == ("UPS", "1Z1", NOW)
