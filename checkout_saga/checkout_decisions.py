"""Decisions for commands on an existing checkout: confirm, cancel, expire, observe a
provider event, operator retry and resolve."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.checkout import CheckoutState
from checkout_saga.compensation import start_compensation
from checkout_saga.decision import Decision, EventWriter, refusals_as_errors
from checkout_saga.ids import step_key
from checkout_saga.inventory import InventoryState
from checkout_saga.order import OrderState
from checkout_saga.payment_observations import observe_intent, record_step_result
from checkout_saga.saga import next_effect
from events import checkout as ev
from events.base import Cause

Inventory = Mapping[str, InventoryState | None]


def _done(w: EventWriter, s: CheckoutState, extra: list[fx.Effect] | None = None) -> Decision:
    effect = next_effect(s, w.now)
    effects = [effect] if effect is not None else []
    return w.decision(effects + [e for e in (extra or []) if e not in effects])


@refusals_as_errors
def decide_confirm(
    s: CheckoutState, *, payment_method: str | None, return_url: str | None, now: datetime,
    cause: Cause | None = None,
) -> Decision:
    w = EventWriter(now, cause)
    if s.status == "completed":
        return w.decision()
    if s.is_terminal or s.status == "needs_attention" or s.compensation is not None:
        raise errors.CheckoutNotConfirmableError(
            f"checkout is {s.status}", checkout_id=s.checkout_id, status=s.status)
    if s.pending is not None or s.payment_intent_id is None:
        return _done(w, s)  # a step is in flight: finish it (same key) rather than start another
    if payment_method is None and s.payment_status != "requires_confirmation":
        sync = fx.SyncPaymentIntent(checkout_id=s.checkout_id, payment_intent_id=s.payment_intent_id)
        return w.decision([sync])
    attempt = s.confirm_attempts + 1
    s = w.checkout(s, ev.PaymentStepRequested, step="confirm",
                   idempotency_key=step_key(s.checkout_id, f"confirm_{attempt}"),
                   payment_method=payment_method, return_url=return_url or s.return_url)
    return _done(w, s)


@refusals_as_errors
def decide_cancel(
    s: CheckoutState, inventory: Inventory, order: OrderState | None, *, reason: str,
    now: datetime, cause: Cause | None = None,
) -> Decision:
    w = EventWriter(now, cause)
    if s.status == "cancelled" or (s.compensation and s.compensation.target_status == "cancelled"):
        return _done(w, s)
    if s.status == "completed" or s.payment_status == "succeeded" or s.stock == "committed":
        raise errors.CheckoutNotCancellableError(
            "payment already captured or being captured: refund the order instead",
            checkout_id=s.checkout_id, status=s.status)
    if s.is_terminal or s.status == "needs_attention" or s.compensation is not None:
        raise errors.CheckoutNotCancellableError(
            f"checkout is {s.status}", checkout_id=s.checkout_id, status=s.status)
    s = start_compensation(w, s, inventory, order, target="cancelled", code="cancelled",
                           reason=reason)
    return _done(w, s)


def decide_expire(
    s: CheckoutState, inventory: Inventory, order: OrderState | None, *, now: datetime,
    cause: Cause | None = None,
) -> Decision:
    """Expire an unpaid checkout whose reservation ran out. Stock being committed means the
    payment was authorized in time: that checkout completes, it does not expire."""
    w = EventWriter(now, cause)
    if not s.reservation_expired(now):
        return _done(w, s)
    s = start_compensation(w, s, inventory, order, target="expired", code="reservation_expired",
                           reason="the stock reservation expired before payment")
    return _done(w, s)


def decide_observation(
    s: CheckoutState, snap: ports.PaymentIntentSnapshot, inventory: Inventory,
    order: OrderState | None, *, now: datetime, cause: Cause | None = None,
) -> Decision:
    w = EventWriter(now, cause)
    s = observe_intent(w, s, snap, inventory, order)
    return _done(w, s)


def decide_step_result(
    s: CheckoutState, step: str, idempotency_key: str,
    result: ports.PaymentIntentSnapshot | None | Exception, inventory: Inventory,
    order: OrderState | None, *, now: datetime, cause: Cause | None = None,
) -> Decision:
    w = EventWriter(now, cause)
    s = record_step_result(w, s, step, idempotency_key, result, inventory, order)
    return _done(w, s)


@refusals_as_errors
def decide_retry(s: CheckoutState, *, actor: str, note: str | None, now: datetime) -> Decision:
    w = EventWriter(now, Cause(kind="operator", actor=actor, note=note))
    if s.is_terminal or (s.compensation is None and s.pending is None):
        raise errors.CheckoutNotRetryableError(
            f"checkout is {s.status} with nothing to retry", checkout_id=s.checkout_id)
    step = s.compensation.remaining[0] if s.compensation and s.compensation.remaining else (
        s.pending.step if s.pending else None)
    s = w.checkout(s, ev.OperatorRetryRequested, step=step)
    return _done(w, s)


@refusals_as_errors
def decide_resolve(s: CheckoutState, *, actor: str, note: str, now: datetime) -> Decision:
    w = EventWriter(now, Cause(kind="operator", actor=actor, note=note))
    if s.status == "resolved":
        return w.decision()
    if s.status != "needs_attention":
        raise errors.CheckoutNotRetryableError(
            f"only a needs_attention checkout can be resolved; this one is {s.status}",
            checkout_id=s.checkout_id)
    w.checkout(s, ev.CheckoutResolved, note=note)
    return w.decision()


def decide_escalation(s: CheckoutState, *, reason: str, now: datetime, cause: Cause) -> Decision:
    """Hand a checkout to an operator (needs_attention); nothing if one already has it."""
    w = EventWriter(now, cause)
    if s.status != "needs_attention":
        w.checkout(s, ev.CheckoutNeedsAttention, step="reconciliation", reason=reason)
    return w.decision()

