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

from checkout_saga.ports import PaymentEventNotice, PaymentIntentSnapshot, RefundSnapshot


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
    if not isinstance(event, Mapping) or event.get("object", "event") != "event":
        raise ValueError("not an event object")
    base = {
        "event_id": str(event["id"]),
        "type": str(event["type"]),
        "created": int(event["created"]),
        "livemode": bool(event.get("livemode", False)),
    }
    event_type = base["type"]
    obj = event["data"]["object"]
    if event_type.startswith("payment_intent."):
        intent = payment_intent_snapshot(obj)
        return PaymentEventNotice(
            **base,
            payment_intent=intent,
            payment_intent_id=intent.id,
            checkout_id=intent.checkout_id,
        )
    if event_type.startswith("refund.") or event_type == "charge.refund.updated":
        refund = refund_snapshot(obj)
        return PaymentEventNotice(
            **base,
            refund=refund,
            payment_intent_id=refund.payment_intent_id or None,
            checkout_id=_metadata(obj).get("checkout_id"),
        )
    if event_type.startswith("charge.dispute."):
        return PaymentEventNotice(
            **base,
            dispute_id=obj["id"],
            dispute_amount=obj.get("amount"),
            dispute_reason=obj.get("reason"),
            dispute_status=obj.get("status"),
            payment_intent_id=_id_of(obj.get("payment_intent")),
        )
    if event_type.startswith(("payment_method.", "setup_intent.")):
        # a detached method names its former customer only in previous_attributes
        previous = event["data"].get("previous_attributes") or {}
        customer = _id_of(obj.get("customer")) or _id_of(previous.get("customer"))
        return PaymentEventNotice(**base, stripe_customer_id=customer)
    if event_type.startswith("charge."):
        return PaymentEventNotice(
            **base,
            payment_intent_id=_id_of(obj.get("payment_intent")),
            checkout_id=_metadata(obj).get("checkout_id"),
        )
    return PaymentEventNotice(**base)


def payment_intent_snapshot(pi: Mapping[str, Any] | stripe.StripeObject) -> PaymentIntentSnapshot:
    pi = as_dict(pi)
    error = pi.get("last_payment_error") or {}
    return PaymentIntentSnapshot(
        id=pi["id"],
        status=pi["status"],
        amount=int(pi["amount"]),
        currency=pi["currency"],
        amount_capturable=int(pi.get("amount_capturable") or 0),
        amount_received=int(pi.get("amount_received") or 0),
        client_secret=pi.get("client_secret"),
        next_action_url=_next_action_url(pi.get("next_action")),
        last_error_code=error.get("code"),
        last_decline_code=error.get("decline_code"),
        last_error_message=error.get("message"),
        latest_charge=_id_of(pi.get("latest_charge")),
        checkout_id=_metadata(pi).get("checkout_id"),
        created=int(pi.get("created") or 0),
    )


def refund_snapshot(refund: Mapping[str, Any] | stripe.StripeObject) -> RefundSnapshot:
    refund = as_dict(refund)
    return RefundSnapshot(
        id=refund["id"],
        # Refunds of PaymentIntent charges always carry it; "" marks a bare-charge refund.
        payment_intent_id=_id_of(refund.get("payment_intent")) or "",
        amount=int(refund["amount"]),
        currency=refund["currency"],
        status=refund["status"],
        failure_reason=refund.get("failure_reason"),
        refund_key=_metadata(refund).get("refund_id"),
        created=int(refund.get("created") or 0),
    )


def as_dict(obj: Any) -> Any:
    """SDK objects are not dicts (since stripe 15); plain JSON passes through."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def _next_action_url(next_action: Mapping[str, Any] | None) -> str | None:
    if not next_action:
        return None
    redirect = next_action.get("redirect_to_url") or {}
    if redirect.get("url"):
        return redirect["url"]
    sdk = next_action.get("use_stripe_sdk") or {}
    stripe_js = sdk.get("stripe_js")
    return stripe_js if isinstance(stripe_js, str) and stripe_js else None


def _id_of(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or nothing."""
    if value is None or isinstance(value, str):
        return value
    return value["id"]


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}
