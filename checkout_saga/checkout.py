"""The Checkout aggregate: how each event of a checkout's own stream moves its state
(``checkout_saga.checkout_state``), and the fold that replays them."""

from __future__ import annotations

import msgspec

from checkout_saga.checkout_state import (
    COMPENSATED_TERMINAL,
    FINAL_INTENT_STATUSES,
    TERMINAL,
    CheckoutState,
    Compensation,
    Failure,
    PaymentError,
    PendingStep,
)
from checkout_saga.state import advanced, make_fold
from events import checkout as ev

__all__ = ["COMPENSATED_TERMINAL", "FINAL_INTENT_STATUSES", "TERMINAL", "CheckoutState",
           "Compensation", "Failure", "PaymentError", "PendingStep", "fold_checkout"]


def _started(_: CheckoutState | None, e: ev.CheckoutStarted) -> CheckoutState:
    return CheckoutState(
        id=e.originator_id,
        version=e.originator_version,
        created_at=e.occurred_at,
        updated_at=e.occurred_at,
        checkout_session_id=e.checkout_session_id,
        request_fingerprint=e.request_fingerprint,
        customer_id=e.customer_id,
        customer_email=e.customer_email,
        currency=e.currency,
        items=tuple(e.items),
        amount_subtotal=e.amount_subtotal,
        amount_tax=e.amount_tax,
        amount_shipping=e.amount_shipping,
        amount_total=e.amount_total,
        payment_method=e.payment_method,
        return_url=e.return_url,
        expires_at=e.expires_at,
        shipping_address=e.shipping_address,
        billing_address=e.billing_address,
        tax_rate=e.tax_rate,
        stripe_customer_id=e.stripe_customer_id,
        off_session=e.off_session,
        save_payment_method=e.save_payment_method,
    )


def _stock_reserved(s: CheckoutState, e: ev.StockReserved) -> CheckoutState:
    return advanced(s, e, stock="reserved")


def _stock_refused(s: CheckoutState, e: ev.StockReservationRefused) -> CheckoutState:
    return advanced(s, e, stock="refused")


def _order_attached(s: CheckoutState, e: ev.OrderAttached) -> CheckoutState:
    return advanced(s, e, order_id=e.order_id, order_number=e.order_number)


def _step_requested(s: CheckoutState, e: ev.PaymentStepRequested) -> CheckoutState:
    pending = PendingStep(
        step=e.step,
        idempotency_key=e.idempotency_key,
        payment_method=e.payment_method,
        return_url=e.return_url,
    )
    changes: dict = {"pending": pending}
    if e.step == "create_intent" and s.payment_intent_id is None:
        changes["payment_status"] = "creating"
    if e.step == "confirm":
        changes["confirm_attempts"] = s.confirm_attempts + 1
        changes["status"] = "processing"
    return advanced(s, e, **changes)


def _step_unknown(s: CheckoutState, e: ev.PaymentStepOutcomeUnknown) -> CheckoutState:
    pending = s.pending
    if pending is None or pending.idempotency_key != e.idempotency_key:
        return advanced(s, e)
    return advanced(
        s, e, pending=msgspec.structs.replace(pending, attempt=e.attempt, retry_at=e.retry_at)
    )


def _step_completed(s: CheckoutState, e: ev.PaymentStepCompleted) -> CheckoutState:
    pending = s.pending
    if pending is not None and pending.idempotency_key == e.idempotency_key:
        pending = None
    return advanced(s, e, pending=pending, payment_status=_intent_status(s, e.status))


def _intent_created(s: CheckoutState, e: ev.PaymentIntentCreated) -> CheckoutState:
    pending = s.pending if s.pending and s.pending.step != "create_intent" else None
    return advanced(
        s,
        e,
        payment_intent_id=e.payment_intent_id,
        client_secret=e.client_secret,
        payment_status="created",  # what it became is recorded by the observation that follows
        pending=pending,
    )


