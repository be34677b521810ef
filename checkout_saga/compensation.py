"""Compensations: undo in reverse order, each step idempotent. The external step (cancel
the intent) is retried with backoff and escalates to needs_attention; the local steps
(release stock, cancel order) are written together in one transaction, so they cannot
half-happen."""

from __future__ import annotations

from collections.abc import Mapping

from checkout_saga.checkout import CheckoutState
from checkout_saga.decision import EventWriter, backoff
from checkout_saga.ids import step_key
from checkout_saga.inventory import InventoryState
from checkout_saga.order import OrderState
from events import checkout as ev
from events import inventory as inv_ev
from events import order as ord_ev
from events.base import LineItem

MAX_COMPENSATION_ATTEMPTS = 5


def start_compensation(
    w: EventWriter,
    s: CheckoutState,
    inventory: Mapping[str, InventoryState | None],
    order: OrderState | None,
    *,
    target: str,
    code: str,
    reason: str,
) -> CheckoutState:
    steps = []
    if s.intent_may_be_live:
        steps.append("cancel_intent")
    if s.stock in ("reserved", "committed"):
        steps.append("release_stock")
    if s.order_id is not None:
        steps.append("cancel_order")
    s = w.checkout(s, ev.CompensationStarted, target_status=target, reason_code=code,
                   reason=reason, steps=steps)
    return run_local_compensations(w, s, inventory, order)


def run_local_compensations(
    w: EventWriter,
    s: CheckoutState,
    inventory: Mapping[str, InventoryState | None],
    order: OrderState | None,
) -> CheckoutState:
    """Run the compensation's local steps once no external step stands before them, then
    end the checkout in its target status."""
    comp = s.compensation
    while comp is not None and comp.remaining and comp.remaining[0] in ("release_stock", "cancel_order"):
        step = comp.remaining[0]
        if step == "release_stock":
            s = _release_stock(w, s, inventory)
        elif order is not None and order.status == "pending":
            w.emit(order.id, order.version, ord_ev.OrderCancelled, reason=comp.reason_code)
        s = w.checkout(s, ev.CompensationStepSucceeded, step=step)
        comp = s.compensation
    if comp is not None and not comp.remaining:
        s = _finish(w, s, comp.target_status, comp.reason_code, comp.reason)
    return s


def _release_stock(
    w: EventWriter, s: CheckoutState, inventory: Mapping[str, InventoryState | None]
) -> CheckoutState:
    was_committed = False
    for line in s.items:
        item = inventory.get(line.sku)
        if item is None:
            continue
        if s.checkout_id in item.reservations:
            quantity = item.reservations[s.checkout_id].quantity
            w.emit(item.id, item.version, inv_ev.ReservationReleased, sku=line.sku,
                   checkout_id=s.checkout_id, quantity=quantity)
        elif item.committed.get(s.checkout_id, 0) > 0:
            was_committed = True
            w.emit(item.id, item.version, inv_ev.SaleReversed, sku=line.sku,
                   checkout_id=s.checkout_id, quantity=item.committed[s.checkout_id])
    released = [LineItem(sku=x.sku, quantity=x.quantity, unit_amount=x.unit_amount) for x in s.items]
    return w.checkout(s, ev.StockReleased, items=released, was_committed=was_committed)


def _finish(w: EventWriter, s: CheckoutState, target: str, code: str, reason: str) -> CheckoutState:
    if target == "cancelled":
        return w.checkout(s, ev.CheckoutCancelled, reason=reason)
    if target == "expired":
        return w.checkout(s, ev.CheckoutExpired)
    return w.checkout(s, ev.CheckoutFailed, code=code, message=reason)


def record_compensation_failure(w: EventWriter, s: CheckoutState, step: str, error: str) -> CheckoutState:
    comp = s.compensation
    attempt = (comp.attempt if comp else 0) + 1
    if attempt >= MAX_COMPENSATION_ATTEMPTS:
        s = w.checkout(s, ev.CompensationStepFailed, step=step, attempt=attempt, error=error,
                       retry_at=None)
        return w.checkout(s, ev.CheckoutNeedsAttention, step=step,
                          reason=f"{step} failed {attempt} times: {error}")
    retry_at = w.now + backoff(attempt, step_key(s.checkout_id, step))
    return w.checkout(s, ev.CompensationStepFailed, step=step, attempt=attempt, error=error,
                      retry_at=retry_at)
