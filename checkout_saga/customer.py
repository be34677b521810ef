"""The Customer aggregate: the shop's customer, its one Stripe Customer and its saved cards.

Pure decisions: each takes the folded state and what the provider answered and returns the
events to record. A method is known by the ``pm_…`` id Stripe gave it when it was saved;
only display fields are kept, never a card number. The first saved method is the default;
when the default is removed, the oldest remaining one takes its place."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

import msgspec

from checkout_saga import errors
from checkout_saga.commands import Payer
from checkout_saga.decision import Decision, EventWriter
from checkout_saga.ids import NAMESPACE
from checkout_saga.ports import PaymentMethodSnapshot
from checkout_saga.state import State, advanced, make_fold
from events.base import Cause
from events.customer import (
    CustomerLinked,
    DefaultPaymentMethodChanged,
    PaymentMethodClaimed,
    PaymentMethodRemoved,
    PaymentMethodSaved,
)

#: ``payment_method`` on a checkout meaning "the customer's default saved card".
DEFAULT_METHOD = "default"

#: Stripe webhook types that change a customer's saved cards (CONTRACT §3.6 v2)
SAVED_CARD_EVENTS = frozenset({"payment_method.attached", "payment_method.detached",
                               "setup_intent.succeeded"})


def customer_stream(customer_id: str) -> UUID:
    return uuid5(NAMESPACE, f"customer:{customer_id}")


def payment_method_stream(payment_method_id: str) -> UUID:
    return uuid5(NAMESPACE, f"payment-method:{payment_method_id}")


def is_test_token(payment_method: str) -> bool:
    """Stripe's test tokens (``pm_card_visa``) are never a saved method's id."""
    return payment_method.startswith("pm_card_")


def stripe_customer_key(customer_id: str) -> str:
    """The Stripe idempotency key of the customer's creation: two first uses make one."""
    return f"customer:{customer_id}:create"


class SavedMethod(msgspec.Struct, frozen=True, kw_only=True):
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    saved_at: datetime


class CustomerState(State, frozen=True, kw_only=True):
    customer_id: str
    stripe_customer_id: str
    methods: tuple[SavedMethod, ...] = ()
    removed: tuple[str, ...] = ()
    default_payment_method: str | None = None

    def method(self, payment_method_id: str) -> SavedMethod | None:
        return next((m for m in self.methods if m.payment_method_id == payment_method_id), None)

    def owned(self, payment_method_id: str) -> SavedMethod:
        """The customer's own saved method; any other id (another customer's, a removed one,
        one never seen) is ``not_found`` and says nothing about whose it is."""
        found = self.method(payment_method_id)
        if found is None:
            raise errors.NotFoundError(f"no payment method {payment_method_id} for this customer",
                                       payment_method_id=payment_method_id)
        return found


# --- fold ------------------------------------------------------------------------------------


def _linked(_: CustomerState | None, e: CustomerLinked) -> CustomerState:
    return CustomerState(id=e.originator_id, version=e.originator_version, created_at=e.occurred_at,
                         updated_at=e.occurred_at, customer_id=e.customer_id,
                         stripe_customer_id=e.stripe_customer_id)


def _saved(s: CustomerState, e: PaymentMethodSaved) -> CustomerState:
    method = SavedMethod(payment_method_id=e.payment_method_id, brand=e.brand, last4=e.last4,
                         exp_month=e.exp_month, exp_year=e.exp_year, saved_at=e.occurred_at)
    return advanced(s, e, methods=(*s.methods, method),
                    removed=tuple(r for r in s.removed if r != e.payment_method_id))


def _default_changed(s: CustomerState, e: DefaultPaymentMethodChanged) -> CustomerState:
    return advanced(s, e, default_payment_method=e.payment_method_id)


def _removed(s: CustomerState, e: PaymentMethodRemoved) -> CustomerState:
    return advanced(s, e, methods=tuple(m for m in s.methods if m.payment_method_id != e.payment_method_id),
                    removed=(*s.removed, e.payment_method_id))


class MethodOwner(State, frozen=True, kw_only=True):
    payment_method_id: str
    customer_id: str


def _claimed(_: MethodOwner | None, e: PaymentMethodClaimed) -> MethodOwner:
    return MethodOwner(id=e.originator_id, version=e.originator_version, created_at=e.occurred_at,
                       updated_at=e.occurred_at, payment_method_id=e.payment_method_id,
                       customer_id=e.customer_id)


fold_method_owner = make_fold({PaymentMethodClaimed: _claimed})

