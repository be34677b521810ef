"""Domain errors. Each has a stable ``code`` (CONTRACT §3) that the API maps to HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(DomainError):
    code = "validation_error"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)
        self.errors = errors


class NotFoundError(DomainError):
    code = "not_found"


class IdempotencyConflictError(DomainError):
    code = "idempotency_conflict"


class UnknownSkuError(DomainError):
    code = "unknown_sku"


class ProductUnavailableError(DomainError):
    code = "product_unavailable"


class InsufficientStockError(DomainError):
    code = "insufficient_stock"


class SellerCannotAcceptPaymentsError(DomainError):
    code = "seller_cannot_accept_payments"


class CardDeclinedDomainError(DomainError):
    code = "card_declined"


class CheckoutNotConfirmableError(DomainError):
    code = "checkout_not_confirmable"


class CheckoutNotCancellableError(DomainError):
    code = "checkout_not_cancellable"


class CheckoutNotRetryableError(DomainError):
    code = "checkout_not_retryable"


class OrderNotPaidError(DomainError):
    code = "order_not_paid"


class OrderPaidError(DomainError):
    """A paid order cannot be cancelled: refund it instead."""

    code = "order_paid"


class InvalidFulfillmentTransitionError(DomainError):
    """Fulfilment moves forward only (unfulfilled → processing → shipped → delivered)."""

    code = "invalid_fulfillment_transition"


class RefundExceedsRemainingError(DomainError):
    code = "refund_exceeds_remaining"


class RefundWindowExpiredError(DomainError):
    code = "refund_window_expired"


class ApprovalRequiresSecondAdminError(DomainError):
    code = "approval_requires_second_admin"


class RefundNotAwaitingApprovalError(DomainError):
    code = "refund_not_awaiting_approval"


class PaymentProviderUnavailableDomainError(DomainError):
    code = "payment_provider_unavailable"


class ConcurrencyConflictError(DomainError):
    """Another writer appended to one of the streams first; reload and decide again."""

    code = "concurrency_conflict"
