"""Domain states to wire responses (the one place that knows both shapes)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.schemas import (
    AddressOut,
    BuyerOut,
    CheckoutOut,
    CreditNoteOut,
    CustomerOut,
    DisputeOut,
    FailureOut,
    FulfillmentOut,
    InventoryOut,
    InvoiceLineOut,
    InvoiceOut,
    LineOut,
    NextAction,
    OrderOut,
    OrderRef,
    PaymentErrorOut,
    PaymentOut,
    ProductOut,
    RefundOut,
    SellerOut,
    SellerPartyOut,
)


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat(timespec="seconds" if not value.microsecond else "milliseconds")
    return text.replace("+00:00", "Z")


def _lines(items) -> list[LineOut]:
    return [LineOut(sku=i.sku, quantity=i.quantity, unit_amount=i.unit_amount) for i in items]


def _payment(s) -> PaymentOut | None:
    if s.payment_intent_id is None and s.payment_status in (None, "creating"):
        return None
    error = s.last_payment_error
    return PaymentOut(
        payment_intent_id=s.payment_intent_id,
        client_secret=s.client_secret,
        status=s.payment_status,
        next_action=NextAction(type="redirect_to_url", redirect_url=s.next_action_url)
        if s.next_action_url and s.status == "requires_action" else None,
        last_error=PaymentErrorOut(code=error.code, decline_code=error.decline_code,
                                   message=error.message) if error else None,
    )


def checkout_out(s) -> CheckoutOut:
    return CheckoutOut(
        checkout_id=s.checkout_id,
        checkout_session_id=s.checkout_session_id,
        status=s.status,
        customer=CustomerOut(id=s.customer_id, email=s.customer_email),
        currency=s.currency,
        amount_subtotal=s.amount_subtotal,
        amount_tax=s.amount_tax,
        amount_shipping=s.amount_shipping,
        amount_total=s.amount_total,
        items=_lines(s.items),
        order=OrderRef(order_id=s.order_id, order_number=s.order_number) if s.order_id else None,
        payment=_payment(s),
        failure=FailureOut(code=s.failure.code, message=s.failure.message) if s.failure else None,
        expires_at=rfc3339(s.expires_at),
        created_at=rfc3339(s.created_at),
        updated_at=rfc3339(s.updated_at),
        version=s.version,
        shipping_address=address_out(s.shipping_address),
        billing_address=address_out(s.billing_address),
    )


def order_out(o) -> OrderOut:
    return OrderOut(
        order_id=o.order_id, order_number=o.order_number, checkout_id=o.checkout_id,
        customer_id=o.customer_id, status=o.status, currency=o.currency,
        amount_total=o.amount_total, amount_refunded=o.amount_refunded, items=_lines(o.items),
        created_at=rfc3339(o.created_at), paid_at=rfc3339(o.paid_at), dispute=_dispute(o.dispute),
        amount_subtotal=o.amount_subtotal, amount_tax=o.amount_tax,
        amount_shipping=o.amount_shipping, shipping_address=address_out(o.shipping_address),
        billing_address=address_out(o.billing_address),
        invoice_number=o.invoice.invoice_number if o.invoice else None,
        fulfillment=fulfillment_out(o.fulfillment),
    )


def address_out(a) -> AddressOut | None:
    if a is None:
        return None
    return AddressOut(name=a.name, line1=a.line1, line2=a.line2, city=a.city, state=a.state,
                      postal_code=a.postal_code, country=a.country)


def fulfillment_out(f) -> FulfillmentOut:
    return FulfillmentOut(status=f.status, carrier=f.carrier, tracking_number=f.tracking_number,
                          shipped_at=rfc3339(f.shipped_at), delivered_at=rfc3339(f.delivered_at))


def invoice_out(o, invoice) -> InvoiceOut:
    seller, buyer = invoice.seller, invoice.buyer
    notes = sorted(o.credit_notes.values(), key=lambda n: n.credit_note_number)
    return InvoiceOut(
        invoice_number=invoice.invoice_number, order_id=o.order_id, order_number=o.order_number,
        issued_at=rfc3339(invoice.issued_at),
        seller=SellerPartyOut(seller_id=seller.seller_id, name=seller.name,
                              address=address_out(seller.address), tax_id=seller.tax_id,
                              email=seller.email),
        buyer=BuyerOut(customer_id=buyer.customer_id, email=buyer.email,
                       name=buyer.address.name if buyer.address else None,
                       address=address_out(buyer.address)),
        lines=[InvoiceLineOut(sku=line.sku, name=line.name, quantity=line.quantity,
                              unit_amount=line.unit_amount, amount=line.amount)
               for line in invoice.lines],
        currency=invoice.currency, amount_subtotal=invoice.amount_subtotal,
        amount_tax=invoice.amount_tax, amount_shipping=invoice.amount_shipping,
        amount_total=invoice.amount_total, tax_rate=invoice.tax_rate,
        credit_notes=[CreditNoteOut(credit_note_number=n.credit_note_number,
                                    refund_id=n.refund_id, amount=n.amount,
                                    issued_at=rfc3339(n.issued_at)) for n in notes],
    )


def _dispute(d) -> DisputeOut | None:
    if d is None:
        return None
    return DisputeOut(status=d.status, reason=d.reason, amount=d.amount,
                      opened_at=rfc3339(d.opened_at), closed_at=rfc3339(d.closed_at))


def refund_out(order_id: str, r) -> RefundOut:
    return RefundOut(refund_id=r.refund_id, order_id=order_id, amount=r.amount,
                     status="pending" if r.status == "requested" else r.status,
                     reason=r.reason, created_at=rfc3339(r.created_at), source=r.source,
                     requested_by=r.requested_by, approved_by=r.approved_by,
                     override_window=r.override_window, rejection_note=r.rejection_note)


def inventory_out(sku: str, level) -> InventoryOut:
    if level is None:
        return InventoryOut(sku=sku, on_hand=0, reserved=0, available=0, sold=0)
    return InventoryOut(sku=sku, on_hand=level.on_hand, reserved=level.reserved,
                        available=level.available, sold=level.sold)


def product_out(p) -> ProductOut:
    return ProductOut(sku=p.sku, name=p.name, unit_amount=p.unit_amount, currency=p.currency,
                      seller_id=p.seller_id, active=p.active, created_at=rfc3339(p.created_at),
                      updated_at=rfc3339(p.updated_at))


def seller_out(s) -> SellerOut:
    return SellerOut(seller_id=s.seller_id, charges_enabled=s.charges_enabled,
                     updated_at=rfc3339(s.updated_at), name=s.name,
                     address=address_out(s.address), tax_id=s.tax_id, email=s.email)
