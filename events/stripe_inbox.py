"""Events of the Stripe inbox: each provider event recorded once, before it is acknowledged."""

from __future__ import annotations

from datetime import datetime

from events.base import DomainEvent


class StripeEventReceived(DomainEvent, frozen=True, kw_only=True):
    event_id: str
    type: str
    created: int
    payment_intent_id: str | None
    checkout_id: str | None
    payload: str  # the verified raw body, kept for audit and replay


class StripeEventApplied(DomainEvent, frozen=True, kw_only=True):
    outcome: str  # applied | ignored | no_change


class StripeEventUnmatched(DomainEvent, frozen=True, kw_only=True):
    """No checkout or order knows this event: surfaced to reconciliation."""

    reason: str


class StripeEventApplyDeferred(DomainEvent, frozen=True, kw_only=True):
    """The event could not be checked against Stripe (the re-read failed): it stays recorded
    but unapplied and is tried again at ``retry_at`` (a webhook is a hint, never proof)."""

    attempt: int
    retry_at: datetime
    reason: str
