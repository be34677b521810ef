"""Customers and saved cards on the Stripe SDK: the gateway's §3.9 calls, mixed into
``StripePaymentGateway`` (they share its client, circuit breaker and error translation).

Every write carries an idempotency key; only ids and a card's display fields (brand, last4,
expiry) are read back — Stripe never gives the card number, and nothing here asks for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import stripe
import structlog

from adapters.stripe_keys import stripe_idempotency_key
from adapters.stripe_webhooks import as_dict
from checkout_saga.ports import PaymentMethodSnapshot, SetupIntentSnapshot

T = TypeVar("T")
log = structlog.get_logger(__name__)
_PAGE = 100


def payment_method_snapshot(method: Any) -> PaymentMethodSnapshot:
    method = as_dict(method)
    card = method.get("card") or {}
    customer = method.get("customer")
    return PaymentMethodSnapshot(
        id=method["id"], brand=str(card.get("brand") or "unknown"), last4=str(card.get("last4") or ""),
        exp_month=int(card.get("exp_month") or 0), exp_year=int(card.get("exp_year") or 0),
        stripe_customer_id=customer if isinstance(customer, str) or customer is None else customer["id"])


def setup_intent_snapshot(setup: Any) -> SetupIntentSnapshot:
    setup = as_dict(setup)
    method = setup.get("payment_method")
    return SetupIntentSnapshot(
        id=setup["id"], status=setup["status"], client_secret=setup.get("client_secret"),
        payment_method=method if isinstance(method, str) or method is None else method["id"])


def _key(idempotency_key: str) -> dict[str, str]:
    return {"idempotency_key": stripe_idempotency_key(idempotency_key)}


class StripeCustomerCalls:
    """Needs ``self._client`` (a ``stripe.StripeClient``) and ``self._call(operation, fn,
    **context)`` (breaker + error translation) from the class it is mixed into."""

    _client: stripe.StripeClient
    _call: Callable[..., Any]

    def ensure_customer(self, *, customer_id: str, idempotency_key: str) -> str:
        # Only the customer id goes to Stripe, so the same key always carries the same
        # parameters (an e-mail that changed would make Stripe refuse the replay).
        params = {"metadata": {"customer_id": customer_id}}
        return self._call(
            "ensure_customer",
            lambda: self._client.v1.customers.create(
                params=params, options=_key(idempotency_key)).id,
            customer_id=customer_id, idempotency_key=idempotency_key)

    def customer_ref(self, stripe_customer_id: str) -> str | None:
        def read() -> str | None:
            customer = as_dict(self._client.v1.customers.retrieve(stripe_customer_id))
            return (customer.get("metadata") or {}).get("customer_id")

        return self._call("retrieve_customer", read, stripe_customer_id=stripe_customer_id)

    def create_setup_intent(self, *, stripe_customer_id: str, idempotency_key: str,
                            payment_method: str | None = None) -> SetupIntentSnapshot:
        params: dict[str, Any] = {"customer": stripe_customer_id, "usage": "off_session",
                                  "payment_method_types": ["card"]}
        if payment_method:
            params |= {"payment_method": payment_method, "confirm": True}
        return self._call(
            "create_setup_intent",
            lambda: setup_intent_snapshot(self._client.v1.setup_intents.create(
                params=params, options=_key(idempotency_key))),
            stripe_customer_id=stripe_customer_id, idempotency_key=idempotency_key)

    def attach_payment_method(self, payment_method: str, *, stripe_customer_id: str,
                              idempotency_key: str) -> PaymentMethodSnapshot:
        return self._call(
            "attach_payment_method",
            lambda: payment_method_snapshot(self._client.v1.payment_methods.attach(
                payment_method, params={"customer": stripe_customer_id},
                options=_key(idempotency_key))),
            stripe_customer_id=stripe_customer_id, idempotency_key=idempotency_key)

    def detach_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        methods = self._client.v1.payment_methods

        def detach() -> None:
            try:
                methods.detach(payment_method_id, options=_key(idempotency_key))
            except stripe.InvalidRequestError:
                # "not attached to a customer": a retry after a lost reply, or detached at
                # Stripe already. Anything else (e.g. no such method) is raised.
                if as_dict(methods.retrieve(payment_method_id)).get("customer") is not None:
                    raise
                log.info("stripe_method_already_detached", payment_method_id=payment_method_id)

        self._call("detach_payment_method", detach, payment_method_id=payment_method_id)

    def list_payment_methods(self, stripe_customer_id: str) -> list[PaymentMethodSnapshot]:
        def read_all() -> list[PaymentMethodSnapshot]:
            first = self._client.v1.customers.payment_methods.list(
                stripe_customer_id, params={"type": "card", "limit": _PAGE})
            return [payment_method_snapshot(m) for m in first.auto_paging_iter()]

        return self._call("list_payment_methods", read_all, stripe_customer_id=stripe_customer_id)

    def set_default_payment_method(self, stripe_customer_id: str, payment_method_id: str | None, *,
                                   idempotency_key: str) -> None:
        params = {"invoice_settings": {"default_payment_method": payment_method_id or ""}}
        self._call(
            "set_default_payment_method",
            lambda: self._client.v1.customers.update(
                stripe_customer_id, params=params, options=_key(idempotency_key)),
            stripe_customer_id=stripe_customer_id)
