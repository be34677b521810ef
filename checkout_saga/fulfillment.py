"""Fulfilment of a paid order: unfulfilled → processing → shipped → delivered, forward only
(a step may be skipped, never undone); ``shipped`` needs a tracking number."""

from __future__ import annotations

from datetime import datetime

from checkout_saga import errors
from checkout_saga.decision import Decision, EventWriter
from checkout_saga.order import OrderState
from events.base import Cause
from events.order import FulfillmentUpdated

FULFILLMENT_STATUSES = ("unfulfilled", "processing", "shipped", "delivered")
#: Order statuses in which goods may still move: paid, and partly refunded.
FULFILLABLE = ("paid", "partially_refunded")
MAX_TEXT = 255


def decide_fulfillment(order: OrderState, *, status: str, carrier: str | None,
                       tracking_number: str | None, now: datetime,
                       cause: Cause | None = None) -> Decision:
    _validate(status, carrier, tracking_number)
    if order.status not in FULFILLABLE:
        raise errors.OrderNotPaidError(f"order is {order.status}: only a paid order is fulfilled",
                                       order_id=order.order_id)
    current = order.fulfillment.status
    if FULFILLMENT_STATUSES.index(status) <= FULFILLMENT_STATUSES.index(current):
        raise errors.InvalidFulfillmentTransitionError(
            f"fulfilment is {current}; it cannot move to {status} (forward only)",
            order_id=order.order_id)
    w = EventWriter(now, cause)
    w.emit(order.id, order.version, FulfillmentUpdated, status=status, carrier=carrier,
           tracking_number=tracking_number)
    return w.decision()


def _validate(status: str, carrier: str | None, tracking_number: str | None) -> None:
    problems: list[tuple[str, str]] = []
    if status not in FULFILLMENT_STATUSES[1:]:
        problems.append(("status", "must be one of processing, shipped, delivered"))
    if status == "shipped" and not (tracking_number or "").strip():
        problems.append(("tracking_number", "is required to mark an order shipped"))
    for name, value in (("carrier", carrier), ("tracking_number", tracking_number)):
        if value is not None and not 1 <= len(value.strip()) <= MAX_TEXT:
            problems.append((name, f"must be 1-{MAX_TEXT} characters"))
    if problems:
        raise errors.ValidationError(problems)
