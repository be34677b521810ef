"""Ports: what the core needs from the outside world, as Protocols and plain data.

The payment gateway speaks in domain terms. Adapters (the Stripe SDK adapter, the
in-memory fake) translate provider responses into these snapshots and errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import msgspec


class PaymentIntentSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider says a payment intent is, at one moment."""

    id: str
    status: str  # Stripe's statuses: requires_payment_method, requires_confirmation,
    # requires_action, processing, requires_capture, canceled, succeeded
    amount: int
    currency: str
    amount_capturable: int = 0
    amount_received: int = 0
    client_secret: str | None = None
    next_action_url: str | None = None
    last_error_code: str | None = None
    last_decline_code: str | None = None
    last_error_message: str | None = None
    latest_charge: str | None = None
    # the latest charge's amount_captured, when the reply carried the charge (expanded)
    charge_amount_captured: int | None = None
    checkout_id: str | None = None  # from metadata.checkout_id
    created: int = 0
    # Stripe's fee for the latest charge, from its balance transaction, when the reply said
    fee: int | None = None
    balance_transaction_id: str | None = None


def captured_amount(snap: PaymentIntentSnapshot) -> int:
    """What Stripe says it captured: the intent's ``amount_received``, else the latest
    charge's ``amount_captured`` (CONTRACT §3.6 v2); 0 when neither says."""
    if snap.amount_received:
        return snap.amount_received
    return snap.charge_amount_captured or 0


class RefundSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider says a refund is."""

    id: str
    payment_intent_id: str
    amount: int
    currency: str
    status: str  # pending, succeeded, failed, canceled, requires_action
    failure_reason: str | None = None
    refund_key: str | None = None  # our refund id, from metadata.refund_id
    created: int = 0


class DisputeSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider says a dispute (chargeback) is."""

    id: str
    payment_intent_id: str | None
    amount: int
    reason: str | None
    status: str  # warning_needs_response, needs_response, under_review, won, lost, ...


class PaymentEventNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A verified provider event (a Stripe webhook or an event read back from its API),
    normalised for the saga. ``payment_intent`` / ``refund`` carry the object as the event
    delivered it; consumers must not trust its order relative to other events."""

    event_id: str  # evt_...
    type: str  # e.g. payment_intent.succeeded
    created: int
    livemode: bool = False
    payment_intent: PaymentIntentSnapshot | None = None
    refund: RefundSnapshot | None = None
    dispute_id: str | None = None
    dispute_amount: int | None = None
    dispute_reason: str | None = None
    dispute_status: str | None = None
    payment_intent_id: str | None = None  # set for charge/refund/dispute events too
    checkout_id: str | None = None
    stripe_customer_id: str | None = None  # payment_method.* and setup_intent.* events


class PaymentMethodSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A saved card as the provider shows it: its id and display fields, never its number."""

    id: str  # pm_...
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    stripe_customer_id: str | None = None


class SetupIntentSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # seti_...
    status: str  # requires_payment_method, requires_confirmation, requires_action, succeeded, ...
    client_secret: str | None = None
    payment_method: str | None = None


# --- errors a gateway raises -------------------------------------------------------------


class PaymentGatewayError(Exception):
    """Base of every error the gateway raises."""


class CardDeclinedError(PaymentGatewayError):
    """The card was declined. The intent (if Stripe returned it) goes back to
    ``requires_payment_method``; the customer may try another card."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "card_declined",
        decline_code: str | None = None,
        payment_intent: PaymentIntentSnapshot | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.decline_code = decline_code
        self.payment_intent = payment_intent


class PaymentOutcomeUnknownError(PaymentGatewayError):
    """The request may or may not have taken effect (timeout, connection error, 5xx,
    409 concurrent idempotent request, lost reply). Resolve it by retrying with the same
    idempotency key or by reading the intent back; never by blind compensation."""


class PaymentRateLimitedError(PaymentOutcomeUnknownError):
    """Stripe refused the request for load; retry later with the same key."""


class PaymentProviderUnavailableError(PaymentGatewayError):
    """The circuit breaker is open: the provider kept failing, calls fail fast."""


class PaymentRequestRejectedError(PaymentGatewayError):
    """Stripe refused the request as invalid (InvalidRequestError, IdempotencyError).
    For an idempotency error or a parameter error this is a bug to surface loudly. ``code``
    carries Stripe's error code (e.g. ``payment_intent_unexpected_state``) and
    ``payment_intent`` the intent Stripe attached, when it did."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        payment_intent: PaymentIntentSnapshot | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.payment_intent = payment_intent


