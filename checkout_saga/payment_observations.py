"""How the saga reacts to what the payment provider says: a step's result, a webhook, or
an intent read back. Observations are idempotent and never move a checkout backwards."""

from __future__ import annotations

from collections.abc import Mapping

from checkout_saga import ports
from checkout_saga.checkout import FINAL_INTENT_STATUSES, CheckoutState
from checkout_saga.compensation import (
    record_compensation_failure,
    run_local_compensations,
    start_compensation,
)
from checkout_saga.decision import EventWriter, backoff
from checkout_saga.ids import step_key
from checkout_saga.inventory import InventoryState
from checkout_saga.order import OrderState
from events import checkout as ev
from events import inventory as inv_ev
from events import order as ord_ev

MAX_STEP_ATTEMPTS = 8
_BEFORE_AUTHORIZATION = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing", "creating"}
)


def observe_intent(
    w: EventWriter,
    s: CheckoutState,
    snap: ports.PaymentIntentSnapshot,
    inventory: Mapping[str, InventoryState | None],
    order: OrderState | None,
) -> CheckoutState:
    if s.payment_intent_id is None:
        s = w.checkout(s, ev.PaymentIntentCreated, payment_intent_id=snap.id,
                       client_secret=snap.client_secret, status=snap.status)
    elif snap.id != s.payment_intent_id:
        return s  # not this checkout's intent of record; reconciliation handles strays
    s = _late_fee(w, s, snap)
    if s.status == "completed" or _nothing_new(s, snap):
        return s
    if s.compensation is not None or s.status == "needs_attention":
        return _observe_while_undoing(w, s, snap, inventory, order)
    if s.is_terminal:
        return _observe_after_end(w, s, snap, inventory, order)
    return _observe_forward(w, s, snap, inventory, order)


def _late_fee(w: EventWriter, s: CheckoutState, snap: ports.PaymentIntentSnapshot) -> CheckoutState:
    """The capture was recorded without Stripe's fee (a webhook told of it first); a later
    reply that knows the fee records it, once: a fact about money, not a change of state."""
    if s.payment_status != "succeeded" or s.fee_recorded or snap.fee is None:
        return s
    return w.checkout(s, ev.PaymentFeeRecorded, payment_intent_id=snap.id,
                      charge_id=snap.latest_charge or s.charge_id, fee=snap.fee,
                      currency=snap.currency, balance_transaction_id=snap.balance_transaction_id)


def _nothing_new(s: CheckoutState, snap: ports.PaymentIntentSnapshot) -> bool:
    """The capture or cancel is already recorded and no undo waits on it, or the view is
    stale: Stripe never moves an intent out of canceled or succeeded."""
    if s.payment_status not in FINAL_INTENT_STATUSES:
        return False
    if s.compensation is not None and "cancel_intent" in s.compensation.remaining:
        return False
    return snap.status not in FINAL_INTENT_STATUSES or snap.status == s.payment_status


def _observe_forward(w, s: CheckoutState, snap, inventory, order) -> CheckoutState:
    status = snap.status
    if status in _BEFORE_AUTHORIZATION and s.payment_status in ("requires_capture", "succeeded"):
        return s  # a late, older view of the intent: never move backwards
    if status == "requires_payment_method":
        if snap.last_error_code:
            same = (s.payment_status == status and s.last_payment_error is not None
                    and s.last_payment_error.code == snap.last_error_code and s.pending is None)
            if same:
                return s
            return w.checkout(s, ev.PaymentDeclined, payment_intent_id=snap.id,
                              code=snap.last_error_code, decline_code=snap.last_decline_code,
                              message=snap.last_error_message or "the card was declined")
        return _awaiting(w, s, snap)
    if status == "requires_confirmation":
        return _awaiting(w, s, snap)
    if status == "requires_action":
        if s.payment_status == status and s.next_action_url == snap.next_action_url and s.pending is None:
            return s
        return w.checkout(s, ev.PaymentActionRequired, payment_intent_id=snap.id,
                          next_action_url=snap.next_action_url)
    if status == "requires_capture":
        return _authorized(w, s, snap, inventory)
    if status == "succeeded":
        return _captured(w, s, snap, inventory, order)
    if status == "canceled":
        s = w.checkout(s, ev.PaymentIntentCancelled, payment_intent_id=snap.id)
        return start_compensation(w, s, inventory, order, target="failed",
                                  code="payment_intent_canceled",
                                  reason="the payment intent was canceled at the provider")
    return s  # processing: wait for the provider


