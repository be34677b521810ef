"""Domain states to wire responses (the one place that knows both shapes)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.schemas import (
    CheckoutOut,
    CustomerOut,
    FailureOut,
    InventoryOut,
    LineOut,
    NextAction,
    OrderOut,
    OrderRef,
    PaymentErrorOut,
    PaymentOut,
    ProductOut,
    RefundOut,
    SellerOut,
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
    )


def order_out(o) -> OrderOut:
    return OrderOut(
        order_id=o.order_id, order_number=o.order_number, checkout_id=o.checkout_id,
        customer_id=o.customer_id, status=o.status, currency=o.currency,
        amount_total=o.amount_total, amount_refunded=o.amount_refunded, items=_lines(o.items),
        created_at=rfc3339(o.created_at), paid_at=rfc3339(o.paid_at),
    )


def refund_out(order_id: str, r) -> RefundOut:
    return RefundOut(refund_id=r.refund_id, order_id=order_id, amount=r.amount,
                     status="pending" if r.status == "requested" else r.status,
                     reason=r.reason, created_at=rfc3339(r.created_at),
                     source=getattr(r, "source", "api"), requested_by=getattr(r, "requested_by", None),
                     approved_by=getattr(r, "approved_by", None),
                     override_window=getattr(r, "override_window", False),
                     rejection_note=getattr(r, "rejection_note", None))


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
                     updated_at=rfc3339(s.updated_at))
