"""Customers and saved cards (CONTRACT §3.9): the Stripe calls through the gateway port, the
decisions of the Customer aggregate (``checkout_saga/customer.py``) recorded through the
command runner.

Stripe is the truth for which cards a customer keeps: a write here calls Stripe first and
records what Stripe answered; a webhook (``payment_method.attached``/``detached``,
``setup_intent.succeeded``) only says "something changed" and the customer's list is read
back from Stripe (``sync``), so late, repeated or reordered events never undo anything."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

import structlog

from application.command_runner import CommandRunner
from checkout_saga import errors, ports
from checkout_saga.customer import (
    DEFAULT_METHOD,
    CustomerState,
    Payer,
    SavedMethod,
    customer_stream,
    decide_link,
    decide_remove,
    decide_save,
    decide_set_default,
    decide_sync,
    fold_customer,
    fold_method_owner,
    is_test_token,
    payer_for,
    payment_method_stream,
    stripe_customer_key,
)
from checkout_saga.decision import Decision
from events.base import Cause

T = TypeVar("T")
log = structlog.get_logger(__name__)

class CustomerService:
    def __init__(self, runner: CommandRunner, gateway: ports.PaymentGateway) -> None:
        self.runner = runner
        self.store = runner.store
        self.clock = runner.clock
        self.gateway = gateway

    # --- reads -------------------------------------------------------------------------------

    def get(self, customer_id: str) -> CustomerState | None:
        return self.store.get(customer_stream(customer_id), fold_customer)

    def saved_methods(self, customer_id: str) -> tuple[CustomerState | None, tuple[SavedMethod, ...]]:
        state = self.get(customer_id)
        return state, (state.methods if state else ())

    # --- commands ----------------------------------------------------------------------------

    def ensure_linked(self, customer_id: str, cause: Cause | None = None) -> CustomerState:
        """The customer, with its one Stripe Customer (created on first need; two first uses
        at once send the same idempotency key, so Stripe makes one)."""
        state = self.get(customer_id)
        if state is not None:
            return state
        stripe_id = _provider(lambda: self.gateway.ensure_customer(
            customer_id=customer_id, idempotency_key=stripe_customer_key(customer_id)))
        self._decide("link_customer", customer_id, lambda s: decide_link(
            s, customer_id, stripe_id, now=self.clock.now(), cause=cause))
        linked = self.get(customer_id)
        log.info("customer_linked", customer_id=customer_id, stripe_customer_id=linked.stripe_customer_id)
        return linked

    def create_setup_intent(self, customer_id: str, payment_method: str | None, *,
                            request_key: str | None = None,
                            cause: Cause | None = None) -> ports.SetupIntentSnapshot:
        state = self.ensure_linked(customer_id, cause)
        key = f"{customer_id}:setup_intent:{request_key or uuid.uuid4().hex}"
        setup = _provider(lambda: self.gateway.create_setup_intent(
            stripe_customer_id=state.stripe_customer_id, idempotency_key=key,
            payment_method=payment_method), missing="payment method")
        if setup.status == "succeeded":
            self.sync(customer_id, cause)
        return setup

    def save_method(self, customer_id: str, payment_method: str, *, request_key: str | None = None,
                    cause: Cause | None = None) -> SavedMethod:
        state = self.ensure_linked(customer_id, cause)
        if payment_method in state.removed:
            state.owned(payment_method)  # a removed method is spent: not_found
        key = f"{customer_id}:attach:{payment_method}:{request_key or uuid.uuid4().hex}"
        card = _provider(lambda: self.gateway.attach_payment_method(
            payment_method, stripe_customer_id=state.stripe_customer_id, idempotency_key=key),
            missing="payment method")
        after = self._decide("save_payment_method", customer_id, lambda s: decide_save(
            s, card, now=self.clock.now(), cause=cause))
        self._push_default(after, state)
        return after.owned(card.id)

    def set_default(self, customer_id: str, payment_method_id: str,
                    cause: Cause | None = None) -> SavedMethod:
        state = self._existing(customer_id, payment_method_id)
        state.owned(payment_method_id)
        after = self._decide("set_default_payment_method", customer_id, lambda s: decide_set_default(
            s, payment_method_id, now=self.clock.now(), cause=cause))
        self._push_default(after, state)
        return after.owned(payment_method_id)

    def remove(self, customer_id: str, payment_method_id: str, cause: Cause | None = None) -> None:
        state = self._existing(customer_id, payment_method_id)
        state.owned(payment_method_id)
        _provider(lambda: self.gateway.detach_payment_method(
            payment_method_id, idempotency_key=f"{customer_id}:detach:{payment_method_id}"))
        after = self._decide("remove_payment_method", customer_id, lambda s: decide_remove(
            s, payment_method_id, now=self.clock.now(), cause=cause) if s.method(payment_method_id)
            else Decision())
        self._push_default(after, state)

    def sync(self, customer_id: str, cause: Cause | None = None) -> CustomerState | None:
        """Make the saved list what Stripe holds for the customer."""
        state = self.get(customer_id)
        if state is None:
            return None
        cards = _provider(lambda: self.gateway.list_payment_methods(state.stripe_customer_id))
        after = self._decide("sync_payment_methods", customer_id, lambda s: decide_sync(
            s, cards, now=self.clock.now(), cause=cause))
        self._push_default(after, state)
        return after

    # --- checkouts and webhooks ----------------------------------------------------------------

    def payer_for_checkout(self, customer_id: str | None, payment_method: str | None, *,
                           save: bool, cause: Cause | None = None) -> Payer | None:
        """How a checkout pays when it involves the customer's saved cards: saving the card
        (``save_payment_method``), ``"default"``, or a method this customer saved (or removed);
        None for a plain card payment (no Stripe Customer attached to the intent)."""
        self._refuse_anothers_method(customer_id, payment_method)
        if customer_id is None:
            if save or payment_method == DEFAULT_METHOD:
                field = "save_payment_method" if save else "payment_method"
                raise errors.ValidationError([(field, "needs customer.id")])
            return None
        if save or payment_method == DEFAULT_METHOD:
            state = self.ensure_linked(customer_id, cause)
        else:
            state = self.get(customer_id)
            known = state is not None and payment_method is not None and (
                state.method(payment_method) is not None or payment_method in state.removed)
            if not known:
                return None
        return payer_for(state, payment_method, save=save)

    def apply_notice(self, notice: ports.PaymentEventNotice, cause: Cause | None = None) -> str:
        """A saved-card webhook: find whose Stripe Customer it is and read the list back."""
        if notice.stripe_customer_id is None:
            return "unmatched: no customer on the payment method"
        customer_id = _provider(lambda: self.gateway.customer_ref(notice.stripe_customer_id))
        if customer_id is None or self.get(customer_id) is None:
            return "unmatched: a Stripe customer this service does not know"
        self.sync(customer_id, cause)
        return "applied"

    # --- plumbing ------------------------------------------------------------------------------

    def _refuse_anothers_method(self, customer_id: str | None, payment_method: str | None) -> None:
        """A method saved by another customer is ``not_found`` for this checkout, as if it did
        not exist (Stripe's own refusal would say it belongs to someone)."""
        if payment_method is None or payment_method == DEFAULT_METHOD or is_test_token(payment_method):
            return
        owner = self.store.get(payment_method_stream(payment_method), fold_method_owner)
        if owner is not None and owner.customer_id != customer_id:
            raise errors.NotFoundError(f"no payment method {payment_method} for this customer",
                                       payment_method_id=payment_method)

    def _existing(self, customer_id: str, payment_method_id: str) -> CustomerState:
        state = self.get(customer_id)
        if state is None:
            raise errors.NotFoundError(f"no payment method {payment_method_id} for this customer",
                                       payment_method_id=payment_method_id)
        return state

    def _decide(self, operation: str, customer_id: str,
                decide: Callable[[CustomerState | None], Decision]) -> CustomerState:
        self.runner.decide_and_append(operation, lambda: self.get(customer_id), decide)
        return self.get(customer_id)

    def _push_default(self, after: CustomerState, before: CustomerState) -> None:
        """Tell Stripe the customer's default when it changed here (its invoice settings),
        keyed by the stream version that changed it, so a retry never repeats an older one."""
        if after.default_payment_method == before.default_payment_method:
            return
        key = f"{after.customer_id}:default:{after.version}"
        try:
            self.gateway.set_default_payment_method(
                after.stripe_customer_id, after.default_payment_method, idempotency_key=key)
        except ports.PaymentGatewayError as exc:  # ours is the default that counts; logged
            log.warning("stripe_default_not_updated", customer_id=after.customer_id,
                        error=type(exc).__name__)


def _provider(call: Callable[[], T], *, missing: str | None = None) -> T:
    """A gateway call, its errors as domain errors: a refused method is ``not_found`` (never
    saying whose it is), a declined card ``card_declined``, an unreachable provider 503."""
    try:
        return call()
    except ports.CardDeclinedError as exc:
        raise errors.CardDeclinedDomainError(str(exc), decline_code=exc.decline_code) from exc
    except ports.PaymentRequestRejectedError as exc:
        if missing is None:
            raise
        raise errors.NotFoundError(f"no such {missing}") from exc
    except (ports.PaymentOutcomeUnknownError, ports.PaymentProviderUnavailableError) as exc:
        raise errors.PaymentProviderUnavailableDomainError(
            "the payment provider is unavailable; try again shortly") from exc
