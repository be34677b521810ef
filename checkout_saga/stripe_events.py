"""The Stripe inbox's pure rules: what an event stream of one provider event folds to, and
which events cannot change anything (so they are recorded with their outcome at once)."""

from __future__ import annotations

from checkout_saga import ports
from checkout_saga.checkout import COMPENSATED_TERMINAL, CheckoutState
from checkout_saga.customer import SAVED_CARD_EVENTS
from events.stripe_inbox import (
    StripeEventApplied,
    StripeEventApplyDeferred,
    StripeEventReceived,
    StripeEventUnmatched,
)

#: How often an event whose re-read at Stripe keeps failing is tried (backoff between tries)
#: before the checkout it names goes to ``needs_attention``.
MAX_APPLY_ATTEMPTS = 6
RETRY_BASE_SECONDS = 5.0

#: The Stripe event types the product acts on (CONTRACT §3.6): the one list the webhook
#: endpoint subscribes to (``checkout-saga stripe setup-webhooks``), so Stripe sends nothing
#: else. ``payment_intent.created``, ``charge.succeeded`` and ``charge.captured`` are left
#: out: they cannot change a checkout (the intent's own events say the same, later).
HANDLED_EVENT_TYPES: tuple[str, ...] = (
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "payment_method.attached",
    "payment_method.detached",
    "setup_intent.succeeded",
)


class InboxEntry:
    def __init__(self, received: StripeEventReceived | None = None, version: int = 0,
                 outcome: str | None = None, attempts: int = 0, retry_at=None) -> None:
        self.received, self.version, self.outcome = received, version, outcome
        self.attempts, self.retry_at = attempts, retry_at  # deferred tries, next one


def fold_inbox(state: InboxEntry | None, events) -> InboxEntry | None:
    """None for an event never received (so the repository reports "not found")."""
    entry = state
    for e in events:
        entry = entry or InboxEntry()
        if isinstance(e, StripeEventReceived):
            entry = InboxEntry(e, e.originator_version, entry.outcome)
        elif isinstance(e, StripeEventApplyDeferred):
            entry = InboxEntry(entry.received, e.originator_version, None, e.attempt, e.retry_at)
        elif isinstance(e, StripeEventApplied | StripeEventUnmatched):
            outcome = e.outcome if isinstance(e, StripeEventApplied) else f"unmatched: {e.reason}"
            entry = InboxEntry(entry.received, e.originator_version, outcome, entry.attempts)
    return entry


def outcome_without_effect(notice: ports.PaymentEventNotice,
                           checkout: CheckoutState | None) -> str | None:
    """The outcome of an event that cannot change anything, or None when it must be applied.
    ``checkout`` is the checkout named by the event's intent metadata, if any."""
    if notice.type in SAVED_CARD_EVENTS:
        return None
    if not (notice.type.startswith(("payment_intent.", "charge.dispute."))
            or notice.refund is not None or notice.type == "charge.refunded"):
        return "ignored"
    if not notice.type.startswith("payment_intent.") or notice.payment_intent is None:
        return None
    if checkout is None:
        return None
    if checkout.status == "completed":
        return "no_change: checkout already completed"
    live = notice.payment_intent.status in ("requires_capture", "succeeded")
    if checkout.status in COMPENSATED_TERMINAL and not live:
        # we ended it only after its intent was cancelled: nothing here can revive it
        return f"no_change: checkout already {checkout.status}"
    return None
