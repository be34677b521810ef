"""Invoices and credit notes, and their numbers (CONTRACT §3.2 v2, invariant 8).

An invoice is issued once an order is paid; a credit note once a refund of it succeeded.
Numbers are ``INV-YYYY-NNNNNN`` / ``CN-YYYY-NNNNNN``, consecutive per seller and UTC year.
A number is taken from a sequence stream (one per seller, kind and year) in the same atomic
append as the document's event on the order stream: the append conflicts if anyone else took
a number meanwhile (then the decision is made again on the new last number), so no number is
ever given twice, and none is taken without its document, so there is no gap. A database
sequence would leave gaps (a rolled-back transaction still consumes its value).

Issuing is a follow-up of the payment, never part of it: a checkout completes without
waiting for its number, and a document that could not be issued at once (a hot sequence,
a crash) is issued later by whoever resumes the order (``due_document``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID, uuid5

import msgspec

from checkout_saga.catalog import ProductState, SellerState
from checkout_saga.decision import Decision, EventWriter
from checkout_saga.ids import NAMESPACE
from checkout_saga.order import OrderState
from checkout_saga.state import State, advanced, make_fold
from events.base import Cause
from events.documents import BuyerParty, InvoiceLine, SellerParty
from events.numbering import NumberAllocated
from events.order import CreditNoteIssued, InvoiceIssued

INVOICE = "invoice"
CREDIT_NOTE = "credit-note"
PREFIXES = {INVOICE: "INV", CREDIT_NOTE: "CN"}
UNKNOWN_SELLER = "unknown"


class DueDocument(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # invoice | credit-note
    refund_id: str | None = None


class SequenceState(State, frozen=True, kw_only=True):
    series: str
    last: int


def series_for(kind: str, seller_id: str, at: datetime) -> str:
    """The sequence a document issued at ``at`` draws from, e.g. ``invoice-seq:acct_1:2026``."""
    return f"{kind}-seq:{seller_id}:{at.astimezone(UTC).year}"


def sequence_stream(series: str) -> UUID:
    return uuid5(NAMESPACE, f"sequence:{series}")


def document_number(kind: str, year: int, number: int) -> str:
    return f"{PREFIXES[kind]}-{year}-{number:06d}"


def parse_document_number(text: str) -> tuple[str, int, int] | None:
    """``"INV-2026-000012"`` → ``("invoice", 2026, 12)``; None for anything else."""
    prefix, _, rest = text.partition("-")
    year, _, number = rest.partition("-")
    kind = {v: k for k, v in PREFIXES.items()}.get(prefix)
    if kind is None or not (year.isdigit() and len(year) == 4 and number.isdigit() and len(number) >= 6):
        return None
    return kind, int(year), int(number)


def _allocated(state: SequenceState | None, e: NumberAllocated) -> SequenceState:
    if state is None:
        return SequenceState(id=e.originator_id, version=e.originator_version,
                             created_at=e.occurred_at, updated_at=e.occurred_at,
                             series=e.series, last=e.number)
    return advanced(state, e, last=e.number)


fold_sequence = make_fold({NumberAllocated: _allocated})


def seller_of(order: OrderState, products: Mapping[str, ProductState | None]) -> str:
    """The seller an order's documents are numbered for: the one recorded on the order, else
    (orders placed before it was recorded) the seller of its first line."""
    if order.seller_id:
        return order.seller_id
    for line in order.items:
        product = products.get(line.sku)
        if product is not None:
            return product.seller_id
    return UNKNOWN_SELLER


def due_document(order: OrderState) -> DueDocument | None:
    """The next document this order is owed: its invoice once paid, then a credit note for
    each succeeded refund, oldest first."""
    if not order.was_paid:
        return None
    if order.invoice is None:
        return DueDocument(kind=INVOICE)
    refunds = sorted(order.refunds.values(), key=lambda r: (r.created_at, r.refund_id))
    for refund in refunds:
        if refund.status == "succeeded" and refund.refund_id not in order.credit_notes:
            return DueDocument(kind=CREDIT_NOTE, refund_id=refund.refund_id)
    return None


def decide_issue_document(
    order: OrderState, due: DueDocument, sequence: SequenceState | None, *, seller_id: str,
    seller: SellerState | None, products: Mapping[str, ProductState | None], now: datetime,
    cause: Cause | None = None,
) -> Decision:
    """Issue ``due`` with the next number of its sequence, both in one append. Nothing when it
    is no longer due (someone else issued it)."""
    w = EventWriter(now, cause)
    if due_document(order) != due:
        return w.decision()
    series = series_for(due.kind, seller_id, now)
    if sequence is not None and sequence.series != series:
        raise ValueError(f"sequence {sequence.series} given for {series}")
    number = (sequence.last if sequence else 0) + 1
    text = document_number(due.kind, now.astimezone(UTC).year, number)
    if due.kind == INVOICE:
        w.emit(order.id, order.version, InvoiceIssued, invoice_number=text,
               seller=_seller_party(seller_id, seller), buyer=_buyer(order),
               lines=_lines(order, products), currency=order.currency,
               amount_subtotal=order.amount_subtotal, amount_tax=order.amount_tax,
               amount_shipping=order.amount_shipping, amount_total=order.amount_total,
               tax_rate=order.tax_rate)
    else:
        refund = order.refunds[due.refund_id or ""]
        w.emit(order.id, order.version, CreditNoteIssued, credit_note_number=text,
               refund_id=refund.refund_id, amount=refund.amount,
               invoice_number=order.invoice.invoice_number if order.invoice else "")
    w.emit(sequence_stream(series), sequence.version if sequence else 0, NumberAllocated,
           series=series, number=number, document_number=text, order_id=order.order_id)
    return w.decision()


def _seller_party(seller_id: str, seller: SellerState | None) -> SellerParty:
    if seller is None:
        return SellerParty(seller_id=seller_id)
    return SellerParty(seller_id=seller_id, name=seller.name, address=seller.address,
                       tax_id=seller.tax_id, email=seller.email)


def _buyer(order: OrderState) -> BuyerParty:
    return BuyerParty(customer_id=order.customer_id, email=order.customer_email,
                      address=order.billing_address or order.shipping_address)


def _lines(order: OrderState, products: Mapping[str, ProductState | None]) -> list[InvoiceLine]:
    lines = []
    for item in order.items:
        product = products.get(item.sku)
        lines.append(InvoiceLine(sku=item.sku, name=product.name if product else item.sku,
                                 quantity=item.quantity, unit_amount=item.unit_amount,
                                 amount=item.quantity * item.unit_amount))
    return lines
