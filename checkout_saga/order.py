"""The Order aggregate: pending → paid → partially_refunded/refunded, or cancelled.
Never deleted. Refunds are tracked one by one; refundable = captured − refunded − in flight."""

from __future__ import annotations

from datetime import datetime

import msgspec

from checkout_saga.state import State, advanced, make_fold
from events.base import LineItem
from events.documents import Address, BuyerParty, InvoiceLine, SellerParty
from events.order import (
    CreditNoteIssued,
    DisputeClosed,
    DisputeOpened,
    FulfillmentUpdated,
    InvoiceIssued,
    OrderCancelled,
    OrderPaid,
    OrderPlaced,
    RefundApproved,
    RefundFailed,
    RefundRecordedExternally,
    RefundRejected,
    RefundRequested,
    RefundSubmitted,
    RefundSucceeded,
)

# a refund waiting for approval is held against the refundable amount like one in flight
REFUND_IN_FLIGHT = ("requested", "pending", "pending_approval")


class RefundState(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: str
    amount: int
    status: str  # pending_approval | requested | pending | succeeded | failed | rejected
    reason: str | None
    restock: tuple[LineItem, ...]
    idempotency_key: str | None
    request_fingerprint: str | None
    provider_refund_id: str | None
    created_at: datetime
    failure_reason: str | None = None
    source: str = "api"  # api | stripe (made outside this service, learnt from Stripe)
    requested_by: str | None = None
    approved_by: str | None = None
    override_window: bool = False
    rejected_by: str | None = None
    rejection_note: str | None = None


class DisputeState(msgspec.Struct, frozen=True, kw_only=True):
    dispute_id: str
    amount: int
    reason: str | None
    status: str  # needs_response | under_review | won | lost (Stripe's, as last learnt)
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class FulfillmentState(msgspec.Struct, frozen=True, kw_only=True):
    status: str = "unfulfilled"  # unfulfilled | processing | shipped | delivered
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


class InvoiceState(msgspec.Struct, frozen=True, kw_only=True):
    invoice_number: str
    issued_at: datetime
    seller: SellerParty
    buyer: BuyerParty
    lines: tuple[InvoiceLine, ...]
    currency: str
    amount_subtotal: int
    amount_tax: int
    amount_shipping: int
    amount_total: int
    tax_rate: str | None = None


class CreditNoteState(msgspec.Struct, frozen=True, kw_only=True):
    credit_note_number: str
    refund_id: str
    amount: int
    issued_at: datetime
    invoice_number: str


class OrderState(State, frozen=True, kw_only=True):
    order_id: str
    order_number: str
    checkout_id: str
    customer_id: str | None
    currency: str
    items: tuple[LineItem, ...]
    amount_total: int
    status: str = "pending"
    payment_intent_id: str | None = None
    charge_id: str | None = None
    amount_captured: int = 0
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunds: dict[str, RefundState] = {}
    disputes: dict[str, DisputeState] = {}
    amount_subtotal: int = 0
    amount_tax: int = 0
    amount_shipping: int = 0
    shipping_address: Address | None = None
    billing_address: Address | None = None
    customer_email: str | None = None
    seller_id: str | None = None
    tax_rate: str | None = None
    fulfillment: FulfillmentState = FulfillmentState()
    invoice: InvoiceState | None = None
    credit_notes: dict[str, CreditNoteState] = {}  # by refund id

    @property
    def was_paid(self) -> bool:
        """Paid at some point (refunds included): such an order has exactly one invoice."""
        return self.status in ("paid", "partially_refunded", "refunded")

    @property
    def amount_refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values() if r.status == "succeeded")

    @property
    def dispute(self) -> DisputeState | None:
        """The order's latest dispute (the one a user sees), or None."""
        if not self.disputes:
            return None
        return max(self.disputes.values(),
                   key=lambda d: (d.opened_at or self.created_at, d.dispute_id))

    def refund_for_provider_id(self, provider_refund_id: str) -> RefundState | None:
        return next((r for r in self.refunds.values()
                     if r.provider_refund_id == provider_refund_id), None)

    @property
    def amount_refund_in_flight(self) -> int:
        return sum(r.amount for r in self.refunds.values() if r.status in REFUND_IN_FLIGHT)

    @property
    def refundable(self) -> int:
        return self.amount_captured - self.amount_refunded - self.amount_refund_in_flight


