"""An in-memory, deterministic PaymentGateway with Stripe's status machine, idempotency
keys and injectable faults, for unit and property tests. It follows the same contract as
the Stripe adapter (see tests/integration/test_payment_gateway_contract.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import count

import msgspec

from adapters.fake_customers import FakeCustomers
from checkout_saga import ports

DECLINES = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
KNOWN_METHODS = {"pm_card_visa", "pm_card_mastercard", "pm_card_authenticationRequired",
                 "pm_card_refundFail", *DECLINES}
CANCELLABLE = {"requires_payment_method", "requires_confirmation", "requires_action",
               "requires_capture", "processing"}

# error_500: refused before any effect; timeout / drop_response: the effect happens and the
# reply is lost; rate_limit: refused, no effect.
FAULTS = ("error_500", "timeout", "drop_response", "rate_limit")


@dataclass
class _Intent:
    id: str
    amount: int
    currency: str
    checkout_id: str
    status: str = "requires_payment_method"
    payment_method: str | None = None
    amount_capturable: int = 0
    amount_received: int = 0
    last_error: tuple[str, str | None, str] | None = None
    charge_id: str | None = None
    refunded: int = 0
    created: int = 0
    customer: str | None = None
    setup_future_usage: str | None = None

    def snapshot(self) -> ports.PaymentIntentSnapshot:
        code, decline, message = self.last_error or (None, None, None)
        return ports.PaymentIntentSnapshot(
            id=self.id, status=self.status, amount=self.amount, currency=self.currency,
            amount_capturable=self.amount_capturable, amount_received=self.amount_received,
            client_secret=f"{self.id}_secret_fake",
            next_action_url=(f"https://fake.stripe.test/3ds/{self.id}"
                             if self.status == "requires_action" else None),
            last_error_code=code, last_decline_code=decline, last_error_message=message,
            latest_charge=self.charge_id, checkout_id=self.checkout_id, created=self.created)


@dataclass
class FakePaymentGateway(FakeCustomers):
    intents: dict[str, _Intent] = field(default_factory=dict)
    refunds: dict[str, ports.RefundSnapshot] = field(default_factory=dict)
    disputes: dict[str, ports.DisputeSnapshot] = field(default_factory=dict)
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    captures: int = 0
    available: bool = True
    #: test control: the amount_received a capture reports (None: the amount captured)
    capture_reports_received: int | None = None
    now: Callable[[], float] = time.time  # unix seconds, for `created` and listings
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _idempotency: dict[str, tuple[object, object]] = field(default_factory=dict)
    _ids: count = field(default_factory=lambda: count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- test controls ------------------------------------------------------------------

    def inject(self, operation: str, fault: str, times: int = 1) -> None:
        assert fault in FAULTS, fault
        with self._lock:
            self._faults.setdefault(operation, []).extend([fault] * times)

    def authenticate(self, intent_id: str, *, succeed: bool = True) -> ports.PaymentIntentSnapshot:
        """The customer finishing (or failing) 3-D Secure."""
        with self._lock:
            intent = self.intents[intent_id]
            if intent.status == "requires_action":
                if succeed:
                    intent.status, intent.amount_capturable = "requires_capture", intent.amount
                    intent.charge_id = f"ch_{intent.id[3:]}"
                else:
                    intent.status = "requires_payment_method"
                    intent.last_error = ("payment_intent_authentication_failure", None,
                                         "3-D Secure authentication failed")
            return intent.snapshot()

    def dispute(self, intent_id: str, *, reason: str = "fraudulent",
                status: str = "needs_response", dispute_id: str | None = None,
                amount: int | None = None) -> ports.DisputeSnapshot:
        """The cardholder's bank opening (or, called again with a status, moving) a dispute;
        of the whole captured amount unless ``amount`` says otherwise."""
        with self._lock:
            intent = self.intents[intent_id]
            known = next((d for d in self.disputes.values() if d.payment_intent_id == intent_id), None)
            dispute = ports.DisputeSnapshot(
                id=known.id if known else dispute_id or f"dp_fake{next(self._ids):06d}",
                payment_intent_id=intent_id,
                amount=amount if amount is not None else intent.amount_received, reason=reason,
                status=status)
            self.disputes[dispute.id] = dispute
            return dispute

    def is_available(self) -> bool:
        return self.available

    def retry_after_seconds(self) -> float:
        return 0.0 if self.available else 30.0

    def create_payment_intent(self, *, amount, currency, checkout_id, order_id, idempotency_key,
                              payment_method=None, return_url=None, customer=None,
                              off_session=False, setup_future_usage=None):
        params = ("create", amount, currency, checkout_id, order_id, payment_method, customer,
                  off_session, setup_future_usage)
        return self._idempotent("create", idempotency_key, params, lambda: self._create(
            amount, currency, checkout_id, payment_method, customer=customer,
            off_session=off_session, setup_future_usage=setup_future_usage))

    def confirm_payment_intent(self, payment_intent_id, *, idempotency_key, payment_method=None,
                               return_url=None):
        params = ("confirm", payment_intent_id, payment_method)
        return self._idempotent("confirm", idempotency_key, params, lambda: self._confirm(
            self._intent(payment_intent_id), payment_method))

    def retrieve_payment_intent(self, payment_intent_id):
        with self._lock:
            self._before("retrieve")
            return self._intent(payment_intent_id).snapshot()

    def find_payment_intents(self, checkout_id):
        with self._lock:
            self._before("search")
            return [i.snapshot() for i in self.intents.values() if i.checkout_id == checkout_id]

    def capture_payment_intent(self, payment_intent_id, *, idempotency_key, amount=None):
        params = ("capture", payment_intent_id, amount)
        return self._idempotent("capture", idempotency_key, params, lambda: self._capture(
            self._intent(payment_intent_id), amount))

    def cancel_payment_intent(self, payment_intent_id, *, idempotency_key):
        params = ("cancel", payment_intent_id)
        return self._idempotent("cancel", idempotency_key, params, lambda: self._cancel(
            self._intent(payment_intent_id)))

    def create_refund(self, *, payment_intent_id, amount, refund_key, idempotency_key, reason=None):
        params = ("refund", payment_intent_id, amount, refund_key, reason)
        return self._idempotent("refund", idempotency_key, params, lambda: self._refund(
            self._intent(payment_intent_id), amount, refund_key))

    def retrieve_refund(self, refund_id):
        with self._lock:
            self._before("retrieve_refund")
            try:
                return self.refunds[refund_id]
            except KeyError:
                raise ports.PaymentRequestRejectedError(
                    f"No such refund: '{refund_id}'", code="resource_missing",
                    http_status=404) from None

    def retrieve_dispute(self, dispute_id):
        with self._lock:
            self._before("retrieve_dispute")
            try:
                return self.disputes[dispute_id]
            except KeyError:
                raise ports.PaymentRequestRejectedError(
                    f"No such dispute: '{dispute_id}'", code="resource_missing",
                    http_status=404) from None

    def list_payment_intents(self, *, created_gte: int) -> Iterable[ports.PaymentIntentSnapshot]:
        with self._lock:
            return [i.snapshot() for i in self.intents.values() if i.created >= created_gte]

    def list_refunds(self, *, created_gte: int,
                     payment_intent_id: str | None = None) -> Iterable[ports.RefundSnapshot]:
        with self._lock:
            return [r for r in self.refunds.values() if r.created >= created_gte
                    and payment_intent_id in (None, r.payment_intent_id)]

    def list_events(self, *, created_gte: int) -> Iterable[ports.PaymentEventNotice]:
        return []

    # --- machinery ----------------------------------------------------------------------

    def _before(self, operation: str) -> str | None:
        self.calls.append((operation, None))
        if not self.available:
            raise ports.PaymentOutcomeUnknownError("provider unreachable")
        queue = self._faults.get(operation)
        fault = queue.pop(0) if queue else None
        if fault == "error_500":
            raise ports.PaymentOutcomeUnknownError("500 from provider (injected)")
        if fault == "rate_limit":
            raise ports.PaymentRateLimitedError("429 from provider (injected)")
        return fault

    def _idempotent(self, operation: str, key: str, params: tuple, run):
        with self._lock:
            fault = self._before(operation)
            if key in self._idempotency:
                stored_params, outcome = self._idempotency[key]
                if stored_params != params:
                    raise ports.PaymentRequestRejectedError(
                        "Keys for idempotent requests can only be used with the same parameters",
                        code="idempotency_error", http_status=400)
            else:
                try:
                    outcome = run()
                except ports.PaymentGatewayError as exc:
                    outcome = exc
                self._idempotency[key] = (params, outcome)
            if fault in ("timeout", "drop_response"):
                raise ports.PaymentOutcomeUnknownError(f"reply lost ({fault}, injected)")
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

    def _intent(self, intent_id: str) -> _Intent:
        try:
            return self.intents[intent_id]
        except KeyError:
            raise ports.PaymentRequestRejectedError(
                f"No such payment_intent: '{intent_id}'", code="resource_missing",
                http_status=404) from None

    def _create(self, amount, currency, checkout_id, payment_method, *, customer=None,
                off_session=False, setup_future_usage=None):
        if (payment_method is not None
                and self.charged_token(payment_method, customer) not in KNOWN_METHODS):
            # as at Stripe: a create-and-confirm naming an unknown method creates nothing
            raise ports.PaymentRequestRejectedError(f"No such PaymentMethod: '{payment_method}'",
                                                    code="resource_missing", http_status=400)
        n = next(self._ids)
        intent = _Intent(id=f"pi_fake{n:06d}", amount=amount, currency=currency,
                         checkout_id=checkout_id, created=int(self.now()), customer=customer,
                         setup_future_usage=setup_future_usage)
        self.intents[intent.id] = intent
        if payment_method is None:
            return intent.snapshot()
        return self._confirm(intent, payment_method, off_session=off_session)

    def _confirm(self, intent: _Intent, payment_method, *, off_session=False):
        if intent.status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise self._unexpected(intent, "confirm")
        method = payment_method or intent.payment_method
        if method is None:
            raise ports.PaymentRequestRejectedError("no payment method", code="parameter_missing",
                                                    http_status=400)
        token = self.charged_token(method, intent.customer)
        if token not in KNOWN_METHODS:
            raise ports.PaymentRequestRejectedError(f"No such PaymentMethod: '{method}'",
                                                    code="resource_missing", http_status=400)
        intent.payment_method = method
        if off_session and token == "pm_card_authenticationRequired":
            intent.status = "requires_payment_method"
            intent.last_error = ("authentication_required", "authentication_required",
                                 "This transaction requires authentication.")
            raise ports.CardDeclinedError("This transaction requires authentication.",
                                          code="authentication_required",
                                          decline_code="authentication_required",
                                          payment_intent=intent.snapshot())
        method = token
        if method in DECLINES:
            intent.status = "requires_payment_method"
            intent.last_error = ("card_declined", DECLINES[method], "Your card was declined.")
            raise ports.CardDeclinedError("Your card was declined.", code="card_declined",
                                          decline_code=DECLINES[method],
                                          payment_intent=intent.snapshot())
        intent.last_error = None
        if method == "pm_card_authenticationRequired" and intent.status != "requires_action":
            intent.status = "requires_action"
            return intent.snapshot()
        intent.status, intent.amount_capturable = "requires_capture", intent.amount
        intent.charge_id = f"ch_{intent.id[3:]}"  # Stripe creates the charge at authorization
        if intent.setup_future_usage and intent.customer:
            self.save_paid_card(intent.payment_method, intent.customer)
        return intent.snapshot()

    def _capture(self, intent: _Intent, amount):
        if intent.status != "requires_capture":
            raise self._unexpected(intent, "capture")
        captured = amount if amount is not None else intent.amount
        if self.capture_reports_received is not None:
            captured = self.capture_reports_received
        intent.status, intent.amount_received, intent.amount_capturable = "succeeded", captured, 0
        self.captures += 1
        # Stripe's fee as the emulator charges it: 2.9 % (half up) + 30
        fee = (captured * 29 + 500) // 1000 + 30
        return msgspec.structs.replace(intent.snapshot(), fee=fee,
                                       balance_transaction_id=f"txn_{intent.id[3:]}")

    def _cancel(self, intent: _Intent):
        if intent.status == "canceled":
            return intent.snapshot()
        if intent.status not in CANCELLABLE:
            raise self._unexpected(intent, "cancel")
        intent.status, intent.amount_capturable = "canceled", 0
        return intent.snapshot()

    def _refund(self, intent: _Intent, amount: int, refund_key: str):
        if intent.status != "succeeded":
            raise ports.RefundFailedError("payment was not captured", code="charge_not_captured")
        if amount > intent.amount_received - intent.refunded:
            raise ports.RefundFailedError("amount too large", code="amount_too_large")
        failing = intent.payment_method == "pm_card_refundFail"
        if not failing:
            intent.refunded += amount
        refund = ports.RefundSnapshot(
            id=f"re_fake{next(self._ids):06d}", payment_intent_id=intent.id, amount=amount,
            currency=intent.currency, status="pending" if failing else "succeeded",
            refund_key=refund_key, created=int(self.now()))
        self.refunds[refund.id] = refund
        return refund

    @staticmethod
    def _unexpected(intent: _Intent, action: str) -> ports.PaymentRequestRejectedError:
        return ports.PaymentRequestRejectedError(
            f"You cannot {action} this PaymentIntent because it has a status of {intent.status}.",
            code="payment_intent_unexpected_state", http_status=400,
            payment_intent=intent.snapshot())
