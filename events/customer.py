"""Events of the Customer aggregate: the link to one Stripe Customer and the saved cards.

Only ids and display fields are stored (brand, last4, expiry) — never a card number."""

from __future__ import annotations

from events.base import DomainEvent


class CustomerLinked(DomainEvent, frozen=True, kw_only=True):
    """The shop's customer id now has its one Stripe Customer."""

    customer_id: str
    stripe_customer_id: str


class PaymentMethodSaved(DomainEvent, frozen=True, kw_only=True):
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class DefaultPaymentMethodChanged(DomainEvent, frozen=True, kw_only=True):
    """``payment_method_id`` None: the customer has no default (no saved card is left)."""

    payment_method_id: str | None


class PaymentMethodRemoved(DomainEvent, frozen=True, kw_only=True):
    payment_method_id: str


class PaymentMethodClaimed(DomainEvent, frozen=True, kw_only=True):
    """On the method's own stream, with its first saving: whose it is, so a checkout naming
    another customer's method is refused as not found before Stripe is asked."""

    payment_method_id: str
    customer_id: str