def _settled_forward(s: CheckoutState, status: str) -> str:
    """The status a forward payment observation leads to, unless the saga is undoing."""
    if s.compensation is not None or s.is_terminal or s.status == "needs_attention":
        return s.status
    return status


def _intent_status(s: CheckoutState, observed: str) -> str:
    """An intent Stripe cancelled or captured stays so, whatever stale view arrives later."""
    return s.payment_status if s.payment_status in FINAL_INTENT_STATUSES else observed


def _declined(s: CheckoutState, e: ev.PaymentDeclined) -> CheckoutState:
    return advanced(
        s,
        e,
        payment_intent_id=e.payment_intent_id or s.payment_intent_id,
        payment_status=_intent_status(s, "requires_payment_method"),
        last_payment_error=PaymentError(code=e.code, decline_code=e.decline_code, message=e.message),
        next_action_url=None,
        pending=None,
        status=_settled_forward(s, "awaiting_payment"),
    )


def _action_required(s: CheckoutState, e: ev.PaymentActionRequired) -> CheckoutState:
    return advanced(
        s,
        e,
        payment_status=_intent_status(s, "requires_action"),
        next_action_url=e.next_action_url,
        pending=None,
        status=_settled_forward(s, "requires_action"),
    )


def _awaiting_method(s: CheckoutState, e: ev.PaymentAwaitingMethod) -> CheckoutState:
    error = s.last_payment_error
    if e.last_error_code:
        error = PaymentError(code=e.last_error_code, message=e.last_error_message)
    return advanced(
        s,
        e,
        payment_status=_intent_status(s, e.status),
        next_action_url=None,
        last_payment_error=error,
        pending=None,
        status=_settled_forward(s, "awaiting_payment"),
    )


def _authorized(s: CheckoutState, e: ev.PaymentAuthorized) -> CheckoutState:
    return advanced(
        s,
        e,
        payment_status=_intent_status(s, "requires_capture"),
        amount_capturable=e.amount_capturable,
        next_action_url=None,
        pending=None,
        status=_settled_forward(s, "processing"),
    )


def _stock_committed(s: CheckoutState, e: ev.StockCommitted) -> CheckoutState:
    return advanced(s, e, stock="committed")


def _captured(s: CheckoutState, e: ev.PaymentCaptured) -> CheckoutState:
    return advanced(
        s,
        e,
        payment_status="succeeded",
        amount_captured=e.amount_received,
        amount_capturable=0,
        charge_id=e.charge_id,
        pending=None,
    )


def _completed(s: CheckoutState, e: ev.CheckoutCompleted) -> CheckoutState:
    return advanced(s, e, status="completed", pending=None, compensation=None)


def _compensation_started(s: CheckoutState, e: ev.CompensationStarted) -> CheckoutState:
    return advanced(
        s,
        e,
        compensation=Compensation(
            target_status=e.target_status,
            reason_code=e.reason_code,
            reason=e.reason,
            remaining=tuple(e.steps),
        ),
        pending=None,
        status="processing",
    )


def _compensation_step_succeeded(s: CheckoutState, e: ev.CompensationStepSucceeded) -> CheckoutState:
    c = s.compensation
    if c is None:
        return advanced(s, e)
    remaining = tuple(step for step in c.remaining if step != e.step)
    return advanced(
        s,
        e,
        compensation=msgspec.structs.replace(
            c, remaining=remaining, attempt=0, retry_at=None, last_error=None
        ),
    )


def _compensation_step_failed(s: CheckoutState, e: ev.CompensationStepFailed) -> CheckoutState:
    c = s.compensation
    if c is None:
        return advanced(s, e)
    return advanced(
        s,
        e,
        compensation=msgspec.structs.replace(
            c, attempt=e.attempt, retry_at=e.retry_at, last_error=e.error
        ),
    )


def _compensation_abandoned(s: CheckoutState, e: ev.CompensationAbandoned) -> CheckoutState:
    return advanced(s, e, compensation=None, status="processing")


