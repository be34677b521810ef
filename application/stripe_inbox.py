"""The Stripe inbox: each provider event is recorded once, durably, before it is
acknowledged; then routed to the saga. A redelivery of an applied event is a duplicate
with no effect; one recorded but not applied (a crash in between) is applied again.

A webhook is a hint, never proof: what it says is re-read from Stripe before anything
moves. When that re-read fails the event stays recorded but unapplied
(``StripeEventApplyDeferred`` with a retry time, backoff); the worker applies it again when
due (``retry``) and, after ``MAX_APPLY_ATTEMPTS``, hands the checkout it names to an
operator. An intent Stripe does not know (404) is a typed discrepancy, never a payment."""

from __future__ import annotations

import json

import msgspec
import structlog

from adapters.stripe_webhooks import notice_from_event
from application.checkout_service import CheckoutService
from application.customer_service import CustomerService
from application.order_service import OrderService
from checkout_saga import errors, ports
from checkout_saga.checkout import fold_checkout
from checkout_saga.customer import SAVED_CARD_EVENTS
from checkout_saga.decision import EventWriter, backoff
from checkout_saga.errors import ConcurrencyConflictError
from checkout_saga.ids import (
    CHECKOUT_PREFIX,
    order_id_of,
    order_stream,
    parse_prefixed,
    stripe_event_stream,
)
from checkout_saga.order import fold_order
from checkout_saga.stripe_events import (
    MAX_APPLY_ATTEMPTS,
    RETRY_BASE_SECONDS,
    InboxEntry,
    fold_inbox,
    outcome_without_effect,
)
from events.base import Cause
from events.stripe_inbox import (
    StripeEventApplied,
    StripeEventApplyDeferred,
    StripeEventReceived,
    StripeEventUnmatched,
)

log = structlog.get_logger("stripe_inbox")

UNKNOWN_INTENT = "payment intent unknown to Stripe"
UNKNOWN_REFUND = "refund unknown to Stripe"
UNKNOWN_DISPUTE = "dispute unknown to Stripe"
CLOSED_AT_STRIPE = ("won", "lost", "warning_closed")


class StripeReadFailed(Exception):
    """The re-read at Stripe failed (down, timeout, 5xx): apply later, never on the event's word."""


class UnknownToStripe(Exception):
    """Stripe answered 404 for the object the event names."""


