"""Stripe payloads to domain notices: webhook verification and the shared normaliser.

``verify_and_parse`` checks ``Stripe-Signature`` on the raw body with the SDK's own
verifier, then normalises the event. ``notice_from_event`` is also used by the gateway
for events read back from the API, and ``payment_intent_snapshot`` / ``refund_snapshot``
turn any Stripe PaymentIntent / Refund (an SDK object or a plain dict) into snapshots.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import stripe

from checkout_saga.ports import (
    DisputeSnapshot,
    PaymentEventNotice,
    PaymentIntentSnapshot,
    RefundSnapshot,
)


class InvalidWebhookSignatureError(Exception):
    """The webhook is not provably from Stripe (missing, bad or stale signature) or its
    body is not a Stripe event. The API answers ``400 invalid_signature``."""

    code = "invalid_signature"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # missing_signature | bad_signature | stale | malformed_payload


def verify_and_parse(
    payload: bytes,
    signature_header: str | None,
    secret: str,
    tolerance_seconds: int = 300,
) -> PaymentEventNotice:
    if not signature_header:
        raise InvalidWebhookSignatureError("no Stripe-Signature header", reason="missing_signature")
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance_seconds)
    except stripe.SignatureVerificationError as exc:
        reason = "stale" if "tolerance" in str(exc) else "bad_signature"
        raise InvalidWebhookSignatureError(str(exc), reason=reason) from exc
    except UnicodeDecodeError as exc:
        raise InvalidWebhookSignatureError("body is not UTF-8", reason="malformed_payload") from exc
    _reject_future_timestamp(signature_header, tolerance_seconds)
    try:
        event = json.loads(payload)
        return notice_from_event(event)
    except (ValueError, RecursionError) as exc:
        raise InvalidWebhookSignatureError(
            f"not a Stripe event: {exc}", reason="malformed_payload"
        ) from exc


def _reject_future_timestamp(signature_header: str, tolerance_seconds: int) -> None:
    """The SDK only rejects old timestamps; one far in the future is as suspicious."""
    parts = dict(p.split("=", 1) for p in signature_header.split(",") if "=" in p)
    if int(parts["t"]) > time.time() + tolerance_seconds:
        raise InvalidWebhookSignatureError("timestamp is in the future", reason="stale")


def notice_from_event(event: Mapping[str, Any] | stripe.StripeObject) -> PaymentEventNotice:
    """Normalise one Stripe event. Raises ``ValueError`` when it is not a Stripe event."""
    try:
        return _notice(as_dict(event))
    except (KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"malformed Stripe event: {exc!r}") from exc


def _notice(event: Mapping[str, Any]) -> PaymentEventNotice:
    """The event's envelope must be an event; the object inside is read leniently: a signed
    event is recorded and acknowledged even when a field has a type Stripe never sends (an
    integer ``metadata.checkout_id``, say), such a field counting as absent, and an object
    whose identity is unreadable as no object at all (the event is recorded, not applied)."""
    if not isinstance(event, Mapping) or event.get("object", "event") != "event":
        raise ValueError("not an event object")
    base = {
        "event_id": str(event["id"]),
        "type": str(event["type"]),
        "created": int(event["created"]),
        "livemode": bool(event.get("livemode", False)),
    }
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping):
        return PaymentEventNotice(**base)  # nothing readable to act on: recorded, not applied
    try:
        return PaymentEventNotice(**base, **_about(base["type"], obj, data))
    except MalformedObjectError:
        return PaymentEventNotice(**base)


def _about(event_type: str, obj: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    if event_type.startswith("payment_intent."):
        intent = payment_intent_snapshot(obj)
        return {"payment_intent": intent, "payment_intent_id": intent.id,
                "checkout_id": intent.checkout_id}
    if event_type.startswith("refund.") or event_type == "charge.refund.updated":
        refund = refund_snapshot(obj)
        return {"refund": refund, "payment_intent_id": refund.payment_intent_id or None,
                "checkout_id": _text(_metadata(obj).get("checkout_id"))}
    if event_type.startswith("charge.dispute."):
        return {"dispute_id": _required_text(obj, "id"), "dispute_amount": _count(obj.get("amount"), None),
                "dispute_reason": _text(obj.get("reason")), "dispute_status": _text(obj.get("status")),
                "payment_intent_id": _id_of(obj.get("payment_intent"))}
    if event_type.startswith(("payment_method.", "setup_intent.")):
        # a detached method names its former customer only in previous_attributes
        previous = data.get("previous_attributes")
        previous = previous if isinstance(previous, Mapping) else {}
        return {"stripe_customer_id": _id_of(obj.get("customer")) or _id_of(previous.get("customer"))}
    if event_type.startswith("charge."):
        return {"payment_intent_id": _id_of(obj.get("payment_intent")),
                "checkout_id": _text(_metadata(obj).get("checkout_id"))}
    return {}


def payment_intent_snapshot(pi: Mapping[str, Any] | stripe.StripeObject) -> PaymentIntentSnapshot:
    """Raises ``MalformedObjectError`` (a ``ValueError``) when id, status, amount or currency
    is missing or of the wrong type; any other field of the wrong type counts as absent."""
    pi = _object(pi)
    error = pi.get("last_payment_error")
    error = error if isinstance(error, Mapping) else {}
    return PaymentIntentSnapshot(
        id=_required_text(pi, "id"),
        status=_required_text(pi, "status"),
        amount=_required_count(pi, "amount"),
        currency=_required_text(pi, "currency"),
        amount_capturable=_count(pi.get("amount_capturable")),
        amount_received=_count(pi.get("amount_received")),
        client_secret=_text(pi.get("client_secret")),
        next_action_url=_next_action_url(pi.get("next_action")),
        last_error_code=_text(error.get("code")),
        last_decline_code=_text(error.get("decline_code")),
        last_error_message=_text(error.get("message")),
        latest_charge=_id_of(pi.get("latest_charge")),
        charge_amount_captured=_charge_amount_captured(pi.get("latest_charge")),
        **charge_fee(pi.get("latest_charge")),
        checkout_id=_text(_metadata(pi).get("checkout_id")),
        created=_count(pi.get("created")),
    )


def refund_snapshot(refund: Mapping[str, Any] | stripe.StripeObject) -> RefundSnapshot:
    """As ``payment_intent_snapshot``: id, amount, currency and status are required."""
    refund = _object(refund)
    return RefundSnapshot(
        id=_required_text(refund, "id"),
        # Refunds of PaymentIntent charges always carry it; "" marks a bare-charge refund.
        payment_intent_id=_id_of(refund.get("payment_intent")) or "",
        amount=_required_count(refund, "amount"),
        currency=_required_text(refund, "currency"),
        status=_required_text(refund, "status"),
        failure_reason=_text(refund.get("failure_reason")),
        refund_key=_text(_metadata(refund).get("refund_id")),
        created=_count(refund.get("created")),
    )


def dispute_snapshot(dispute: Mapping[str, Any] | stripe.StripeObject) -> DisputeSnapshot:
    dispute = _object(dispute)
    return DisputeSnapshot(
        id=_required_text(dispute, "id"),
        payment_intent_id=_id_of(dispute.get("payment_intent")),
        amount=_required_count(dispute, "amount"),
        reason=_text(dispute.get("reason")),
        status=_required_text(dispute, "status"),
    )


class MalformedObjectError(ValueError):
    """A Stripe object without a readable identity (id, status, amount, currency)."""


def as_dict(obj: Any) -> Any:
    """SDK objects are not dicts (since stripe 15); plain JSON passes through."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def _object(obj: Any) -> Mapping[str, Any]:
    obj = as_dict(obj)
    if not isinstance(obj, Mapping):
        raise MalformedObjectError(f"expected an object, got {type(obj).__name__}")
    return obj


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any, default: int | None = 0) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _required_text(obj: Mapping[str, Any], name: str) -> str:
    value = _text(obj.get(name))
    if value is None:
        raise MalformedObjectError(f"{name} is not a string")
    return value