def _awaiting(w, s: CheckoutState, snap) -> CheckoutState:
    if s.payment_status == snap.status and s.pending is None and s.status == "awaiting_payment":
        return s
    return w.checkout(s, ev.PaymentAwaitingMethod, payment_intent_id=snap.id, status=snap.status,
                      last_error_code=snap.last_error_code, last_error_message=snap.last_error_message)


def _commit_stock(w: EventWriter, s: CheckoutState, inventory) -> CheckoutState:
    if s.stock != "reserved":
        return s
    for line in s.items:
        item = inventory.get(line.sku)
        if item is None:
            raise LookupError(f"inventory of {line.sku} was not loaded for {s.checkout_id}")
        if s.checkout_id in item.reservations:
            w.emit(item.id, item.version, inv_ev.ReservationCommitted, sku=line.sku,
                   checkout_id=s.checkout_id, quantity=item.reservations[s.checkout_id].quantity)
    return w.checkout(s, ev.StockCommitted, items=list(s.items))


def _authorized(w, s: CheckoutState, snap, inventory) -> CheckoutState:
    if s.payment_status != "requires_capture":
        s = w.checkout(s, ev.PaymentAuthorized, payment_intent_id=snap.id,
                       amount_capturable=snap.amount_capturable)
    s = _commit_stock(w, s, inventory)
    if s.pending is None or s.pending.step != "capture":
        s = w.checkout(s, ev.PaymentStepRequested, step="capture",
                       idempotency_key=step_key(s.checkout_id, "capture"))
    return s


def _captured(w, s: CheckoutState, snap, inventory, order: OrderState | None) -> CheckoutState:
    """Record the capture at the amount Stripe says it took (never the amount asked for);
    an amount other than the order total is for a human, not a completed checkout."""
    s = _commit_stock(w, s, inventory)
    amount = ports.captured_amount(snap)
    if s.payment_status != "succeeded":
        s = w.checkout(s, ev.PaymentCaptured, payment_intent_id=snap.id,
                       amount_received=amount, charge_id=snap.latest_charge)
        if snap.fee is not None:
            s = w.checkout(s, ev.PaymentFeeRecorded, payment_intent_id=snap.id,
                           charge_id=snap.latest_charge, fee=snap.fee, currency=snap.currency,
                           balance_transaction_id=snap.balance_transaction_id)
    if order is not None and order.status in ("pending", "cancelled"):
        w.emit(order.id, order.version, ord_ev.OrderPaid, payment_intent_id=snap.id,
               amount_captured=amount, charge_id=snap.latest_charge)
    if s.amount_captured != s.amount_total:
        return w.checkout(s, ev.CheckoutNeedsAttention, step="capture", code="amount_mismatch",
                          reason=f"Stripe captured {s.amount_captured} {s.currency}, the order "
                                 f"total is {s.amount_total}")
    return w.checkout(s, ev.CheckoutCompleted)


def _observe_while_undoing(w, s: CheckoutState, snap, inventory, order) -> CheckoutState:
    comp = s.compensation
    cancel_pending = comp is not None and "cancel_intent" in comp.remaining
    if snap.status == "succeeded" or (
        snap.status == "requires_capture" and cancel_pending and comp.target_status == "expired"
    ):
        # Money moved before the undo could stop it: complete the sale instead.
        s = w.checkout(s, ev.CompensationAbandoned,
                       reason=f"payment intent already {snap.status} when compensation began")
        return _observe_forward(w, s, snap, inventory, order)
    if snap.status == "canceled":
        if s.payment_status != "canceled":
            s = w.checkout(s, ev.PaymentIntentCancelled, payment_intent_id=snap.id)
        if cancel_pending:
            s = w.checkout(s, ev.CompensationStepSucceeded, step="cancel_intent")
            return run_local_compensations(w, s, inventory, order)
    return s


