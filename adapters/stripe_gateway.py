"""The PaymentGateway port on the real Stripe SDK (``StripeClient``), behind a circuit breaker.

Every write carries the saga's idempotency key, so a retry (by the SDK on a network error,
or by the saga after ``PaymentOutcomeUnknownError``) can never take effect twice. Stripe's
errors become the port's errors in one place, ``_translated``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import stripe
import structlog

from adapters.circuit_breaker import BreakerSettings, BreakerState, CircuitBreaker
from adapters.stripe_customers import StripeCustomerCalls
from adapters.stripe_keys import stripe_idempotency_key
from adapters.stripe_webhooks import (
    as_dict,
    charge_fee,
    dispute_snapshot,
    notice_from_event,
    payment_intent_snapshot,
    refund_snapshot,
)
from checkout_saga.ports import (
    CardDeclinedError,
    DisputeSnapshot,
    PaymentEventNotice,
    PaymentIntentSnapshot,
    PaymentOutcomeUnknownError,
    PaymentRateLimitedError,
    PaymentRequestRejectedError,
    RefundFailedError,
    RefundSnapshot,
    captured_amount,
)

T = TypeVar("T")
log = structlog.get_logger(__name__)

# InvalidRequestError codes on a refund that mean "Stripe refuses this refund", not "our bug".
_REFUND_REFUSALS = frozenset(
    {"amount_too_large", "charge_already_refunded", "charge_disputed", "charge_expired_for_refund"}
)
_PAGE = 100


@dataclass(frozen=True, kw_only=True)
class StripeGatewayConfig:
    api_key: str = field(repr=False)
    api_base: str | None = None  # None: Stripe's own
    timeout_seconds: float = 10.0  # per HTTP request (connect and read)
    max_network_retries: int = 2  # SDK retries of network errors, 409 and 5xx, same key
    breaker: BreakerSettings = field(default_factory=BreakerSettings)


class StripePaymentGateway(StripeCustomerCalls):
    def __init__(
        self, config: StripeGatewayConfig, *, breaker: CircuitBreaker | None = None
    ) -> None:
        self.breaker = breaker or CircuitBreaker(config.breaker, name="stripe")
        self._http = stripe.RequestsClient(timeout=config.timeout_seconds)
        self._client = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.api_base.rstrip("/")} if config.api_base else None,
            max_network_retries=config.max_network_retries,
            http_client=self._http,
        )
        self._intents = self._client.v1.payment_intents
        self._refunds = self._client.v1.refunds

    def is_available(self) -> bool:
        """Closed or half-open (a probe may go through): new work may start."""
        return self.breaker.state is not BreakerState.OPEN

    def retry_after_seconds(self) -> float:
        return self.breaker.retry_after_seconds()

    def close(self) -> None:
        """Close the calling thread's HTTP session (sessions are per thread)."""
        self._http.close()

    # --- payment intents --------------------------------------------------------------

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        checkout_id: str,
        order_id: str,
        idempotency_key: str,
        payment_method: str | None = None,
        return_url: str | None = None,
        customer: str | None = None,
        off_session: bool = False,
        setup_future_usage: str | None = None,
    ) -> PaymentIntentSnapshot:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "capture_method": "manual",
            "payment_method_types": ["card"],
            "metadata": {"checkout_id": checkout_id, "order_id": order_id},
        }
        if customer:
            params["customer"] = customer
        if setup_future_usage:
            params["setup_future_usage"] = setup_future_usage
        if payment_method:
            params |= {"payment_method": payment_method, "confirm": True}
            if off_session:
                params["off_session"] = True
            elif return_url:
                params["return_url"] = return_url
        return self._intent_call(
            "create_payment_intent",
            lambda: self._intents.create(params=params, options=_key(idempotency_key)),
            idempotency_key=idempotency_key,
            checkout_id=checkout_id,
        )

    def confirm_payment_intent(
        self,
        payment_intent_id: str,
        *,
        idempotency_key: str,
        payment_method: str | None = None,
        return_url: str | None = None,
    ) -> PaymentIntentSnapshot:
        params: dict[str, Any] = {}
        if payment_method:
            params["payment_method"] = payment_method
        if return_url:
            params["return_url"] = return_url
        return self._intent_call(
            "confirm_payment_intent",
            lambda: self._intents.confirm(
                payment_intent_id, params=params, options=_key(idempotency_key)
            ),
            idempotency_key=idempotency_key,
            payment_intent_id=payment_intent_id,
        )

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentSnapshot:
        return self._intent_call(
            "retrieve_payment_intent",
            lambda: self._intents.retrieve(payment_intent_id),
            payment_intent_id=payment_intent_id,
        )

    def find_payment_intents(self, checkout_id: str) -> list[PaymentIntentSnapshot]:
        query = f"metadata['checkout_id']:'{_quoted(checkout_id)}'"

        def search() -> list[PaymentIntentSnapshot]:
            found = self._intents.search(params={"query": query, "limit": _PAGE})
            return [payment_intent_snapshot(pi) for pi in found.auto_paging_iter()]

        return self._call("find_payment_intents", search, checkout_id=checkout_id)

    def capture_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str, amount: int | None = None
    ) -> PaymentIntentSnapshot:
        params = {} if amount is None else {"amount_to_capture": amount}
        captured = self._intent_call(
            "capture_payment_intent",
            lambda: self._intents.capture(
                payment_intent_id, params=params, options=_key(idempotency_key)
            ),
            idempotency_key=idempotency_key,
            payment_intent_id=payment_intent_id,
        )
        if captured.status == "succeeded" and captured_amount(captured) == 0:
            # The reply did not say how much was taken (localstripe has no amount_received):
            # read the intent back with its latest charge rather than record 0 captured.
            captured = self._intent_call(
                "retrieve_payment_intent",
                lambda: self._intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge"]}
                ),
                payment_intent_id=payment_intent_id,
            )
        return self._with_fee(captured)

    def _with_fee(self, snap: PaymentIntentSnapshot) -> PaymentIntentSnapshot:
        """The capture with Stripe's fee, read from the charge's balance transaction. Best
        effort: the capture is what matters; a fee that cannot be read is left unknown."""
        if snap.status != "succeeded" or not snap.latest_charge or snap.fee is not None:
            return snap
        try:
            charge = self._client.v1.charges.retrieve(
                snap.latest_charge, params={"expand": ["balance_transaction"]})
        except stripe.StripeError as exc:
            log.warning("stripe_fee_unread", payment_intent_id=snap.id, error=type(exc).__name__)
            return snap
        return msgspec.structs.replace(snap, **charge_fee(charge))

    def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntentSnapshot:
        def cancel() -> Any:
            try:
                return self._intents.cancel(payment_intent_id, options=_key(idempotency_key))
            except stripe.InvalidRequestError as exc:
                # Stripe: payment_intent_unexpected_state. Already cancelled is success.
                intent = _attached_intent(exc) or self._intents.retrieve(payment_intent_id)
                if as_dict(intent).get("status") == "canceled":
                    log.info("stripe_intent_already_cancelled", payment_intent_id=payment_intent_id)
                    return intent
                raise

        return self._intent_call(
            "cancel_payment_intent",
            cancel,
            idempotency_key=idempotency_key,
            payment_intent_id=payment_intent_id,
        )

    # --- refunds ----------------------------------------------------------------------

    def create_refund(
        self,
        *,
        payment_intent_id: str,
        amount: int,
        refund_key: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> RefundSnapshot:
        params: dict[str, Any] = {
            "payment_intent": payment_intent_id,
            "amount": amount,
            "metadata": {"refund_id": refund_key},
        }
        if reason:
            params["reason"] = reason

        def create() -> RefundSnapshot:
            try:
                refund = self._refunds.create(params=params, options=_key(idempotency_key))
            except stripe.InvalidRequestError as exc:
                if exc.code in _REFUND_REFUSALS or getattr(exc, "param", None) == "amount":
                    raise RefundFailedError(
                        exc.user_message or "refund refused", code=exc.code
                    ) from exc
                raise
            return refund_snapshot(refund)

        return self._call(
            "create_refund",
            create,
            idempotency_key=idempotency_key,
            payment_intent_id=payment_intent_id,
        )

    def retrieve_refund(self, refund_id: str) -> RefundSnapshot:
        return self._call(
            "retrieve_refund", lambda: refund_snapshot(self._refunds.retrieve(refund_id))
        )

    def retrieve_dispute(self, dispute_id: str) -> DisputeSnapshot:
        return self._call(
            "retrieve_dispute",
            lambda: dispute_snapshot(self._client.v1.disputes.retrieve(dispute_id)),
        )

    # --- reading back (reconciliation) --------------------------------------------------

    def list_payment_intents(self, *, created_gte: int) -> list[PaymentIntentSnapshot]:
        return self._list(
            "list_payment_intents", self._intents.list, payment_intent_snapshot, created_gte
        )

    def list_refunds(
        self, *, created_gte: int, payment_intent_id: str | None = None
    ) -> list[RefundSnapshot]:
        extra = {"payment_intent": payment_intent_id} if payment_intent_id else {}
        return self._list(
            "list_refunds", self._refunds.list, refund_snapshot, created_gte, **extra
        )

    def list_events(self, *, created_gte: int) -> list[PaymentEventNotice]:
        return self._list(
            "list_events", self._client.v1.events.list, notice_from_event, created_gte
        )

    def _list(
        self,
        operation: str,
        list_page: Callable[..., Any],
        convert: Callable[[Any], T],
        created_gte: int,
        **filters: str,
    ) -> list[T]:
        def read_all() -> list[T]:
            params = {"created": {"gte": created_gte}, "limit": _PAGE, **filters}
            first = list_page(params=params)
            return [convert(item) for item in first.auto_paging_iter()]

        return self._call(operation, read_all, created_gte=created_gte)

    # --- plumbing -----------------------------------------------------------------------

    def _intent_call(
        self, operation: str, fn: Callable[[], Any], **context: Any
    ) -> PaymentIntentSnapshot:
        return self._call(operation, lambda: payment_intent_snapshot(fn()), **context)

    def _call(self, operation: str, fn: Callable[[], T], **context: Any) -> T:
        def guarded() -> T:
            with _translated(operation, context):
                return fn()

        return self.breaker.call(guarded)


# Statuses of an APIError (a body that is not Stripe's JSON) that mean "not a request", never
# "maybe done": bad request, URI or headers too long.
_REFUSED_UNREAD = frozenset({400, 414, 431})


def _key(idempotency_key: str) -> dict[str, str]:
    return {"idempotency_key": stripe_idempotency_key(idempotency_key)}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _attached_intent(exc: stripe.StripeError) -> Any:
    return getattr(exc.error, "payment_intent", None) if exc.error else None


def _attached_snapshot(exc: stripe.StripeError) -> PaymentIntentSnapshot | None:
    intent = _attached_intent(exc)
    return payment_intent_snapshot(intent) if intent else None


@contextmanager
def _translated(operation: str, context: dict[str, Any]) -> Iterator[None]:
    """Stripe's errors as the port's errors; rejections are logged loudly."""
    try:
        yield
    except stripe.CardError as exc:
        error = exc.error
        raise CardDeclinedError(
            exc.user_message or "card declined",
            code=exc.code or "card_declined",
            decline_code=getattr(error, "decline_code", None) if error else None,
            payment_intent=_attached_snapshot(exc),
        ) from exc
    except stripe.RateLimitError as exc:
        raise PaymentRateLimitedError(f"{operation}: rate limited by Stripe") from exc
    except (stripe.IdempotencyError, stripe.InvalidRequestError) as exc:
        raise _rejection(operation, context, exc) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise _rejection(operation, context, exc) from exc
    except stripe.StripeError as exc:  # APIConnectionError (timeouts too), APIError, 409, 5xx
        if isinstance(exc, stripe.APIError) and exc.http_status in _REFUSED_UNREAD:
            # refused before it was read (a request line or header that is not HTTP, e.g. an id
            # with a control character): nothing happened at Stripe; a rejection, not an outage
            raise _rejection(operation, context, exc) from exc
        log.warning(
            "stripe_outcome_unknown",
            operation=operation,
            error=type(exc).__name__,
            http_status=exc.http_status,
            **context,
        )
        raise PaymentOutcomeUnknownError(f"{operation}: {exc.user_message}") from exc


def _rejection(
    operation: str, context: dict[str, Any], exc: stripe.StripeError
) -> PaymentRequestRejectedError:
    error = exc.error
    code = exc.code or (getattr(error, "code", None) if error else None)
    if code is None and isinstance(exc, stripe.IdempotencyError):
        code = "idempotency_error"
    log.error(
        "stripe_request_rejected",
        operation=operation,
        error=type(exc).__name__,
        code=code,
        http_status=exc.http_status,
        message=exc.user_message,
        param=getattr(exc, "param", None),
        request_id=exc.request_id,
        **context,
    )
    return PaymentRequestRejectedError(
        exc.user_message or f"{operation}: rejected by Stripe",
        code=code,
        http_status=exc.http_status,
        payment_intent=_attached_snapshot(exc),
    )