def _status_after_refunds(s: OrderState, refunds: dict[str, RefundState]) -> str:
    refunded = sum(r.amount for r in refunds.values() if r.status == "succeeded")
    if s.status not in ("paid", "partially_refunded", "refunded"):
        return s.status
    if refunded <= 0:
        return "paid"
    return "refunded" if refunded >= s.amount_captured else "partially_refunded"


def _with_refund(s: OrderState, e, refund: RefundState) -> OrderState:
    refunds = dict(s.refunds)
    refunds[refund.refund_id] = refund
    return advanced(s, e, refunds=refunds, status=_status_after_refunds(s, refunds))


def _placed(_: OrderState | None, e: OrderPlaced) -> OrderState:
    return OrderState(
        id=e.originator_id,
        version=e.originator_version,
        created_at=e.occurred_at,
        updated_at=e.occurred_at,
        order_id=e.order_id,
        order_number=e.order_number,
        checkout_id=e.checkout_id,
        customer_id=e.customer_id,
        currency=e.currency,
        items=tuple(e.items),
        amount_total=e.amount_total,
        amount_subtotal=e.amount_total if e.amount_subtotal is None else e.amount_subtotal,
        amount_tax=e.amount_tax,
        amount_shipping=e.amount_shipping,
        shipping_address=e.shipping_address,
        billing_address=e.billing_address,
        customer_email=e.customer_email,
        seller_id=e.seller_id,
        tax_rate=e.tax_rate,
    )


def _paid(s: OrderState, e: OrderPaid) -> OrderState:
    return advanced(
        s,
        e,
        status="paid",
        payment_intent_id=e.payment_intent_id,
        charge_id=e.charge_id,
        amount_captured=e.amount_captured,
        paid_at=e.occurred_at,
    )


def _cancelled(s: OrderState, e: OrderCancelled) -> OrderState:
    return advanced(s, e, status="cancelled", cancelled_at=e.occurred_at)


def _refund_requested(s: OrderState, e: RefundRequested) -> OrderState:
    refund = RefundState(
        refund_id=e.refund_id,
        amount=e.amount,
        status="requested",
        reason=e.reason,
        restock=tuple(e.restock),
        idempotency_key=e.idempotency_key,
        request_fingerprint=e.request_fingerprint,
        provider_refund_id=None,
        created_at=e.occurred_at,
        requested_by=e.requested_by,
        override_window=e.override_window,
    )
    if e.awaiting_approval:
        refund = msgspec.structs.replace(refund, status="pending_approval")
    return _with_refund(s, e, refund)


def _refund_approved(s: OrderState, e: RefundApproved) -> OrderState:
    r = s.refunds[e.refund_id]
    return _with_refund(s, e, msgspec.structs.replace(r, status="requested",
                                                      approved_by=e.approved_by))


def _refund_rejected(s: OrderState, e: RefundRejected) -> OrderState:
    r = s.refunds[e.refund_id]
    return _with_refund(s, e, msgspec.structs.replace(
        r, status="rejected", rejected_by=e.rejected_by, rejection_note=e.note))


def _refund_submitted(s: OrderState, e: RefundSubmitted) -> OrderState:
    r = s.refunds[e.refund_id]
    return _with_refund(
        s, e, msgspec.structs.replace(r, status="pending", provider_refund_id=e.provider_refund_id)
    )


def _refund_succeeded(s: OrderState, e: RefundSucceeded) -> OrderState:
    r = s.refunds[e.refund_id]
    return _with_refund(
        s,
        e,
        msgspec.structs.replace(
            r, status="succeeded", provider_refund_id=e.provider_refund_id or r.provider_refund_id
        ),
    )


