"""Four-eyes approval of large refunds: a refund above the approval threshold waits
(``pending_approval``, held against the refundable amount) until an admin other than the one
who asked approves it — only then is it sent to Stripe — or anyone rejects it."""

from __future__ import annotations

from datetime import datetime

from checkout_saga import errors
from checkout_saga.decision import Decision, EventWriter, refusals_as_errors
from checkout_saga.order import OrderState, RefundState
from checkout_saga.refunds import refund_effect
from events import order as ord_ev
from events.base import Cause


def _refund(order: OrderState, refund_id: str) -> RefundState:
    refund = order.refunds.get(refund_id)
    if refund is None:
        raise errors.NotFoundError(f"no refund {refund_id}", refund_id=refund_id)
    return refund


def _not_awaiting(refund: RefundState) -> errors.DomainError:
    return errors.RefundNotAwaitingApprovalError(
        f"refund {refund.refund_id} is {refund.status}, not pending_approval",
        refund_id=refund.refund_id, status=refund.status)


@refusals_as_errors
def decide_refund_approval(order: OrderState, refund_id: str, *, approved_by: str,
                           now: datetime, cause: Cause | None = None) -> Decision:
    """Approving twice is harmless: an approved refund is answered as it is (and re-sent
    with its key while Stripe's outcome is unknown)."""
    w = EventWriter(now, cause)
    refund = _refund(order, refund_id)
    if refund.status == "pending_approval":
        if refund.requested_by is not None and refund.requested_by == approved_by:
            raise errors.ApprovalRequiresSecondAdminError(
                "a refund must be approved by a different admin key than the one that asked",
                refund_id=refund_id)
        w.emit(order.id, order.version, ord_ev.RefundApproved, refund_id=refund_id,
               approved_by=approved_by)
        return w.decision([refund_effect(order, refund)])
    if refund.approved_by is None:
        raise _not_awaiting(refund)
    return w.decision([refund_effect(order, refund)] if refund.status == "requested" else [])


@refusals_as_errors
def decide_refund_rejection(order: OrderState, refund_id: str, *, rejected_by: str, note: str,
                            now: datetime, cause: Cause | None = None) -> Decision:
    w = EventWriter(now, cause)
    refund = _refund(order, refund_id)
    if refund.status == "rejected":
        return w.decision()
    if refund.status != "pending_approval":
        raise _not_awaiting(refund)
    w.emit(order.id, order.version, ord_ev.RefundRejected, refund_id=refund_id,
           rejected_by=rejected_by, note=note)
    return w.decision()
