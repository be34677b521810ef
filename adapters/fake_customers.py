"""Customers and saved cards for the in-memory fake gateway, with Stripe's rules as the
emulator has them: a test token attached (or saved by a SetupIntent or a payment with
``setup_future_usage``) becomes a new ``pm_`` method; a detached method is spent; a method
saved by one customer cannot be attached to, or charged for, another."""

from __future__ import annotations

from dataclasses import dataclass, field

from checkout_saga import ports

#: token -> (brand, last4, exp_month, exp_year), as the emulator's test cards
CARDS = {
    "pm_card_visa": ("visa", "4242", 12, 2034),
    "pm_card_mastercard": ("mastercard", "4444", 6, 2034),
    "pm_card_chargeDeclined": ("visa", "0002", 12, 2034),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", 12, 2034),
    "pm_card_authenticationRequired": ("visa", "3184", 12, 2034),
    "pm_card_refundFail": ("visa", "5556", 12, 2034),
}
SETUP_DECLINES = {"pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"}


@dataclass
class _Method:
    id: str
    token: str
    customer: str | None = None

    def snapshot(self) -> ports.PaymentMethodSnapshot:
        brand, last4, month, year = CARDS[self.token]
        return ports.PaymentMethodSnapshot(id=self.id, brand=brand, last4=last4, exp_month=month,
                                           exp_year=year, stripe_customer_id=self.customer)


@dataclass
class _Customer:
    id: str
    ref: str
    default: str | None = None