fold_customer = make_fold({
    CustomerLinked: _linked,
    PaymentMethodSaved: _saved,
    DefaultPaymentMethodChanged: _default_changed,
    PaymentMethodRemoved: _removed,
})


# --- decisions -------------------------------------------------------------------------------


def decide_link(state: CustomerState | None, customer_id: str, stripe_customer_id: str, *,
                now: datetime, cause: Cause | None = None) -> Decision:
    """Record the link once; a second link (a concurrent first use) keeps the first."""
    w = EventWriter(now, cause)
    if state is None:
        w.emit(customer_stream(customer_id), 0, CustomerLinked, customer_id=customer_id,
               stripe_customer_id=stripe_customer_id)
    return w.decision()


def decide_save(state: CustomerState, card: PaymentMethodSnapshot, *, now: datetime,
                cause: Cause | None = None) -> Decision:
    w = EventWriter(now, cause)
    _save(w, state, card)
    return w.decision()


def decide_set_default(state: CustomerState, payment_method_id: str, *, now: datetime,
                       cause: Cause | None = None) -> Decision:
    state.owned(payment_method_id)
    w = EventWriter(now, cause)
    if state.default_payment_method != payment_method_id:
        w.emit(state.id, state.version, DefaultPaymentMethodChanged, payment_method_id=payment_method_id)
    return w.decision()


def decide_remove(state: CustomerState, payment_method_id: str, *, now: datetime,
                  cause: Cause | None = None) -> Decision:
    state.owned(payment_method_id)
    w = EventWriter(now, cause)
    _remove(w, state, payment_method_id)
    return w.decision()


def decide_sync(state: CustomerState, at_provider: list[PaymentMethodSnapshot], *, now: datetime,
                cause: Cause | None = None) -> Decision:
    """Make the saved list what the provider holds for the customer (webhooks only say that
    something changed; the provider's list is the truth, so order of delivery never matters)."""
    w = EventWriter(now, cause)
    held = {card.id for card in at_provider}
    for method in state.methods:
        if method.payment_method_id not in held:
            state = _remove(w, state, method.payment_method_id)
    for card in at_provider:
        if state.method(card.id) is None:
            state = _save(w, state, card)
    return w.decision()


def payer_for(state: CustomerState, payment_method: str | None, *, save: bool) -> Payer:
    """How a checkout of this customer pays: ``"default"`` and a saved method are charged
    off-session; a removed or unknown ``pm_`` of this customer is ``not_found``."""
    if payment_method == DEFAULT_METHOD:
        if state.default_payment_method is None:
            raise errors.NotFoundError("the customer has no default payment method")
        return Payer(stripe_customer_id=state.stripe_customer_id,
                     payment_method=state.default_payment_method, off_session=True)
    if payment_method is not None and state.method(payment_method) is not None:
        return Payer(stripe_customer_id=state.stripe_customer_id, payment_method=payment_method,
                     off_session=True)
    if payment_method is not None and payment_method in state.removed:
        state.owned(payment_method)  # raises not_found
    return Payer(stripe_customer_id=state.stripe_customer_id, payment_method=payment_method,
                 save_payment_method=save)


def _save(w: EventWriter, state: CustomerState, card: PaymentMethodSnapshot) -> CustomerState:
    if state.method(card.id) is not None:
        return state
    if card.id not in state.removed:  # its first saving: Stripe lets one customer keep it
        w.emit(payment_method_stream(card.id), 0, PaymentMethodClaimed, payment_method_id=card.id,
               customer_id=state.customer_id)
    event = w.emit(state.id, state.version, PaymentMethodSaved, payment_method_id=card.id,
                   brand=card.brand, last4=card.last4, exp_month=card.exp_month,
                   exp_year=card.exp_year)
    state = fold_customer(state, [event])
    if state.default_payment_method is None:
        event = w.emit(state.id, state.version, DefaultPaymentMethodChanged, payment_method_id=card.id)
        state = fold_customer(state, [event])
    return state


def _remove(w: EventWriter, state: CustomerState, payment_method_id: str) -> CustomerState:
    event = w.emit(state.id, state.version, PaymentMethodRemoved, payment_method_id=payment_method_id)
    state = fold_customer(state, [event])
    if state.default_payment_method == payment_method_id:
        successor = state.methods[0].payment_method_id if state.methods else None
        event = w.emit(state.id, state.version, DefaultPaymentMethodChanged, payment_method_id=successor)
        state = fold_customer(state, [event])
    return state
