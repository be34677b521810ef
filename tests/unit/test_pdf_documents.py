"""Invoice PDFs: amounts for humans, any name printable, the same bytes every time."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from adapters.pdf_documents import money, render_credit_note, render_invoice
from checkout_saga.order import CreditNoteState, InvoiceState, fold_order
from events.base import LineItem
from events.documents import Address, BuyerParty, InvoiceLine, SellerParty
from events.order import OrderPlaced

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (1999, "usd", "$19.99"), (5, "usd", "$0.05"), (123456789, "usd", "$1,234,567.89"),
    (1999, "eur", "EUR 19.99"), (500, "jpy", "JPY 500"), (1999, "chf", "CHF 19.99"),
    (-1000, "usd", "-$10.00"),
])
def test_money_is_formatted_for_humans(amount, currency, text):
    assert money(amount, currency) == text


def _documents(buyer_name="Zoë Łukasiewicz 李"):
    order = fold_order(None, [OrderPlaced(
        originator_id=uuid.uuid4(), originator_version=1, occurred_at=NOW, order_id="ord_1",
        order_number="ORD-2026-ABC", checkout_id="chk_1", customer_id="cus_1", currency="usd",
        items=[LineItem(sku="A", quantity=3, unit_amount=250)], amount_total=825)])
    invoice = InvoiceState(
        invoice_number="INV-2026-000007", issued_at=NOW,
        seller=SellerParty(seller_id="acct_1", name="Müller & Søn GmbH", tax_id="DE123"),
        buyer=BuyerParty(customer_id="cus_1", email="z@example.com",
                         address=Address(name=buyer_name, line1="Straße 1", city="Kraków",
                                         postal_code="30-001", country="PL")),
        lines=(InvoiceLine(sku="A", name="Café crème", quantity=3, unit_amount=250, amount=750),),
        currency="usd", amount_subtotal=750, amount_tax=75, amount_shipping=0, amount_total=825,
        tax_rate="0.1")
    note = CreditNoteState(credit_note_number="CN-2026-000003", refund_id="rf_1", amount=300,
                           issued_at=NOW, invoice_number="INV-2026-000007")
    return order, invoice, note


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_an_invoice_renders_names_outside_latin_1_without_failing():
    order, invoice, _ = _documents()

    text = _text(render_invoice(order, invoice))

    for expected in ("INV-2026-000007", "ORD-2026-ABC", "Müller & Søn GmbH", "Zoë Lukasiewicz",
                     "Café crème", "$7.50", "Tax (10%)", "$0.75", "$8.25"):
        assert expected in text, expected


def test_the_same_document_renders_to_the_same_bytes():
    order, invoice, note = _documents()

    assert render_invoice(order, invoice) == render_invoice(order, invoice)
    assert render_credit_note(order, invoice, note) == render_credit_note(order, invoice, note)


def test_a_credit_note_names_its_invoice_and_amount():
    order, invoice, note = _documents()

    text = _text(render_credit_note(order, invoice, note))

    assert "CN-2026-000003" in text and "INV-2026-000007" in text and "$3.00" in text
