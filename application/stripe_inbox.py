"""The Stripe inbox: each provider event is recorded once, durably, before it is
acknowledged; then routed to the saga. A redelivery of an applied event is a duplicate
with no effect; one recorded but not applied (a crash in between) is applied again."""

from __future__ import annotations

from application.checkout_service import CheckoutService
from application.customer_service import CustomerService
from application.order_service import OrderService
from checkout_saga import ports
from checkout_saga.checkout import fold_checkout
from checkout_saga.customer import SAVED_CARD_EVENTS
from checkout_saga.decision import EventWriter
from checkout_saga.errors import ConcurrencyConflictError
from checkout_saga.ids import CHECKOUT_PREFIX, order_stream, parse_prefixed, stripe_event_stream
from checkout_saga.order import fold_order
from checkout_saga.stripe_events import fold_inbox, outcome_without_effect
from events.base import Cause
from events.order import DisputeClosed, DisputeOpened
from events.stripe_inbox import StripeEventApplied, StripeEventReceived, StripeEventUnmatched


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
        outcome = self.apply(notice)
        w = EventWriter(self.clock.now(), cause)
        if outcome.startswith("unmatched"):
            w.emit(sid, entry.version, StripeEventUnmatched, reason=outcome.split(":", 1)[-1].strip())
        else:
            w.emit(sid, entry.version, StripeEventApplied, outcome=outcome)
        try:
            store.append(w.events)
        except ConcurrencyConflictError:  # another delivery recorded the outcome first
            pass
        return False

    def _outcome_without_effect(self, notice: ports.PaymentEventNotice) -> str | None:
        checkout_sid = parse_prefixed(notice.checkout_id or "", CHECKOUT_PREFIX)
        checkout = self.store.get(checkout_sid, fold_checkout) if checkout_sid else None
        return outcome_without_effect(notice, checkout)

    def apply(self, notice: ports.PaymentEventNotice) -> str:
        cause = Cause(kind="webhook", ref=notice.event_id)
        if notice.type.startswith("payment_intent."):
            return self._apply_intent(notice, cause)
        if notice.refund is not None:
            return self._apply_refund(notice, cause)
        if notice.type.startswith("charge.dispute."):
            return self._apply_dispute(notice, cause)
        if notice.type in SAVED_CARD_EVENTS and self.customers is not None:
            return self.customers.apply_notice(notice, cause)
        return "ignored"

    def _current_intent(self, notice: ports.PaymentEventNotice) -> ports.PaymentIntentSnapshot | None:
        """Re-read the intent: the event's copy may be older than what already happened."""
        intent_id = notice.payment_intent_id or (notice.payment_intent.id if notice.payment_intent else None)
        if intent_id is None:
            return None
        try:
            return self.gateway.retrieve_payment_intent(intent_id)
        except ports.PaymentGatewayError:
            return notice.payment_intent

    def _apply_intent(self, notice, cause) -> str:
        snap = self._current_intent(notice)
        if snap is None or snap.checkout_id is None:
            return "unmatched: no checkout_id in the intent's metadata"
        if self.checkouts.apply_payment_snapshot(snap, cause) is None:
            return f"unmatched: no checkout {snap.checkout_id}"
        return "applied"

    def _order_sid(self, notice):
        snap = self._current_intent(notice)
        checkout_sid = parse_prefixed(snap.checkout_id or "", CHECKOUT_PREFIX) if snap else None
        return order_stream(checkout_sid) if checkout_sid else None

    def _apply_refund(self, notice, cause) -> str:
        refund = notice.refund
        order_sid = self._order_sid(notice)
        order = self.store.get(order_sid, fold_order) if order_sid else None
        if order is None:
            return "unmatched: refund for an unknown order"
        if refund.refund_key not in order.refunds:
            return "unmatched: refund not made by this service"
        self.orders.apply_refund_snapshot(order.order_id, refund.refund_key, refund, cause)
        return "applied"

    def _apply_dispute(self, notice, cause) -> str:
        order_sid = self._order_sid(notice)
        order = self.store.get(order_sid, fold_order) if order_sid else None
        if order is None or notice.dispute_id is None:
            return "unmatched: dispute for an unknown order"
        w = EventWriter(self.clock.now(), cause)
        if notice.type == "charge.dispute.created" and notice.dispute_id not in order.disputes:
            w.emit(order.id, order.version, DisputeOpened, dispute_id=notice.dispute_id,
                   amount=notice.dispute_amount or 0, reason=notice.dispute_reason)
        elif notice.type == "charge.dispute.closed":
            w.emit(order.id, order.version, DisputeClosed, dispute_id=notice.dispute_id,
                   status=notice.dispute_status or "closed")
        self.store.append(w.events)
        return "applied"