class PaymentEventInbox:
    def __init__(self, checkouts: CheckoutService, orders: OrderService,
                 gateway: ports.PaymentGateway, customers: CustomerService | None = None) -> None:
        self.store = checkouts.store
        self.clock = checkouts.clock
        self.checkouts = checkouts
        self.orders = orders
        self.gateway = gateway
        self.customers = customers

    def receive(self, notice: ports.PaymentEventNotice, payload: str) -> bool:
        """Record then apply; True when this event was already applied (a duplicate).

        An event that cannot change anything (a type we do not act on, or news about a
        checkout that has already ended) is recorded with its outcome in one transaction;
        any other is recorded before it is applied, so a crash in between re-applies it."""
        store = self.store
        sid = stripe_event_stream(notice.event_id)
        entry = store.get(sid, fold_inbox)
        if entry is not None and entry.outcome is not None:
            return True
        cause = Cause(kind="webhook", ref=notice.event_id)
        settled = self._outcome_without_effect(notice) if entry is None else None
        if entry is None:
            w = EventWriter(self.clock.now(), cause)
            w.emit(sid, 0, StripeEventReceived, event_id=notice.event_id, type=notice.type,
                   created=notice.created, payment_intent_id=notice.payment_intent_id,
                   checkout_id=notice.checkout_id, payload=payload)
            if settled is not None:
                w.emit(sid, 1, StripeEventApplied, outcome=settled)
            try:
                store.append(w.events)
            except ConcurrencyConflictError:  # a concurrent delivery of this event won
                return True
            if settled is not None:
                return False
            entry = store.get(sid, fold_inbox)
        self._apply_recorded(notice, entry, cause)
        return False

    def outcome_of(self, event_id: str) -> str | None:
        """What a recorded event came to; None when never received or not applied yet."""
        entry = self.store.get(stripe_event_stream(event_id), fold_inbox)
        return entry.outcome if entry is not None else None

    def retry(self, event_id: str, cause: Cause | None = None) -> str | None:
        """Apply again an event recorded but not applied (the worker, when it is due);
        returns its outcome, or None while it stays deferred."""
        entry = self.store.get(stripe_event_stream(event_id), fold_inbox)
        if entry is None or entry.outcome is not None or entry.received is None:
            return entry.outcome if entry else None
        cause = cause or Cause(kind="timer", ref=event_id)
        notice = _notice_of(entry.received)
        settled = self._outcome_without_effect(notice)
        if settled is not None:  # the checkout ended meanwhile: nothing to re-read at Stripe
            w = EventWriter(self.clock.now(), cause)
            w.emit(stripe_event_stream(event_id), entry.version, StripeEventApplied, outcome=settled)
            try:
                self.store.append(w.events)
            except ConcurrencyConflictError:  # another delivery recorded the outcome first
                pass
            return settled
        return self._apply_recorded(notice, entry, cause)

    # --- applying, and recording what it came to -------------------------------------

    def _apply_recorded(self, notice: ports.PaymentEventNotice, entry: InboxEntry,
                        cause: Cause) -> str | None:
        sid = stripe_event_stream(notice.event_id)
        w = EventWriter(self.clock.now(), cause)
        try:
            outcome = self.apply(notice)
        except StripeReadFailed as exc:
            return self._defer(notice, entry, cause, str(exc))
        except UnknownToStripe as exc:
            outcome = f"unmatched: {exc}"
            log.error("ALERT stripe_event_unknown_to_stripe", alert=True, event_id=notice.event_id,
                      type=notice.type, payment_intent_id=notice.payment_intent_id,
                      checkout_id=notice.checkout_id, reason=str(exc))
        if outcome.startswith("unmatched"):
            w.emit(sid, entry.version, StripeEventUnmatched, reason=outcome.split(":", 1)[-1].strip())
        else:
            w.emit(sid, entry.version, StripeEventApplied, outcome=outcome)
        try:
            self.store.append(w.events)
        except ConcurrencyConflictError:  # another delivery recorded the outcome first
            pass
        return outcome

    def _defer(self, notice, entry: InboxEntry, cause: Cause, reason: str) -> str | None:
        sid = stripe_event_stream(notice.event_id)
        now = self.clock.now()
        attempt = entry.attempts + 1
        w = EventWriter(now, cause)
        if attempt >= MAX_APPLY_ATTEMPTS:
            outcome = self._escalate(notice, attempt, reason)
            w.emit(sid, entry.version, StripeEventUnmatched, reason=outcome)
        else:
            outcome = None
            retry_at = now + backoff(attempt, notice.event_id, base_seconds=RETRY_BASE_SECONDS)
            w.emit(sid, entry.version, StripeEventApplyDeferred, attempt=attempt,
                   retry_at=retry_at, reason=reason[:300])
            log.warning("stripe_event_apply_deferred", event_id=notice.event_id, type=notice.type,
                        attempt=attempt, retry_at=retry_at.isoformat(), reason=reason[:300])
        try:
            self.store.append(w.events)
        except ConcurrencyConflictError:  # another delivery or worker moved it on first
            pass
        return outcome

    def _escalate(self, notice, attempts: int, reason: str) -> str:
        detail = f"Stripe could not be read after {attempts} attempts: {reason}"[:300]
        log.error("ALERT stripe_event_never_verified", alert=True, event_id=notice.event_id,
                  type=notice.type, checkout_id=notice.checkout_id, reason=detail)
        if notice.checkout_id and parse_prefixed(notice.checkout_id, CHECKOUT_PREFIX):
            try:
                self.checkouts.escalate(notice.checkout_id, reason=f"{notice.type}: {detail}",
                                        cause=Cause(kind="webhook", ref=notice.event_id))
            except errors.DomainError:
                pass  # no such checkout: the alert line is all there is to raise
        return f"never verified at Stripe ({detail})"

    def _outcome_without_effect(self, notice: ports.PaymentEventNotice) -> str | None:
        checkout_sid = parse_prefixed(notice.checkout_id or "", CHECKOUT_PREFIX)
        checkout = self.store.get(checkout_sid, fold_checkout) if checkout_sid else None
        return outcome_without_effect(notice, checkout)

    def apply(self, notice: ports.PaymentEventNotice) -> str:
        """What the event comes to, after re-reading it at Stripe. Raises ``StripeReadFailed``
        when that read failed and ``UnknownToStripe`` when Stripe does not know the object."""
        cause = Cause(kind="webhook", ref=notice.event_id)
        if notice.type.startswith("payment_intent."):
            return self._apply_intent(notice, cause)
        if notice.refund is not None or notice.type == "charge.refunded":
            return self._apply_refund(notice, cause)
        if notice.type.startswith("charge.dispute."):
            return self._apply_dispute(notice, cause)
        if notice.type in SAVED_CARD_EVENTS and self.customers is not None:
            return self.customers.apply_notice(notice, cause)
        return "ignored"

    def _read(self, what: str, read):
        try:
            return read()
        except ports.PaymentRequestRejectedError as exc:
            if exc.http_status == 404 or exc.code == "resource_missing":
                raise UnknownToStripe(what) from exc
            raise StripeReadFailed(f"{type(exc).__name__}: {exc}") from exc
        except ports.PaymentGatewayError as exc:
            raise StripeReadFailed(f"{type(exc).__name__}: {exc}") from exc

    def _current_intent(self, notice: ports.PaymentEventNotice) -> ports.PaymentIntentSnapshot | None:
        """Re-read the intent: the event's copy may be older than what already happened, or
        not Stripe's at all."""
        intent_id = notice.payment_intent_id or (notice.payment_intent.id if notice.payment_intent else None)
        if intent_id is None:
            return None
        return self._read(UNKNOWN_INTENT, lambda: self.gateway.retrieve_payment_intent(intent_id))

    def _apply_intent(self, notice, cause) -> str:
        snap = self._current_intent(notice)
        if snap is None or snap.checkout_id is None:
            return "unmatched: no checkout_id in the intent's metadata"
        if self.checkouts.apply_payment_snapshot(snap, cause) is None:
            return f"unmatched: no checkout {snap.checkout_id}"
        return "applied"

    def _order_of(self, notice):
        snap = self._current_intent(notice)
        checkout_sid = parse_prefixed(snap.checkout_id or "", CHECKOUT_PREFIX) if snap else None
        order = self.store.get(order_stream(checkout_sid), fold_order) if checkout_sid else None
        return snap, order

    def _apply_refund(self, notice, cause) -> str:
        """``refund.*``: that refund, re-read; ``charge.refunded``: every refund Stripe has for
        the intent. Ours get their outcome; one made outside the service is recorded."""
        intent, order = self._order_of(notice)
        if order is None:
            return "unmatched: refund for an unknown order"
        if notice.refund is not None:
            refund_id = notice.refund.id
            refunds = [self._read(UNKNOWN_REFUND, lambda: self.gateway.retrieve_refund(refund_id))]
        else:
            listed = self._read(UNKNOWN_INTENT, lambda: list(self.gateway.list_refunds(
                created_gte=intent.created, payment_intent_id=intent.id)))
            refunds = [r for r in listed if r.payment_intent_id == intent.id]
        outcomes = {self.orders.record_stripe_refund(order.order_id, r, cause) for r in refunds}
        return "applied" if "applied" in outcomes else "no_change"

    def _apply_dispute(self, notice, cause) -> str:
        """The dispute as Stripe has it now (re-read), on the order of its intent."""
        if notice.dispute_id is None:
            return "unmatched: dispute for an unknown order"
        dispute_id = notice.dispute_id
        dispute = self._read(UNKNOWN_DISPUTE, lambda: self.gateway.retrieve_dispute(dispute_id))
        intent, order = self._order_of(msgspec.structs.replace(
            notice, payment_intent_id=dispute.payment_intent_id))
        if order is None or intent is None or order.payment_intent_id != intent.id:
            return "unmatched: dispute for an unknown order"
        closed = dispute.status in CLOSED_AT_STRIPE
        current = msgspec.structs.replace(
            notice, type="charge.dispute.closed" if closed else "charge.dispute.created",
            dispute_amount=dispute.amount, dispute_reason=dispute.reason,
            dispute_status=dispute.status, payment_intent_id=dispute.payment_intent_id)
        return self.orders.record_dispute(order_id_of(order.id), current, cause)


def _notice_of(received: StripeEventReceived) -> ports.PaymentEventNotice:
    """The event again, from what was recorded: the verified raw body of a webhook, the
    notice reconciliation read; else (an unreadable payload) what the record itself says,
    which is enough to re-read an intent."""
    try:
        data = json.loads(received.payload)
        if isinstance(data, dict) and isinstance(data.get("notice"), dict):
            return msgspec.convert(data["notice"], ports.PaymentEventNotice)
        return notice_from_event(data)
    except (ValueError, msgspec.ValidationError):
        return ports.PaymentEventNotice(
            event_id=received.event_id, type=received.type, created=received.created,
            payment_intent_id=received.payment_intent_id, checkout_id=received.checkout_id)
