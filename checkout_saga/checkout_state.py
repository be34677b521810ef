"""The Checkout aggregate's state: what a checkout is at one version (folded from its own
stream by ``checkout_saga.checkout``).

Statuses (CONTRACT §3.1): processing, awaiting_payment, requires_action, completed, failed,
cancelled, expired, needs_attention; plus resolved (an operator closed a needs_attention).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from checkout_saga.ids import checkout_id_of
from checkout_saga.state import State
from events.base import LineItem
from events.documents import Address

TERMINAL = frozenset({"completed", "failed", "cancelled", "expired", "resolved"})
#: Stripe's final intent statuses: no later observation moves an intent out of them.
FINAL_INTENT_STATUSES = frozenset({"canceled", "succeeded"})
COMPENSATED_TERMINAL = frozenset({"failed", "cancelled", "expired"})


class PendingStep(msgspec.Struct, frozen=True, kw_only=True):
    """An intention recorded without its outcome yet: recovery re-runs it with its key."""

    step: str
    idempotency_key: str
    attempt: int = 0
    retry_at: datetime | None = None
    payment_method: str | None = None
    return_url: str | None = None


class Compensation(msgspec.Struct, frozen=True, kw_only=True):
    target_status: str
    reason_code: str
    reason: str
    remaining: tuple[str, ...]
    attempt: int = 0
    retry_at: datetime | None = None
    last_error: str | None = None


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str


class PaymentError(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    decline_code: str | None = None
    message: str | None = None


class CheckoutState(State, frozen=True, kw_only=True):
    checkout_session_id: str
    request_fingerprint: str
    customer_id: str | None
    customer_email: str | None
    currency: str
    items: tuple[LineItem, ...]
    amount_subtotal: int
    amount_tax: int
    amount_shipping: int
    amount_total: int
    payment_method: str | None
    return_url: str | None
    expires_at: datetime
    stripe_customer_id: str | None = None
    off_session: bool = False
    save_payment_method: bool = False
    status: str = "processing"
    stock: str = "none"  # none | reserved | committed | released | refused
    order_id: str | None = None
    order_number: str | None = None
    payment_intent_id: str | None = None
    client_secret: str | None = None
    payment_status: str | None = None  # the intent's status as last observed
    next_action_url: str | None = None
    last_payment_error: PaymentError | None = None
    amount_capturable: int = 0
    amount_captured: int = 0
    charge_id: str | None = None
    fee_recorded: bool = False  # Stripe's fee for the capture is in the stream
    pending: PendingStep | None = None
    confirm_attempts: int = 0
    compensation: Compensation | None = None
    failure: Failure | None = None
    attention_reason: str | None = None
    resolution_note: str | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    tax_rate: str | None = None

    @property
    def checkout_id(self) -> str:
        return checkout_id_of(self.id)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def holds_unpaid_stock(self) -> bool:
        """Stock reserved for a checkout still waiting for its payment (not ended, not being
        undone, not handed to an operator)."""
        return (self.stock == "reserved" and not self.is_terminal and self.compensation is None
                and self.status != "needs_attention")

    def reservation_expired(self, now: datetime) -> bool:
        """The one expiry rule: unpaid stock held at or past ``expires_at``."""
        return self.holds_unpaid_stock and now >= self.expires_at

    @property
    def intent_may_be_live(self) -> bool:
        return self.payment_status not in ("canceled", "succeeded") and (
            self.payment_intent_id is not None or self.create_intent_requested
        )

    @property
    def create_intent_requested(self) -> bool:
        return self.payment_intent_id is None and self.payment_status == "creating"
