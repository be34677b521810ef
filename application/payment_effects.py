"""Carrying out a decision's effects through the payment gateway port: each call is timed and
reported to the observer, and a gateway error becomes a result the saga decides on."""

from __future__ import annotations

import math
import time

from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.ids import step_key

_AUTHORIZED_OR_CAPTURED = ("requires_capture", "succeeded")

Result = ports.PaymentIntentSnapshot | ports.RefundSnapshot | None | Exception


def step_of(effect: fx.Effect) -> tuple[str, str]:
    """The saga step an effect carries out, and its idempotency key."""
    if isinstance(effect, fx.CreatePaymentIntent):
        return "create_intent", effect.idempotency_key
    if isinstance(effect, fx.ConfirmPaymentIntent):
        return "confirm", effect.idempotency_key
    if isinstance(effect, fx.CapturePayment):
        return "capture", effect.idempotency_key
    if isinstance(effect, fx.CancelPaymentIntent):
        return "cancel_intent", effect.idempotency_key
    if isinstance(effect, fx.SyncPaymentIntent):
        return "sync_intent", step_key(effect.checkout_id, "sync_intent")
    if isinstance(effect, fx.CreateRefund):
        return "refund", effect.idempotency_key
    raise TypeError(f"not a payment effect: {effect!r}")


class PaymentEffects:
    def __init__(self, gateway: ports.PaymentGateway, observer: ports.SagaObserver) -> None:
        self.gateway = gateway
        self.observer = observer

    def perform(self, effect: fx.Effect, *, owner_id: str) -> Result:
        """The call's result: a snapshot, None (no intent exists), or the gateway's error.
        ``owner_id`` is the checkout (or order) the call is made for, bound in the step log."""
        step, key = step_of(effect)
        started = time.perf_counter()
        try:
            result: Result = _perform(self.gateway, effect)
        except ports.PaymentGatewayError as exc:
            result = exc
        self.observer.step_finished(
            checkout_id=owner_id, step=step, idempotency_key=key,
            outcome=getattr(result, "status", None) or type(result).__name__,
            seconds=time.perf_counter() - started)
        return result

    def require_available(self) -> None:
        """Refuse new work while the provider is known to be down (its circuit is open)."""
        if not self.gateway.is_available():
            retry_after = max(1, math.ceil(self.gateway.retry_after_seconds()))
            raise errors.PaymentProviderUnavailableDomainError(
                "the payment provider is unavailable; try again shortly", retry_after=retry_after)


def _perform(gateway: ports.PaymentGateway, effect: fx.Effect) -> Result:
    if isinstance(effect, fx.CreatePaymentIntent):
        return gateway.create_payment_intent(
            amount=effect.amount, currency=effect.currency, checkout_id=effect.checkout_id,
            order_id=effect.order_id, idempotency_key=effect.idempotency_key,
            payment_method=effect.payment_method, return_url=effect.return_url,
            **_saved_card_options(effect))
    if isinstance(effect, fx.ConfirmPaymentIntent):
        return gateway.confirm_payment_intent(
            effect.payment_intent_id, idempotency_key=effect.idempotency_key,
            payment_method=effect.payment_method, return_url=effect.return_url)
    if isinstance(effect, fx.CapturePayment):
        return gateway.capture_payment_intent(
            effect.payment_intent_id, idempotency_key=effect.idempotency_key, amount=effect.amount)
    if isinstance(effect, fx.CancelPaymentIntent):
        return _cancel(gateway, effect)
    if isinstance(effect, fx.SyncPaymentIntent):
        return _current_intent(gateway, effect.checkout_id, effect.payment_intent_id)
    if isinstance(effect, fx.CreateRefund):
        return gateway.create_refund(
            payment_intent_id=effect.payment_intent_id, amount=effect.amount,
            refund_key=effect.refund_id, idempotency_key=effect.idempotency_key,
            reason=effect.reason)
    raise TypeError(f"not a payment effect: {effect!r}")


def _saved_card_options(effect: fx.CreatePaymentIntent) -> dict:
    """Only when the checkout involves the customer's saved cards (§3.9)."""
    if effect.customer is None:
        return {}
    return {"customer": effect.customer, "off_session": effect.off_session,
            "setup_future_usage": effect.setup_future_usage}


def _current_intent(gateway, checkout_id: str, intent_id: str | None):
    if intent_id is not None:
        return gateway.retrieve_payment_intent(intent_id)
    found = gateway.find_payment_intents(checkout_id)
    return found[0] if found else None


def _cancel(gateway: ports.PaymentGateway, effect: fx.CancelPaymentIntent):
    """Cancel the known intent, or every intent found for the checkout when its creation's
    outcome was never learnt. With ``unless_authorized``, an authorized or captured intent
    is returned untouched so the saga completes instead."""
    if effect.payment_intent_id is not None:
        targets = [effect.payment_intent_id]
        if effect.unless_authorized:
            current = gateway.retrieve_payment_intent(effect.payment_intent_id)
            if current.status in _AUTHORIZED_OR_CAPTURED:
                return current
    else:
        found = gateway.find_payment_intents(effect.checkout_id)
        if not found:
            return None
        if effect.unless_authorized:
            for intent in found:
                if intent.status in _AUTHORIZED_OR_CAPTURED:
                    return intent
        targets = [intent.id for intent in found]
    result = None
    for index, intent_id in enumerate(targets):
        key = effect.idempotency_key if index == 0 else f"{effect.idempotency_key}:{intent_id}"
        result = gateway.cancel_payment_intent(intent_id, idempotency_key=key)
    return result
