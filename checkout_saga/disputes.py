"""Disputes (chargebacks) on an order, from ``charge.dispute.*``: opened once per dispute id,
closed ``won`` or ``lost`` once; a close that arrives before its open opens it first."""

from __future__ import annotations

from datetime import datetime

from checkout_saga import ports
from checkout_saga.decision import Decision, EventWriter
from checkout_saga.order import OrderState
from events import order as ord_ev
from events.base import Cause

CLOSED = ("won", "lost")


def closed_status(stripe_status: str | None) -> str:
    """Stripe's closing status as the order shows it: ``warning_closed`` (an inquiry that
    never became a chargeback) kept the money, so it is ``won``; anything unknown ``lost``."""
    if stripe_status in ("won", "warning_closed"):
        return "won"
    return "lost"


def decide_dispute(order: OrderState, notice: ports.PaymentEventNotice, *, now: datetime,
                   cause: Cause | None = None) -> Decision:
    w = EventWriter(now, cause)
    dispute_id = notice.dispute_id
    if dispute_id is None:
        return w.decision()
    known = order.disputes.get(dispute_id)
    closing = notice.type == "charge.dispute.closed"
    if not closing and notice.type != "charge.dispute.created":
        return w.decision()
    if known is None:
        w.emit(order.id, order.version, ord_ev.DisputeOpened, dispute_id=dispute_id,
               amount=notice.dispute_amount or 0, reason=notice.dispute_reason)
    if closing and (known is None or known.status not in CLOSED):
        w.emit(order.id, order.version, ord_ev.DisputeClosed, dispute_id=dispute_id,
               status=closed_status(notice.dispute_status))
    return w.decision()
