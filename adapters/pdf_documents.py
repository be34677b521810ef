"""Invoice and credit-note PDFs, rendered with fpdf2 (pure Python: no system packages).

Rendered from the order's recorded documents only, with the document's issue time as the
PDF's creation date, so the same document gives the same bytes on every request."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime

from fpdf import FPDF

from checkout_saga.notification_ports import Document
from checkout_saga.order import CreditNoteState, InvoiceState, OrderState
from checkout_saga.pricing import format_rate
from events.documents import Address

#: ISO 4217 currencies without a minor unit (amounts are whole units).
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                          "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})
SYMBOLS = {"usd": "$", "gbp": "\u00a3", "eur": "EUR ", "cad": "CA$", "aud": "A$", "jpy": "JPY "}


def money(amount: int, currency: str) -> str:
    """``1999, "usd"`` → ``"$19.99"``; ``-500, "eur"`` → ``"-EUR 5.00"``."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    text = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount // 100:,}.{amount % 100:02d}"
    return f"{sign}{SYMBOLS.get(currency, currency.upper() + ' ')}{text}"


#: Letters that do not decompose into a Latin-1 base letter.
_PLAIN = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i",
                        "Ħ": "H", "ħ": "h", "€": "EUR", "\u2013": "-", "\u2014": "-",
                        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _latin1(text: str | None) -> str:
    """The built-in PDF fonts cover Latin-1: accents are kept, other letters are reduced to
    their base letter, anything else becomes '?'."""
    if not text:
        return ""
    out = []
    for ch in text.translate(_PLAIN):
        if ch.encode("latin-1", "ignore"):
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


def _address_lines(address: Address | None) -> list[str]:
    if address is None:
        return []
    city = " ".join(x for x in (address.postal_code, address.city) if x)
    lines = [address.line1, address.line2, city, address.state, address.country]
    return [x for x in lines if x]


class _Document(FPDF):
    def __init__(self, issued_at: datetime) -> None:
        super().__init__(format="A4")
        self.set_creation_date(issued_at.astimezone(UTC))
        self.set_producer("checkout-saga")
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()
        self.set_font("Helvetica", size=10)

    def text_line(self, text: str, *, size: float = 10, bold: bool = False, width: float = 0,
                  align: str = "L", new_line: bool = True) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.cell(width, 6, _latin1(text), align=align,
                  new_x="LMARGIN" if new_line else "RIGHT", new_y="NEXT" if new_line else "TOP")

    def party(self, heading: str, lines: list[str]) -> None:
        self.text_line(heading, bold=True)
        for line in lines:
            self.text_line(line)
        self.ln(3)


def _seller_lines(invoice: InvoiceState) -> list[str]:
    s = invoice.seller
    lines = [s.name or s.seller_id, *_address_lines(s.address)]
    if s.tax_id:
        lines.append(f"Tax ID: {s.tax_id}")
    if s.email:
        lines.append(s.email)
    return lines


def _buyer_lines(invoice: InvoiceState) -> list[str]:
    b = invoice.buyer
    name = b.address.name if b.address else (b.customer_id or "Customer")
    lines = [name, *_address_lines(b.address)]
    if b.email:
        lines.append(b.email)
    if b.customer_id and b.address is not None:
        lines.append(f"Customer {b.customer_id}")
    return lines


def _header(pdf: _Document, title: str, rows: list[tuple[str, str]]) -> None:
    pdf.text_line(title, size=16, bold=True)
    for label, value in rows:
        pdf.text_line(f"{label}: {value}")
    pdf.ln(4)


def render_invoice(order: OrderState, invoice: InvoiceState) -> bytes:
    pdf = _Document(invoice.issued_at)
    pdf.set_title(f"Invoice {invoice.invoice_number}")
    _header(pdf, f"Invoice {invoice.invoice_number}", [
        ("Order", order.order_number), ("Issued", invoice.issued_at.astimezone(UTC).date().isoformat()),
        ("Paid", order.paid_at.astimezone(UTC).date().isoformat() if order.paid_at else "-")])
    pdf.party("Seller", _seller_lines(invoice))
    pdf.party("Bill to", _buyer_lines(invoice))
    widths = (70, 40, 15, 30, 30)
    for text, width, align in zip(("Item", "SKU", "Qty", "Unit price", "Amount"), widths,
                                  ("L", "L", "R", "R", "R"), strict=True):
        pdf.text_line(text, bold=True, width=width, align=align, new_line=False)
    pdf.ln(7)
    cur = invoice.currency
    for line in invoice.lines:
        cells = (line.name, line.sku, str(line.quantity), money(line.unit_amount, cur),
                 money(line.amount, cur))
        for text, width, align in zip(cells, widths, ("L", "L", "R", "R", "R"), strict=True):
            pdf.text_line(text, width=width, align=align, new_line=False)
        pdf.ln(6)
    pdf.ln(3)
    tax_label = f"Tax ({format_rate(invoice.tax_rate)})" if invoice.tax_rate else "Tax"
    for label, amount, bold in (("Subtotal", invoice.amount_subtotal, False),
                                (tax_label, invoice.amount_tax, False),
                                ("Shipping", invoice.amount_shipping, False),
                                ("Total", invoice.amount_total, True)):
        pdf.text_line(label, bold=bold, width=155, align="R", new_line=False)
        pdf.text_line(money(amount, cur), bold=bold, width=30, align="R")
    pdf.ln(4)
    pdf.text_line(f"All amounts in {cur.upper()}.", size=8)
    return bytes(pdf.output())


def render_credit_note(order: OrderState, invoice: InvoiceState, note: CreditNoteState) -> bytes:
    pdf = _Document(note.issued_at)
    pdf.set_title(f"Credit note {note.credit_note_number}")
    _header(pdf, f"Credit note {note.credit_note_number}", [
        ("For invoice", note.invoice_number), ("Order", order.order_number),
        ("Issued", note.issued_at.astimezone(UTC).date().isoformat()), ("Refund", note.refund_id)])
    pdf.party("Seller", _seller_lines(invoice))
    pdf.party("Credited to", _buyer_lines(invoice))
    pdf.text_line("Refund of the order's payment", width=155, new_line=False)
    pdf.text_line(money(note.amount, invoice.currency), width=30, align="R")
    pdf.text_line("Total credited", bold=True, width=155, align="R", new_line=False)
    pdf.text_line(money(note.amount, invoice.currency), bold=True, width=30, align="R")
    pdf.ln(4)
    pdf.text_line(f"Invoice total was {money(invoice.amount_total, invoice.currency)}.", size=8)
    return bytes(pdf.output())


class InvoicePdfs:
    """``checkout_saga.notification_ports.InvoiceDocuments`` from the order stream: the invoice
    of a paid order, or the credit note of one of its refunds, as a PDF (None while it has
    none: the mail then goes without, and says where the document can be fetched)."""

    def __init__(self, order_of: Callable[[str], OrderState | None]) -> None:
        self.order_of = order_of

    def document_for(self, order_id: str, kind: str, refund_id: str | None = None) -> Document | None:
        order = self.order_of(order_id)
        invoice = order.invoice if order is not None else None
        if invoice is None:
            return None
        if kind == "invoice":
            return Document(filename=f"{invoice.invoice_number}.pdf",
                            content=render_invoice(order, invoice))
        note = order.credit_notes.get(refund_id) if refund_id else None
        if note is None:
            return None
        return Document(filename=f"{note.credit_note_number}.pdf",
                        content=render_credit_note(order, invoice, note))
