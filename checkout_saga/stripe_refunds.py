"""Refunds made outside this service (Stripe's dashboard, its API), learnt from Stripe: a
webhook (``charge.refunded``, ``refund.*``) or reconciliation. Recorded on the order once per
Stripe refund id with ``source: "stripe"``; never restocked (nobody said what came back)."""

from __future__ import annotations

from datetime import datetime

from checkout_saga import ports
from checkout_saga.decision import Decision, EventWriter
from checkout_saga.ids import refund_id_for
from checkout_saga.order import OrderState, RefundState
from events import order as ord_ev
from events.base import Cause

#: Stripe statuses of a refund that moved (or is moving) money back; a failed or canceled
#: one that this order never knew changes nothing.
MOVING = ("pending", "succeeded", "requires_action")


def stripe_refund_id(order: OrderState, provider_refund_id: str) -> str:
    """Our id of a Stripe-made refund: derived, so two learners (webhook and reconciliation,
    ``charge.refunded`` and ``refund.created``) name it alike."""
    return refund_id_for(order.id, f"stripe:{provider_refund_id}")


def known_refund(order: OrderState, snap: ports.RefundSnapshot) -> RefundState | None:
    """The order's refund that ``snap`` is: ours by ``metadata.refund_id``, else any by
    Stripe's id (a Stripe-made one recorded before, or ours whose reply carried the id)."""
    if snap.refund_key and snap.refund_key in order.refunds:
        return order.refunds[snap.refund_key]
    return order.refund_for_provider_id(snap.id)


def decide_stripe_refund(order: OrderState, snap: ports.RefundSnapshot, *, now: datetime,
                         cause: Cause | None = None) -> Decision:
    """Record a refund Stripe has and the order does not; nothing when it is already known
    (its later outcome is ``decide_refund_result``'s), never moving money or failed, and
    never one that would make the refunds exceed the captured amount (invariant 5: that
    is a discrepancy for a person, not something to write down)."""
    w = EventWriter(now, cause)
    if known_refund(order, snap) is not None or snap.status not in MOVING:
        return w.decision()
    if order.payment_intent_id not in (None, snap.payment_intent_id):
        return w.decision()
    if snap.amount > order.amount_captured - order.amount_refunded:
        return w.decision()
    w.emit(order.id, order.version, ord_ev.RefundRecordedExternally,
           refund_id=stripe_refund_id(order, snap.id), provider_refund_id=snap.id,
           amount=snap.amount, status="succeeded" if snap.status == "succeeded" else "pending")
    return w.decision()