class RefundFailedError(PaymentGatewayError):
    """The provider refused the refund outright (e.g. amount above what is refundable)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


# --- ports -------------------------------------------------------------------------------


class PaymentGateway(Protocol):
    """Every method that writes takes the saga's idempotency key; calling it again with
    the same key and arguments must return the first result (never a second effect)."""

    def is_available(self) -> bool:
        """False while the provider is known to be down (e.g. its circuit breaker is open):
        new checkouts are then refused before anything is reserved."""
        ...

    def retry_after_seconds(self) -> float:
        """While unavailable: seconds until the provider may be tried again (``Retry-After``)."""
        ...

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        checkout_id: str,
        order_id: str,
        idempotency_key: str,
        payment_method: str | None = None,
        return_url: str | None = None,
        customer: str | None = None,
        off_session: bool = False,
        setup_future_usage: str | None = None,
    ) -> PaymentIntentSnapshot:
        """Create a manual-capture intent; confirm it in the same call when
        ``payment_method`` is given. ``customer`` (a Stripe Customer id) with
        ``setup_future_usage="off_session"`` saves the card; with ``off_session`` a saved
        card is charged without the customer present."""
        ...

    def confirm_payment_intent(
        self,
        payment_intent_id: str,
        *,
        idempotency_key: str,
        payment_method: str | None = None,
        return_url: str | None = None,
    ) -> PaymentIntentSnapshot: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentSnapshot: ...

    def find_payment_intents(self, checkout_id: str) -> list[PaymentIntentSnapshot]:
        """Intents whose ``metadata.checkout_id`` is ``checkout_id`` (search)."""
        ...

    def capture_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str, amount: int | None = None
    ) -> PaymentIntentSnapshot: ...

    def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntentSnapshot:
        """Cancel; an already-cancelled intent is returned as it is (not an error)."""
        ...

    def create_refund(
        self,
        *,
        payment_intent_id: str,
        amount: int,
        refund_key: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> RefundSnapshot: ...

    def retrieve_refund(self, refund_id: str) -> RefundSnapshot: ...

    def retrieve_dispute(self, dispute_id: str) -> DisputeSnapshot: ...

    def list_payment_intents(self, *, created_gte: int) -> Iterable[PaymentIntentSnapshot]: ...

    def list_refunds(self, *, created_gte: int,
                     payment_intent_id: str | None = None) -> Iterable[RefundSnapshot]:
        """Refunds created since ``created_gte`` (of one intent when ``payment_intent_id``)."""
        ...

    def list_events(self, *, created_gte: int) -> Iterable[PaymentEventNotice]: ...

    # --- customers and saved cards (CONTRACT §3.9) --------------------------------------

    def ensure_customer(self, *, customer_id: str, idempotency_key: str) -> str:
        """The Stripe Customer for ``customer_id`` (``metadata.customer_id``), created with
        ``idempotency_key``: concurrent first uses with the same key make one."""
        ...

    def customer_ref(self, stripe_customer_id: str) -> str | None:
        """The shop's customer id of a Stripe Customer (its ``metadata.customer_id``)."""
        ...

    def create_setup_intent(self, *, stripe_customer_id: str, idempotency_key: str,
                            payment_method: str | None = None) -> SetupIntentSnapshot:
        """An off-session SetupIntent for the customer, confirmed when a method is given."""
        ...

    def attach_payment_method(self, payment_method: str, *, stripe_customer_id: str,
                              idempotency_key: str) -> PaymentMethodSnapshot:
        """Save the method for the customer; a test token becomes a new ``pm_`` method."""
        ...

    def detach_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        """Detach; a method attached to no one is already detached (not an error)."""
        ...

    def list_payment_methods(self, stripe_customer_id: str) -> list[PaymentMethodSnapshot]: ...

    def set_default_payment_method(self, stripe_customer_id: str, payment_method_id: str | None, *,
                                   idempotency_key: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class EventStore(Protocol):
    """Streams of events, appended atomically across streams with optimistic concurrency."""

    def get(self, stream_id, fold, *, at_version: int | None = None):  # noqa: ANN001
        """The state folded from the stream (up to ``at_version``), or None if it is empty."""
        ...

    def get_many(self, requests) -> list:  # noqa: ANN001
        """``[get(stream_id, fold) for stream_id, fold in requests]``, as fresh, read together
        (one round trip where the database allows)."""
        ...

    def cached(self, stream_id, fold):  # noqa: ANN001
        """The last state of the stream this process knows, without a read (None: unknown);
        a guess of what to read, never a basis for a decision."""
        ...

    def stream(self, stream_id, *, upto_version: int | None = None) -> list:  # noqa: ANN001
        ...

    def append(self, events) -> None:  # noqa: ANN001
        """Record every event in one transaction, or none; a stream that moved on since it
        was read raises ``checkout_saga.errors.ConcurrencyConflictError``."""
        ...


class SagaObserver(Protocol):
    """Logs and metrics for the saga, kept out of the core (an adapter implements it)."""

    def step_finished(self, *, checkout_id: str, step: str, idempotency_key: str, outcome: str,
                      seconds: float) -> None: ...

    def events_recorded(self, events: list) -> None: ...  # noqa: ANN001

    def conflict_retried(self, *, operation: str, attempt: int) -> None: ...


class NullObserver:
    def step_finished(self, **_: object) -> None:
        return None

    def events_recorded(self, events: list) -> None:  # noqa: ANN001
        return None

    def conflict_retried(self, **_: object) -> None:
        return None
