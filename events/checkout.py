"""Events of the Checkout aggregate: the saga's own stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from events.base import DomainEvent, LineItem, Upcaster
from events.documents import Address


def _customer_string_to_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 stored the customer as one id string; v2 splits id and email."""
    customer = payload.pop("customer", None)
    payload.setdefault("customer_id", customer)
    payload.setdefault("customer_email", None)
    return payload


class CheckoutStarted(DomainEvent, frozen=True, kw_only=True):
    checkout_session_id: str
    request_fingerprint: str
    customer_id: str | None
    customer_email: str | None
    currency: str
    items: list[LineItem]
    amount_subtotal: int
    amount_tax: int = 0
    amount_shipping: int = 0
    amount_total: int
    payment_method: str | None = None
    return_url: str | None = None
    expires_at: datetime
    # v2 order surface (issue 11): absent in events recorded before it, read as None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    tax_rate: str | None = None  # the policy's rate (decimal text) the tax was computed with
    # v2 saved cards (§3.9); absent in older events, which read as "no Stripe customer"
    stripe_customer_id: str | None = None
    off_session: bool = False
    save_payment_method: bool = False

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Upcaster]] = {1: _customer_string_to_fields}


class ShortLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    requested: int
    available: int


class StockReserved(DomainEvent, frozen=True, kw_only=True):
    """Every line was reserved, atomically with the inventory streams."""

    items: list[LineItem]


class StockReservationRefused(DomainEvent, frozen=True, kw_only=True):
    lines: list[ShortLine]


class OrderAttached(DomainEvent, frozen=True, kw_only=True):
    order_id: str
    order_number: str


class PaymentStepRequested(DomainEvent, frozen=True, kw_only=True):
    """The intention, recorded before the external call, with its idempotency key.
    Steps: create_intent, confirm, capture, cancel_intent, sync_intent."""

    step: str
    idempotency_key: str
    payment_method: str | None = None
    return_url: str | None = None


class PaymentStepOutcomeUnknown(DomainEvent, frozen=True, kw_only=True):
    """The call's effect is unknown (timeout, 5xx, lost reply): it will be retried with
    the same key, or resolved by reading the intent back, never blindly compensated."""

    step: str
    idempotency_key: str
    reason: str
    attempt: int
    retry_at: datetime


class PaymentIntentCreated(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str
    client_secret: str | None
    status: str


class PaymentDeclined(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str | None
    code: str
    decline_code: str | None
    message: str


class PaymentActionRequired(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str
    next_action_url: str | None


class PaymentAwaitingMethod(DomainEvent, frozen=True, kw_only=True):
    """The intent waits for a payment method (none given, or 3-D Secure failed)."""

    payment_intent_id: str
    status: str
    last_error_code: str | None = None
    last_error_message: str | None = None


class PaymentAuthorized(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str
    amount_capturable: int


class StockCommitted(DomainEvent, frozen=True, kw_only=True):
    """Reservations became sales (atomically with the inventory streams), before capture."""

    items: list[LineItem]


class PaymentCaptured(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str
    amount_received: int
    charge_id: str | None


class PaymentFeeRecorded(DomainEvent, frozen=True, kw_only=True):
    """Stripe's processing fee for the capture, read from the charge's balance transaction
    (recorded so that the transaction log is a pure projection of the stream)."""

    payment_intent_id: str
    charge_id: str | None
    balance_transaction_id: str | None
    fee: int
    currency: str


class CheckoutCompleted(DomainEvent, frozen=True, kw_only=True):
    pass


class CompensationStarted(DomainEvent, frozen=True, kw_only=True):
    """Undo what was done, in reverse order, then end in ``target_status``."""

    target_status: str  # failed | cancelled | expired
    reason_code: str
    reason: str
    steps: list[str]  # e.g. ["cancel_intent", "release_stock", "cancel_order"]


class CompensationStepSucceeded(DomainEvent, frozen=True, kw_only=True):
    step: str


class CompensationStepFailed(DomainEvent, frozen=True, kw_only=True):
    step: str
    attempt: int
    error: str
    retry_at: datetime | None


class PaymentIntentCancelled(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str


class StockReleased(DomainEvent, frozen=True, kw_only=True):
    """Reservations (or, before capture, sales) given back, atomically with inventory."""

    items: list[LineItem]
    was_committed: bool = False


class CheckoutFailed(DomainEvent, frozen=True, kw_only=True):
    code: str
    message: str


class CheckoutCancelled(DomainEvent, frozen=True, kw_only=True):
    reason: str


class CheckoutExpired(DomainEvent, frozen=True, kw_only=True):
    pass


class CheckoutNeedsAttention(DomainEvent, frozen=True, kw_only=True):
    step: str
    reason: str
    code: str | None = None  # e.g. amount_mismatch: shown as the checkout's failure.code


class OperatorRetryRequested(DomainEvent, frozen=True, kw_only=True):
    step: str | None


class CheckoutResolved(DomainEvent, frozen=True, kw_only=True):
    note: str


class CompensationAbandoned(DomainEvent, frozen=True, kw_only=True):
    """Stripe says the payment was already authorized or captured when the undo began:
    the checkout completes instead (the customer's money is never left without an order)."""

    reason: str


class PaymentStepCompleted(DomainEvent, frozen=True, kw_only=True):
    """The call returned and changed nothing else (e.g. the intent is still processing)."""

    step: str
    idempotency_key: str
    status: str


class PaymentObservedAfterEnd(DomainEvent, frozen=True, kw_only=True):
    """The provider answered a step (or said something about the intent) after the checkout
    had ended: kept for the audit trail, it changes nothing (terminal means terminal)."""

    step: str | None
    outcome: str  # e.g. card_declined, outcome_unknown, rejected
    payment_intent_id: str | None = None
    detail: str = ""
