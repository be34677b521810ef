"""Carrying out a payment effect through the gateway port, turning errors into results."""

from __future__ import annotations

from checkout_saga import effects as fx
from checkout_saga import ports

_AUTHORIZED_OR_CAPTURED = ("requires_capture", "succeeded")


def step_of(effect: fx.Effect) -> tuple[str, str]:
    if isinstance(effect, fx.CreatePaymentIntent):
        return "create_intent", effect.idempotency_key
    if isinstance(effect, fx.ConfirmPaymentIntent):
        return "confirm", effect.idempotency_key
    if isinstance(effect, fx.CapturePayment):
        return "capture", effect.idempotency_key
    if isinstance(effect, fx.CancelPaymentIntent):
        return "cancel_intent", effect.idempotency_key
    if isinstance(effect, fx.SyncPaymentIntent):
        return "sync_intent", f"{effect.checkout_id}:sync_intent"
    raise TypeError(f"not a payment effect: {effect!r}")


def perform_payment_effect(
    gateway: ports.PaymentGateway, effect: fx.Effect
) -> ports.PaymentIntentSnapshot | None | Exception:
    """The call's result: a snapshot, None (no intent exists), or the gateway's error."""
    try:
        return _perform(gateway, effect)
    except ports.PaymentGatewayError as exc:
        return exc


def _perform(gateway: ports.PaymentGateway, effect: fx.Effect) -> ports.PaymentIntentSnapshot | None:
    if isinstance(effect, fx.CreatePaymentIntent):
        return gateway.create_payment_intent(
            amount=effect.amount, currency=effect.currency, checkout_id=effect.checkout_id,
            order_id=effect.order_id, idempotency_key=effect.idempotency_key,
            payment_method=effect.payment_method, return_url=effect.return_url)
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
    raise TypeError(f"not a payment effect: {effect!r}")


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