def _observe_after_end(w, s: CheckoutState, snap, inventory, order) -> CheckoutState:
    """A live payment on an ended checkout: cancel it again, or ask a human if captured."""
    if snap.status == "requires_capture":
        return start_compensation(w, s, inventory, order, target=s.status,
                                  code="late_authorization",
                                  reason="payment authorized after the checkout ended")
    if snap.status == "succeeded":
        return w.checkout(s, ev.CheckoutNeedsAttention, step="capture",
                          reason="payment captured after the checkout ended: refund it")
    if snap.status == "canceled" and s.payment_status != "canceled":
        return w.checkout(s, ev.PaymentIntentCancelled, payment_intent_id=snap.id)
    return s


# --- step results --------------------------------------------------------------------------


def record_step_result(
    w: EventWriter,
    s: CheckoutState,
    step: str,
    idempotency_key: str,
    result: ports.PaymentIntentSnapshot | None | Exception,
    inventory: Mapping[str, InventoryState | None],
    order: OrderState | None,
) -> CheckoutState:
    """Fold what one external call returned (a snapshot, None for "no intent exists",
    or the gateway error it raised) into the saga."""
    if isinstance(result, ports.PaymentIntentSnapshot):
        s = observe_intent(w, s, result, inventory, order)
        if s.pending is not None and s.pending.idempotency_key == idempotency_key:
            s = w.checkout(s, ev.PaymentStepCompleted, step=step,
                           idempotency_key=idempotency_key, status=result.status)
        return s
    if step == "cancel_intent":
        return _cancel_result(w, s, result, inventory, order)
    if result is None:
        return s
    if s.is_terminal or s.payment_status in FINAL_INTENT_STATUSES:
        return _after_end(w, s, step, result, inventory, order)
    if _superseded(s, idempotency_key):
        return s  # the outcome of an earlier attempt: a newer step is already in flight
    if isinstance(result, ports.CardDeclinedError):
        return _declined(w, s, result)
    if isinstance(result, ports.PaymentOutcomeUnknownError | ports.PaymentProviderUnavailableError):
        return _unknown(w, s, step, idempotency_key, str(result) or type(result).__name__)
    if isinstance(result, ports.PaymentRequestRejectedError):
        return _rejected(w, s, step, idempotency_key, result, inventory, order)
    raise result


def _superseded(s: CheckoutState, key: str) -> bool:
    return s.pending is not None and s.pending.idempotency_key != key


def _cancel_result(w, s: CheckoutState, result, inventory, order) -> CheckoutState:
    comp = s.compensation
    if comp is None or "cancel_intent" not in comp.remaining:
        return s
    if result is None:  # nothing was ever created at the provider: nothing to cancel
        s = w.checkout(s, ev.CompensationStepSucceeded, step="cancel_intent")
        return run_local_compensations(w, s, inventory, order)
    if isinstance(result, ports.PaymentRequestRejectedError) and result.payment_intent is not None:
        return observe_intent(w, s, result.payment_intent, inventory, order)
    return record_compensation_failure(w, s, "cancel_intent", str(result) or type(result).__name__)


def _after_end(w, s: CheckoutState, step: str, error: Exception, inventory,
               order) -> CheckoutState:
    """A step's error that arrives after the checkout ended (or after Stripe cancelled or
    captured its intent), e.g. a decline racing a cancel: recorded as an observation, never
    as a state change. An intent the error carries is observed like any other view."""
    intent = getattr(error, "payment_intent", None)
    if isinstance(intent, ports.PaymentIntentSnapshot) and intent.id == s.payment_intent_id:
        s = observe_intent(w, s, intent, inventory, order)
    if not isinstance(error, ports.PaymentGatewayError):
        raise error
    if isinstance(error, ports.CardDeclinedError):
        outcome = error.code or "card_declined"
    elif isinstance(error, ports.PaymentRequestRejectedError):
        outcome = "rejected"
    else:
        outcome = "outcome_unknown"
    return w.checkout(s, ev.PaymentObservedAfterEnd, step=step, outcome=outcome,
                      payment_intent_id=intent.id if intent else s.payment_intent_id,
                      detail=(str(error) or type(error).__name__)[:500])