@dataclass
class FakeCustomers:
    """Mixed into ``FakePaymentGateway`` (its ``_idempotent``, ``_before``, ``_lock``, ``_ids``)."""

    customers: dict[str, _Customer] = field(default_factory=dict)
    methods: dict[str, _Method] = field(default_factory=dict)
    spent_methods: set[str] = field(default_factory=set)

    # --- the port ---------------------------------------------------------------------------

    def ensure_customer(self, *, customer_id, idempotency_key):
        return self._idempotent("create_customer", idempotency_key, ("customer", customer_id),
                                lambda: self._new_customer(customer_id))

    def customer_ref(self, stripe_customer_id):
        with self._lock:
            self._before("retrieve_customer")
            return self._customer(stripe_customer_id).ref

    def create_setup_intent(self, *, stripe_customer_id, idempotency_key, payment_method=None):
        params = ("setup_intent", stripe_customer_id, payment_method)
        return self._idempotent("create_setup_intent", idempotency_key, params,
                                lambda: self._setup(stripe_customer_id, payment_method))

    def attach_payment_method(self, payment_method, *, stripe_customer_id, idempotency_key):
        params = ("attach", payment_method, stripe_customer_id)
        return self._idempotent("attach", idempotency_key, params,
                                lambda: self._attach(payment_method, stripe_customer_id).snapshot())

    def detach_payment_method(self, payment_method_id, *, idempotency_key):
        return self._idempotent("detach", idempotency_key, ("detach", payment_method_id),
                                lambda: self._detach(payment_method_id))

    def list_payment_methods(self, stripe_customer_id):
        with self._lock:
            self._before("list_payment_methods")
            self._customer(stripe_customer_id)
            return [m.snapshot() for m in self.methods.values() if m.customer == stripe_customer_id]

    def set_default_payment_method(self, stripe_customer_id, payment_method_id, *, idempotency_key):
        params = ("default", stripe_customer_id, payment_method_id)
        return self._idempotent("update_customer", idempotency_key, params,
                                lambda: self._set_default(stripe_customer_id, payment_method_id))

    # --- used by payments -------------------------------------------------------------------

    def charged_token(self, payment_method: str, customer: str | None) -> str:
        """The test card a payment uses: the token itself, or the one a saved method holds.
        Raises as Stripe does for an unknown, spent or another customer's method."""
        if payment_method in CARDS:
            return payment_method
        method = self.methods.get(payment_method)
        if method is None:
            raise ports.PaymentRequestRejectedError(f"No such PaymentMethod: '{payment_method}'",
                                                    code="resource_missing", http_status=400)
        if method.id in self.spent_methods:
            raise ports.PaymentRequestRejectedError("The PaymentMethod may not be used again.",
                                                    code="payment_method_unexpected_state", http_status=400)
        if method.customer is not None and method.customer != customer:
            raise ports.PaymentRequestRejectedError(
                "The customer does not have a payment method with that ID.", code="resource_missing",
                http_status=400)
        return method.token

    def save_paid_card(self, payment_method: str, customer: str) -> None:
        """``setup_future_usage`` with a customer: the card paid with is kept for them."""
        method = self.methods.get(payment_method)
        if method is not None and method.customer == customer:
            return
        self._attach(payment_method, customer)

    # --- machinery --------------------------------------------------------------------------

    def _new_customer(self, customer_id: str) -> str:
        customer = _Customer(id=f"cus_fake{next(self._ids):06d}", ref=customer_id)
        self.customers[customer.id] = customer
        return customer.id

    def _customer(self, stripe_customer_id: str) -> _Customer:
        try:
            return self.customers[stripe_customer_id]
        except KeyError:
            raise ports.PaymentRequestRejectedError(f"No such customer: '{stripe_customer_id}'",
                                                    code="resource_missing", http_status=404) from None

    def _attach(self, payment_method: str, stripe_customer_id: str) -> _Method:
        self._customer(stripe_customer_id)
        if payment_method in CARDS:
            method = _Method(id=f"pm_fake{next(self._ids):06d}", token=payment_method)
            self.methods[method.id] = method
        else:
            method = self.methods.get(payment_method)
            if method is None:
                raise ports.PaymentRequestRejectedError(f"No such PaymentMethod: '{payment_method}'",
                                                        code="resource_missing", http_status=404)
        if method.id in self.spent_methods:
            raise ports.PaymentRequestRejectedError("The PaymentMethod may not be used again.",
                                                    code="payment_method_unexpected_state", http_status=400)
        if method.customer not in (None, stripe_customer_id):
            raise ports.PaymentRequestRejectedError(
                "The payment method you provided has already been attached to a customer.",
                http_status=400)
        method.customer = stripe_customer_id
        return method

    def _detach(self, payment_method_id: str) -> None:
        method = self.methods.get(payment_method_id)
        if method is None:
            raise ports.PaymentRequestRejectedError(f"No such PaymentMethod: '{payment_method_id}'",
                                                    code="resource_missing", http_status=404)
        if method.customer is not None:
            customer = self.customers[method.customer]
            if customer.default == method.id:
                customer.default = None
        method.customer = None
        self.spent_methods.add(method.id)

    def _setup(self, stripe_customer_id: str, payment_method: str | None) -> ports.SetupIntentSnapshot:
        self._customer(stripe_customer_id)
        setup_id = f"seti_fake{next(self._ids):06d}"
        secret = f"{setup_id}_secret_fake"
        if payment_method is None:
            return ports.SetupIntentSnapshot(id=setup_id, status="requires_payment_method",
                                             client_secret=secret)
        token = self.charged_token(payment_method, stripe_customer_id)
        if token in SETUP_DECLINES:
            return ports.SetupIntentSnapshot(id=setup_id, status="requires_payment_method",
                                             client_secret=secret)
        if token == "pm_card_authenticationRequired":
            return ports.SetupIntentSnapshot(id=setup_id, status="requires_action",
                                             client_secret=secret, payment_method=payment_method)
        method = self._attach(payment_method, stripe_customer_id)
        return ports.SetupIntentSnapshot(id=setup_id, status="succeeded", client_secret=secret,
                                         payment_method=method.id)

    def _set_default(self, stripe_customer_id: str, payment_method_id: str | None) -> None:
        customer = self._customer(stripe_customer_id)
        if payment_method_id is not None:
            method = self.methods.get(payment_method_id)
            if method is None or method.customer != stripe_customer_id:
                raise ports.PaymentRequestRejectedError(
                    "The customer does not have a payment method with that ID.",
                    code="resource_missing", http_status=400)
        customer.default = payment_method_id
