"""Invoice and credit-note numbers: the next one of the seller's sequence for the year, taken
in the same append as the document; invariant 8 finds gaps, duplicates and missing invoices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from checkout_saga.invariants import check_documents
from checkout_saga.invoicing import (
    CREDIT_NOTE,
    INVOICE,
    DueDocument,
    decide_issue_document,
    document_number,
    due_document,
    fold_sequence,
    parse_document_number,
    sequence_stream,
    series_for,
)
from checkout_saga.order import RefundState, fold_order
from events.base import LineItem
from events.documents import Address
from events.numbering import NumberAllocated
from events.order import OrderPaid, OrderPlaced

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
HOME = Address(name="Ada", line1="1 Road", city="London", postal_code="N1", country="GB")


def paid_order(seller="acct_1", sid=None):
    sid = sid or uuid.uuid4()
    return fold_order(None, [
        OrderPlaced(originator_id=sid, originator_version=1, occurred_at=NOW,
                    order_id=f"ord_{sid.hex}", order_number="ORD-1", checkout_id="chk_1",
                    customer_id="cus_1", currency="usd",
                    items=[LineItem(sku="A", quantity=2, unit_amount=1000)], amount_total=2700,
                    amount_subtotal=2000, amount_tax=200, amount_shipping=500,
                    shipping_address=HOME, customer_email="ada@example.com", seller_id=seller),
        OrderPaid(originator_id=sid, originator_version=2, occurred_at=NOW,
                  payment_intent_id="pi_1", amount_captured=2700, charge_id="ch_1")])


def sequence_at(last, series="invoice-seq:acct_1:2026"):
    if last == 0:
        return None
    return fold_sequence(None, [NumberAllocated(
        originator_id=sequence_stream(series), originator_version=n, occurred_at=NOW,
        series=series, number=n, document_number=f"INV-2026-{n:06d}", order_id="ord_x")
        for n in range(1, last + 1)])


AN_INVOICE = DueDocument(kind=INVOICE)


def issue(order, sequence=None, due=AN_INVOICE, now=NOW):
    return decide_issue_document(order, due, sequence, seller_id=order.seller_id or "unknown",
                                 seller=None, products={}, now=now)


def test_a_paid_order_is_owed_its_invoice_and_an_unpaid_one_nothing():
    order = paid_order()

    assert due_document(order) == DueDocument(kind=INVOICE)
    assert due_document(msgspec.structs.replace(order, status="pending")) is None


def test_the_first_invoice_of_a_seller_in_a_year_is_number_one():
    invoice, allocated = issue(paid_order()).events

    assert invoice.invoice_number == "INV-2026-000001"
    assert (allocated.series, allocated.number, allocated.originator_version) == (
        "invoice-seq:acct_1:2026", 1, 1)


def test_the_next_invoice_follows_the_last_number_taken():
    invoice, allocated = issue(paid_order(), sequence_at(41)).events

    assert invoice.invoice_number == "INV-2026-000042"
    assert allocated.originator_version == 42  # expects the sequence exactly where it was read


def test_the_invoice_snapshots_amounts_buyer_and_lines():
    invoice, _ = issue(paid_order()).events

    assert (invoice.amount_subtotal, invoice.amount_tax, invoice.amount_shipping,
            invoice.amount_total) == (2000, 200, 500, 2700)
    assert invoice.buyer.address == HOME and invoice.buyer.email == "ada@example.com"
    assert [(line.sku, line.quantity, line.amount) for line in invoice.lines] == [("A", 2, 2000)]


def test_an_invoice_already_issued_is_not_issued_again():
    order = paid_order()
    order = fold_order(order, [issue(order).events[0]])

    assert issue(order).events == []
    assert due_document(order) is None


def test_a_succeeded_refund_is_owed_a_credit_note_after_the_invoice():
    order = paid_order()
    order = fold_order(order, [issue(order).events[0]])
    refund = RefundState(refund_id="rf_1", amount=700, status="succeeded", reason=None, restock=(),
                         idempotency_key="k", request_fingerprint="f", provider_refund_id="re_1",
                         created_at=NOW)
    order = msgspec.structs.replace(order, refunds={"rf_1": refund})

    due = due_document(order)
    note, allocated = issue(order, None, due).events

    assert due == DueDocument(kind=CREDIT_NOTE, refund_id="rf_1")
    assert (note.credit_note_number, note.amount, note.invoice_number) == (
        "CN-2026-000001", 700, "INV-2026-000001")
    assert allocated.series == "credit-note-seq:acct_1:2026"


def test_numbers_restart_each_utc_year_and_are_per_seller():
    late = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    early = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)

    assert series_for(INVOICE, "acct_1", late) != series_for(INVOICE, "acct_1", early)
    assert series_for(INVOICE, "acct_1", late) != series_for(INVOICE, "acct_2", late)
    assert issue(paid_order(), now=early).events[0].invoice_number == "INV-2027-000001"


@pytest.mark.parametrize(("text", "parsed"), [
    ("INV-2026-000012", (INVOICE, 2026, 12)), ("CN-2027-000001", (CREDIT_NOTE, 2027, 1)),
    ("INV-2026-12", None), ("XX-2026-000001", None), ("INV-26-000001", None),
])
def test_document_numbers_parse_back(text, parsed):
    assert parse_document_number(text) == parsed


def test_a_number_formats_with_six_digits():
    assert document_number(INVOICE, 2026, 7) == "INV-2026-000007"


# --- invariant 8 ---------------------------------------------------------------------------


def _issued(orders_and_numbers):
    streams, orders = {}, {}
    for order, number in orders_and_numbers:
        events = []
        if number is not None:
            event = issue(order).events[0]
            event = msgspec.structs.replace(event, invoice_number=number)
            events.append(event)
        orders[order.id] = fold_order(order, events)
        streams[order.id] = events
    return orders, streams


def test_consecutive_invoices_satisfy_invariant_8():
    orders, streams = _issued([(paid_order(), "INV-2026-000001"), (paid_order(), "INV-2026-000002")])

    assert check_documents(orders, streams) == []


def test_a_gap_in_the_numbers_violates_invariant_8():
    orders, streams = _issued([(paid_order(), "INV-2026-000001"), (paid_order(), "INV-2026-000003")])

    (violation,) = check_documents(orders, streams)
    assert violation.invariant == 8 and "gaps [2]" in violation.message


def test_a_duplicate_number_violates_invariant_8():
    orders, streams = _issued([(paid_order(), "INV-2026-000001"), (paid_order(), "INV-2026-000001")])

    (violation,) = check_documents(orders, streams)
    assert "duplicates [1]" in violation.message


def test_a_paid_order_without_an_invoice_violates_invariant_8():
    orders, streams = _issued([(paid_order(), None)])

    (violation,) = check_documents(orders, streams)
    assert "0 invoices" in violation.message


def test_two_sellers_each_have_their_own_number_one():
    orders, streams = _issued([(paid_order("acct_1"), "INV-2026-000001"),
                               (paid_order("acct_2"), "INV-2026-000001")])

    assert check_documents(orders, streams) == []
