"""Effects: external calls a decision asks the shell to make, each with its idempotency key."""

from __future__ import annotations

import msgspec


class CreatePaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    checkout_id: str
    order_id: str
    amount: int
    currency: str
    idempotency_key: str
    payment_method: str | None = None
    return_url: str | None = None
    customer: str | None = None  # a Stripe Customer: saved cards (§3.9)
    off_session: bool = False
    setup_future_usage: str | None = None


class ConfirmPaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    payment_intent_id: str
    idempotency_key: str
    payment_method: str | None = None
    return_url: str | None = None


class CapturePayment(msgspec.Struct, frozen=True, kw_only=True):
    payment_intent_id: str
    amount: int
    idempotency_key: str


class CancelPaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel the checkout's intent. ``payment_intent_id`` is None when creation was asked
    for but its outcome is unknown: the shell searches by ``checkout_id``. With
    ``unless_authorized`` the shell reads the intent first and, if it is already
    authorized or captured, returns it instead of cancelling (expiry vs. a late payment)."""

    checkout_id: str
    payment_intent_id: str | None
    idempotency_key: str
    unless_authorized: bool = False


class SyncPaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    """Read the intent back: how an unknown outcome or a webhook is resolved."""

    checkout_id: str
    payment_intent_id: str | None


class CreateRefund(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    refund_id: str
    payment_intent_id: str
    amount: int
    reason: str | None
    idempotency_key: str


Effect = (
    CreatePaymentIntent
    | ConfirmPaymentIntent
    | CapturePayment
    | CancelPaymentIntent
    | SyncPaymentIntent
    | CreateRefund
)
