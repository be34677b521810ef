"""Events of the Order aggregate. Orders are never deleted: they are marked."""

from __future__ import annotations

from events.base import DomainEvent, LineItem
from events.documents import Address, BuyerParty, InvoiceLine, SellerParty


class OrderPlaced(DomainEvent, frozen=True, kw_only=True):
    order_id: str
    order_number: str
    checkout_id: str
    customer_id: str | None
    currency: str
    items: list[LineItem]
    amount_total: int
    # v2 order surface (issue 11): absent in older events (subtotal then = total, no tax,
    # no shipping, no addresses, seller unknown)
    amount_subtotal: int | None = None
    amount_tax: int = 0
    amount_shipping: int = 0
    shipping_address: Address | None = None
    billing_address: Address | None = None
    customer_email: str | None = None
    seller_id: str | None = None
    tax_rate: str | None = None


class OrderPaid(DomainEvent, frozen=True, kw_only=True):
    payment_intent_id: str
    amount_captured: int
    charge_id: str | None


class OrderCancelled(DomainEvent, frozen=True, kw_only=True):
    reason: str


class RefundRequested(DomainEvent, frozen=True, kw_only=True):
    """The intention, before the provider call; its amount is held against the refundable."""

    refund_id: str
    amount: int
    reason: str | None
    restock: list[LineItem]
    idempotency_key: str
    request_fingerprint: str
    # v2 refund controls (defaults read events recorded before them):
    requested_by: str | None = None  # the admin key's id
    override_window: bool = False  # asked after the refund window, explicitly overridden
    awaiting_approval: bool = False  # above the approval threshold: nothing sent until approved


class RefundApproved(DomainEvent, frozen=True, kw_only=True):
    """A second admin approved a refund that waited for approval; it is sent now."""

    refund_id: str
    approved_by: str


class RefundRejected(DomainEvent, frozen=True, kw_only=True):
    """A refund that waited for approval was rejected; it ends here, nothing was sent."""

    refund_id: str
    rejected_by: str
    note: str


class RefundSubmitted(DomainEvent, frozen=True, kw_only=True):
    """The provider accepted the refund but has not settled it yet (``pending``)."""

    refund_id: str
    provider_refund_id: str


class RefundSucceeded(DomainEvent, frozen=True, kw_only=True):
    refund_id: str
    provider_refund_id: str | None
    amount: int


class RefundFailed(DomainEvent, frozen=True, kw_only=True):
    refund_id: str
    provider_refund_id: str | None
    reason: str


class RefundRecordedExternally(DomainEvent, frozen=True, kw_only=True):
    """A refund made outside this service (e.g. Stripe's dashboard), learnt from Stripe (a
    webhook or reconciliation): ``source: "stripe"``, never restocked. ``status`` is Stripe's
    when it was learnt (added later; events stored before it were succeeded refunds). Later
    changes are ``RefundSucceeded`` / ``RefundFailed`` on the same ``refund_id``."""

    refund_id: str
    provider_refund_id: str
    amount: int
    status: str = "succeeded"  # pending | succeeded (failed/canceled ones are not recorded)


class DisputeOpened(DomainEvent, frozen=True, kw_only=True):
    dispute_id: str
    amount: int
    reason: str | None


class DisputeClosed(DomainEvent, frozen=True, kw_only=True):
    dispute_id: str
    status: str


class FulfillmentUpdated(DomainEvent, frozen=True, kw_only=True):
    """The order moved forward in fulfilment (processing, shipped, delivered); the cause
    names the operator who moved it."""

    status: str
    carrier: str | None = None
    tracking_number: str | None = None


class InvoiceIssued(DomainEvent, frozen=True, kw_only=True):
    """The order's invoice, appended atomically with the ``NumberAllocated`` of its number
    on the seller's sequence stream for the year. Everything on it is a snapshot."""

    invoice_number: str
    seller: SellerParty
    buyer: BuyerParty
    lines: list[InvoiceLine]
    currency: str
    amount_subtotal: int
    amount_tax: int
    amount_shipping: int
    amount_total: int
    tax_rate: str | None = None


class CreditNoteIssued(DomainEvent, frozen=True, kw_only=True):
    """A credit note for a succeeded refund, numbered like invoices on its own sequence."""

    credit_note_number: str
    refund_id: str
    amount: int
    invoice_number: str