def _intent_cancelled(s: CheckoutState, e: ev.PaymentIntentCancelled) -> CheckoutState:
    return advanced(
        s, e, payment_intent_id=e.payment_intent_id or s.payment_intent_id, payment_status="canceled"
    )


def _stock_released(s: CheckoutState, e: ev.StockReleased) -> CheckoutState:
    return advanced(s, e, stock="released")


def _terminal(status: str):
    def apply(s: CheckoutState, e) -> CheckoutState:
        failure = s.failure
        if isinstance(e, ev.CheckoutFailed):
            failure = Failure(code=e.code, message=e.message)
        return advanced(s, e, status=status, compensation=None, pending=None, failure=failure)

    return apply


def _needs_attention(s: CheckoutState, e: ev.CheckoutNeedsAttention) -> CheckoutState:
    failure = Failure(code=e.code, message=e.reason) if e.code else s.failure
    return advanced(s, e, status="needs_attention", attention_reason=e.reason, failure=failure)


def _retry_requested(s: CheckoutState, e: ev.OperatorRetryRequested) -> CheckoutState:
    comp = s.compensation
    if comp is not None:
        comp = msgspec.structs.replace(comp, attempt=0, retry_at=None)
    pending = s.pending
    if pending is not None:
        pending = msgspec.structs.replace(pending, attempt=0, retry_at=None)
    return advanced(s, e, status="processing", compensation=comp, pending=pending)


def _resolved(s: CheckoutState, e: ev.CheckoutResolved) -> CheckoutState:
    return advanced(s, e, status="resolved", resolution_note=e.note, pending=None)


def _observed_after_end(s: CheckoutState, e: ev.PaymentObservedAfterEnd) -> CheckoutState:
    return advanced(s, e)


def _not_after_end(apply):
    """Second line of defence behind the decisions: a step or payment observation recorded
    after the checkout ended changes nothing but its version (terminal means terminal)."""

    def guarded(s: CheckoutState, e):
        return advanced(s, e) if s.is_terminal else apply(s, e)

    return guarded


fold_checkout = make_fold(
    {
        ev.CheckoutStarted: _started,
        ev.StockReserved: _stock_reserved,
        ev.StockReservationRefused: _stock_refused,
        ev.OrderAttached: _order_attached,
        ev.PaymentStepRequested: _not_after_end(_step_requested),
        ev.PaymentStepOutcomeUnknown: _not_after_end(_step_unknown),
        ev.PaymentStepCompleted: _not_after_end(_step_completed),
        ev.PaymentIntentCreated: _intent_created,
        ev.PaymentDeclined: _not_after_end(_declined),
        ev.PaymentActionRequired: _not_after_end(_action_required),
        ev.PaymentAwaitingMethod: _not_after_end(_awaiting_method),
        ev.PaymentAuthorized: _not_after_end(_authorized),
        ev.StockCommitted: _stock_committed,
        ev.PaymentCaptured: _captured,
        ev.PaymentFeeRecorded: lambda s, e: advanced(s, e, fee_recorded=True),
        ev.CheckoutCompleted: _completed,
        ev.CompensationStarted: _compensation_started,
        ev.CompensationStepSucceeded: _compensation_step_succeeded,
        ev.CompensationStepFailed: _compensation_step_failed,
        ev.CompensationAbandoned: _compensation_abandoned,
        ev.PaymentIntentCancelled: _intent_cancelled,
        ev.StockReleased: _stock_released,
        ev.CheckoutFailed: _terminal("failed"),
        ev.CheckoutCancelled: _terminal("cancelled"),
        ev.CheckoutExpired: _terminal("expired"),
        ev.CheckoutNeedsAttention: _needs_attention,
        ev.OperatorRetryRequested: _retry_requested,
        ev.CheckoutResolved: _resolved,
        ev.PaymentObservedAfterEnd: _observed_after_end,
    }
)