def _required_count(obj: Mapping[str, Any], name: str) -> int:
    value = _count(obj.get(name), None)
    if value is None:
        raise MalformedObjectError(f"{name} is not an integer")
    return value


def _next_action_url(next_action: Any) -> str | None:
    if not isinstance(next_action, Mapping):
        return None
    redirect = next_action.get("redirect_to_url")
    if isinstance(redirect, Mapping) and _text(redirect.get("url")):
        return redirect["url"]
    sdk = next_action.get("use_stripe_sdk")
    stripe_js = sdk.get("stripe_js") if isinstance(sdk, Mapping) else None
    return stripe_js if isinstance(stripe_js, str) and stripe_js else None


def charge_fee(charge: Any) -> dict[str, Any]:
    """``fee`` and ``balance_transaction_id`` of a charge whose balance transaction is
    expanded (Stripe's processing fee); empty when the reply does not say."""
    charge = as_dict(charge)
    txn = charge.get("balance_transaction") if isinstance(charge, Mapping) else None
    txn = as_dict(txn)
    if not isinstance(txn, Mapping):
        return {}
    fee = _count(txn.get("fee"), default=None)
    return {} if fee is None else {"fee": fee, "balance_transaction_id": _text(txn.get("id"))}


def _charge_amount_captured(charge: Any) -> int | None:
    """An expanded latest charge's ``amount_captured``; a charge that only says ``captured``
    (localstripe) captured its amount. None when the charge is not expanded."""
    if not isinstance(charge, Mapping):
        return None
    captured = _count(charge.get("amount_captured"), default=None)
    if captured is not None:
        return captured
    if charge.get("captured") is True:
        return _count(charge.get("amount"), default=None)
    return None


def _id_of(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or nothing (also for a wrong type)."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}