def _refund_failed(s: OrderState, e: RefundFailed) -> OrderState:
    r = s.refunds[e.refund_id]
    return _with_refund(
        s,
        e,
        msgspec.structs.replace(
            r,
            status="failed",
            failure_reason=e.reason,
            provider_refund_id=e.provider_refund_id or r.provider_refund_id,
        ),
    )


def _refund_external(s: OrderState, e: RefundRecordedExternally) -> OrderState:
    refund = RefundState(
        refund_id=e.refund_id,
        amount=e.amount,
        status=e.status,
        reason=None,
        restock=(),
        idempotency_key=None,
        request_fingerprint=None,
        provider_refund_id=e.provider_refund_id,
        created_at=e.occurred_at,
        source="stripe",
    )
    return _with_refund(s, e, refund)


def _dispute_opened(s: OrderState, e: DisputeOpened) -> OrderState:
    disputes = dict(s.disputes)
    disputes[e.dispute_id] = DisputeState(
        dispute_id=e.dispute_id, amount=e.amount, reason=e.reason, status="needs_response",
        opened_at=e.occurred_at,
    )
    return advanced(s, e, disputes=disputes)


def _dispute_closed(s: OrderState, e: DisputeClosed) -> OrderState:
    disputes = dict(s.disputes)
    old = disputes.get(e.dispute_id)
    disputes[e.dispute_id] = DisputeState(
        dispute_id=e.dispute_id,
        amount=old.amount if old else 0,
        reason=old.reason if old else None,
        status=e.status,
        opened_at=old.opened_at if old else e.occurred_at,
        closed_at=e.occurred_at,
    )
    return advanced(s, e, disputes=disputes)


def _fulfillment_updated(s: OrderState, e: FulfillmentUpdated) -> OrderState:
    f = s.fulfillment
    fulfillment = msgspec.structs.replace(
        f,
        status=e.status,
        carrier=e.carrier or f.carrier,
        tracking_number=e.tracking_number or f.tracking_number,
        shipped_at=e.occurred_at if e.status == "shipped" else f.shipped_at,
        delivered_at=e.occurred_at if e.status == "delivered" else f.delivered_at,
    )
    return advanced(s, e, fulfillment=fulfillment)


def _invoice_issued(s: OrderState, e: InvoiceIssued) -> OrderState:
    invoice = InvoiceState(
        invoice_number=e.invoice_number, issued_at=e.occurred_at, seller=e.seller, buyer=e.buyer,
        lines=tuple(e.lines), currency=e.currency, amount_subtotal=e.amount_subtotal,
        amount_tax=e.amount_tax, amount_shipping=e.amount_shipping, amount_total=e.amount_total,
        tax_rate=e.tax_rate)
    return advanced(s, e, invoice=invoice)


def _credit_note_issued(s: OrderState, e: CreditNoteIssued) -> OrderState:
    notes = dict(s.credit_notes)
    notes[e.refund_id] = CreditNoteState(
        credit_note_number=e.credit_note_number, refund_id=e.refund_id, amount=e.amount,
        issued_at=e.occurred_at, invoice_number=e.invoice_number)
    return advanced(s, e, credit_notes=notes)


fold_order = make_fold(
    {
        OrderPlaced: _placed,
        OrderPaid: _paid,
        OrderCancelled: _cancelled,
        RefundRequested: _refund_requested,
        RefundApproved: _refund_approved,
        RefundRejected: _refund_rejected,
        RefundSubmitted: _refund_submitted,
        RefundSucceeded: _refund_succeeded,
        RefundFailed: _refund_failed,
        RefundRecordedExternally: _refund_external,
        DisputeOpened: _dispute_opened,
        DisputeClosed: _dispute_closed,
        FulfillmentUpdated: _fulfillment_updated,
        InvoiceIssued: _invoice_issued,
        CreditNoteIssued: _credit_note_issued,
    }
)
