"""Hypothesis stateful test: interleave starts, confirms, cancels, expiries, webhooks
(duplicated and out of order), refunds, crashes and provider faults, and check every
CONTRACT §5 invariant after each step."""

from __future__ import annotations

import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from checkout_saga import errors
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.invariants import check_invariants
from tests.conftest import system_for

METHODS = st.sampled_from([None, "pm_card_visa", "pm_card_chargeDeclined",
                           "pm_card_authenticationRequired"])
FAULTS = st.sampled_from(["error_500", "timeout", "drop_response", "rate_limit"])
OPERATIONS = st.sampled_from(["create", "confirm", "capture", "cancel", "retrieve", "refund"])
EXPECTED = (errors.DomainError,)


class CheckoutSagaMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.store = EventsourcingStore(parse_database_url(f"sqlite:///{self.tmp.name}/p.db"))
        self.gateway = FakePaymentGateway()
        self.clock = FakeClock()
        self.service = self._new_process()
        self.service.catalog.set_seller("acct_1", charges_enabled=True)
        for sku, price, units in (("A", 1000, 3), ("B", 250, 2)):
            self.service.catalog.upsert_product(sku=sku, name=sku, unit_amount=price, currency="usd",
                                        seller_id="acct_1", active=True)
            self.service.catalog.adjust_stock(sku, units, "initial")
        self.checkouts: list[str] = []
        self.snapshots: list = []
        self.sessions = 0

    def _new_process(self):
        return system_for(self.store, self.gateway, self.clock)

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()

    # --- rules ---------------------------------------------------------------------------

    @rule(a=st.integers(0, 3), b=st.integers(0, 2), method=METHODS, reuse=st.booleans())
    def start(self, a, b, method, reuse):
        items = tuple(CartLine(sku=s, quantity=q) for s, q in (("A", a), ("B", b)) if q)
        if not items:
            items = (CartLine(sku="A", quantity=1),)
        if not reuse or not self.sessions:
            self.sessions += 1
        session = f"cs_property_{self.sessions:04d}"
        try:
            result = self.service.checkouts.start_checkout(StartCheckout(
                checkout_session_id=session, currency="usd", items=items, payment_method=method))
            self._remember(result.checkout.checkout_id)
        except EXPECTED as exc:
            if "checkout_id" in exc.details:
                self._remember(exc.details["checkout_id"])

    @precondition(lambda self: self.checkouts)
    @rule(data=st.data(), method=METHODS)
    def confirm(self, data, method):
        self._safely(lambda c: self.service.checkouts.confirm_payment(c, method), data)

    @precondition(lambda self: self.checkouts)
    @rule(data=st.data())
    def cancel(self, data):
        self._safely(lambda c: self.service.checkouts.cancel(c), data)

    @precondition(lambda self: self.checkouts)
    @rule(data=st.data(), succeed=st.booleans())
    def customer_finishes_3ds(self, data, succeed):
        checkout = self.service.checkouts.get(data.draw(st.sampled_from(self.checkouts)))
        if checkout.payment_intent_id:
            self.snapshots.append(self.gateway.authenticate(checkout.payment_intent_id, succeed=succeed))

    @precondition(lambda self: self.snapshots)
    @rule(data=st.data())
    def webhook_delivered(self, data):
        """Any earlier snapshot: duplicates and out-of-order deliveries included."""
        snap = data.draw(st.sampled_from(self.snapshots))
        self._ignore_expected(lambda: self.service.checkouts.apply_payment_snapshot(snap))

    @rule(operation=OPERATIONS, fault=FAULTS)
    def provider_fault(self, operation, fault):
        self.gateway.inject(operation, fault)

    @rule(seconds=st.sampled_from([30, 200, 1000]))
    def time_passes_and_the_worker_runs(self, seconds):
        self.clock.advance(seconds=seconds)
        for checkout_id in self.checkouts:
            self._ignore_expected(lambda c=checkout_id: self.service.checkouts.resume(c))

    @precondition(lambda self: self.checkouts)
    @rule()
    def process_crashes_and_restarts(self):
        """A new process on the same database resumes every checkout with its recorded keys."""
        self.service = self._new_process()
        for checkout_id in self.checkouts:
            self._ignore_expected(lambda c=checkout_id: self.service.checkouts.resume(c))

    @precondition(lambda self: self.checkouts)
    @rule(data=st.data(), amount=st.one_of(st.none(), st.integers(1, 3000)), key=st.integers(0, 3))
    def refund(self, data, amount, key):
        checkout = self.service.checkouts.get(data.draw(st.sampled_from(self.checkouts)))
        if checkout.order_id:
            self._ignore_expected(lambda: self.service.orders.refund(RefundOrder(
                order_id=checkout.order_id, idempotency_key=f"k{key}", amount=amount)))

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def contract_invariants_hold(self):
        provider = {}
        for intent in self.gateway.intents.values():
            provider.setdefault(intent.checkout_id, []).append(intent.snapshot())
        violations = check_invariants(self.store.all_events(), provider)
        assert violations == [], violations

    @invariant()
    def at_most_one_capture_per_checkout(self):
        captured = [i.checkout_id for i in self.gateway.intents.values() if i.status == "succeeded"]
        assert len(captured) == len(set(captured))

    # --- helpers -------------------------------------------------------------------------

    def _remember(self, checkout_id: str) -> None:
        if checkout_id not in self.checkouts:
            self.checkouts.append(checkout_id)
        checkout = self.service.checkouts.get(checkout_id)
        if checkout.payment_intent_id and checkout.payment_intent_id in self.gateway.intents:
            self.snapshots.append(self.gateway.intents[checkout.payment_intent_id].snapshot())

    def _safely(self, command, data):
        checkout_id = data.draw(st.sampled_from(self.checkouts))
        self._ignore_expected(lambda: command(checkout_id))
        self._remember(checkout_id)

    @staticmethod
    def _ignore_expected(call):
        try:
            call()
        except EXPECTED:
            pass


CheckoutSagaMachine.TestCase.settings = settings(
    CheckoutSagaMachine.TestCase.settings, stateful_step_count=30)
TestCheckoutSaga = CheckoutSagaMachine.TestCase