def _declined(w, s: CheckoutState, error: ports.CardDeclinedError) -> CheckoutState:
    intent = error.payment_intent
    if intent is not None and s.payment_intent_id is None:
        s = w.checkout(s, ev.PaymentIntentCreated, payment_intent_id=intent.id,
                       client_secret=intent.client_secret, status=intent.status)
    return w.checkout(s, ev.PaymentDeclined,
                      payment_intent_id=intent.id if intent else s.payment_intent_id,
                      code=error.code or "card_declined", decline_code=error.decline_code,
                      message=str(error))


def _method_refused_at_creation(w, s: CheckoutState,
                                error: ports.PaymentRequestRejectedError) -> CheckoutState:
    """The intent was refused with the customer's payment method (e.g. an unknown one): as on
    confirm, that is a decline the customer may answer with another method, so the intent is
    created again without one (its own key) and the checkout then awaits a payment method. If
    that creation is refused too, the refusal is not about the method and the saga fails."""
    return_url = s.pending.return_url if s.pending is not None else None
    s = w.checkout(s, ev.PaymentDeclined, payment_intent_id=None,
                   code=error.code or "payment_method_invalid", decline_code=None, message=str(error))
    return w.checkout(s, ev.PaymentStepRequested, step="create_intent",
                      idempotency_key=step_key(s.checkout_id, "create_intent_without_method"),
                      payment_method=None, return_url=return_url)


def _unknown(w, s: CheckoutState, step: str, key: str, reason: str) -> CheckoutState:
    attempt = (s.pending.attempt if s.pending and s.pending.idempotency_key == key else 0) + 1
    if attempt >= MAX_STEP_ATTEMPTS:
        return w.checkout(s, ev.CheckoutNeedsAttention, step=step,
                          reason=f"{step} outcome still unknown after {attempt} attempts: {reason}")
    return w.checkout(s, ev.PaymentStepOutcomeUnknown, step=step, idempotency_key=key,
                      reason=reason, attempt=attempt,
                      retry_at=w.now + backoff(attempt, key, base_seconds=1.0, cap_seconds=60.0))


def _rejected(w, s: CheckoutState, step, key, error: ports.PaymentRequestRejectedError,
              inventory, order) -> CheckoutState:
    if error.payment_intent is not None:
        s = observe_intent(w, s, error.payment_intent, inventory, order)
        if s.pending is None or s.pending.idempotency_key != key:
            return s
        # The provider refuses the very step the intent's state calls for: retrying the same
        # key would replay the refusal forever. A human must look.
        return w.checkout(s, ev.CheckoutNeedsAttention, step=step, reason=f"{step} rejected: {error}")
    if step == "confirm":
        # e.g. an unknown payment method: the customer may try another one
        return w.checkout(s, ev.PaymentDeclined, payment_intent_id=s.payment_intent_id,
                          code=error.code or "payment_method_invalid", decline_code=None,
                          message=str(error))
    if step == "create_intent" and s.pending is not None and s.pending.payment_method:
        return _method_refused_at_creation(w, s, error)
    if step in ("capture", "sync_intent"):
        # Capturing an authorized payment was refused without an explanation we can act on:
        # never compensate money that may be captured; surface it.
        return w.checkout(s, ev.CheckoutNeedsAttention, step=step, reason=f"{step} rejected: {error}")
    return start_compensation(w, s, inventory, order, target="failed",
                              code="payment_request_rejected",
                              reason=f"{step} rejected by the payment provider: {error}")
