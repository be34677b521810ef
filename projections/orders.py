"""The ``orders`` projection: one row per order, as CONTRACT §3.2 shows it."""

from __future__ import annotations

import msgspec

from checkout_saga.ids import order_id_of
from events import order as ev
from events.base import DomainEvent
from projections.base import Projection, Row, ts

PAID_STATUSES = ("paid", "partially_refunded", "refunded")


def _key(event: DomainEvent) -> str | None:
    if type(event).__module__ != ev.__name__:
        return None
    return event.order_id if isinstance(event, ev.OrderPlaced) else order_id_of(event.originator_id)


def _address(value) -> dict | None:
    return None if value is None else msgspec.to_builtins(value)


def _placed(e: ev.OrderPlaced) -> Row:
    at = ts(e.occurred_at)
    return {"order_id": e.order_id, "order_number": e.order_number, "checkout_id": e.checkout_id,
            "customer_id": e.customer_id, "status": "pending", "currency": e.currency,
            "amount_total": e.amount_total, "amount_captured": 0, "amount_refunded": 0, "refunds": {},
            "items": [{"sku": i.sku, "quantity": i.quantity, "unit_amount": i.unit_amount}
                      for i in e.items],
            "created_at": at, "paid_at": None, "updated_at": at,
            # v2 (None where an order placed before v2 has nothing: the view fills it in)
            "amount_subtotal": e.amount_subtotal, "amount_tax": e.amount_tax,
            "amount_shipping": e.amount_shipping, "shipping_address": _address(e.shipping_address),
            "billing_address": _address(e.billing_address), "seller_id": e.seller_id,
            "invoice_number": None, "fulfillment_status": "unfulfilled", "fulfillment": None}


def _fulfilled(row: Row, e: ev.FulfillmentUpdated) -> dict:
    old = row.get("fulfillment") or {}
    at = ts(e.occurred_at)
    return {"fulfillment_status": e.status, "fulfillment": {
        "status": e.status, "carrier": e.carrier or old.get("carrier"),
        "tracking_number": e.tracking_number or old.get("tracking_number"),
        "shipped_at": at if e.status == "shipped" else old.get("shipped_at"),
        "delivered_at": at if e.status == "delivered" else old.get("delivered_at")}}


def _refunded(row: Row, refund_id: str, amount: int) -> dict:
    refunds = {**row["refunds"], refund_id: amount}
    refunded = sum(refunds.values())
    status = row["status"]
    if status in PAID_STATUSES:
        status = "paid" if refunded <= 0 else (
            "refunded" if refunded >= row["amount_captured"] else "partially_refunded")
    return {"refunds": refunds, "amount_refunded": refunded, "status": status}


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    if isinstance(e, ev.OrderPlaced):
        return row if row is not None else _placed(e)
    if row is None:
        return None
    if isinstance(e, ev.OrderPaid):
        changes = {"status": "paid", "amount_captured": e.amount_captured, "paid_at": ts(e.occurred_at)}
    elif isinstance(e, ev.OrderCancelled):
        changes = {"status": "cancelled"}
    elif isinstance(e, ev.RefundSucceeded) or (
            isinstance(e, ev.RefundRecordedExternally) and e.status == "succeeded"):
        changes = _refunded(row, e.refund_id, e.amount)
    elif isinstance(e, ev.FulfillmentUpdated):
        changes = _fulfilled(row, e)
    elif isinstance(e, ev.InvoiceIssued):
        changes = {"invoice_number": e.invoice_number}
    else:
        return row
    return {**row, **changes, "updated_at": ts(e.occurred_at)}


ORDERS = Projection(
    name="orders", key_column="order_id",
    columns=("order_id", "order_number", "checkout_id", "customer_id", "status", "currency",
             "amount_total", "amount_captured", "amount_refunded", "refunds", "items",
             "created_at", "paid_at", "updated_at",
             "amount_subtotal", "amount_tax", "amount_shipping", "shipping_address",
             "billing_address", "seller_id", "invoice_number", "fulfillment_status", "fulfillment"),
    json_columns=frozenset({"refunds", "items", "shipping_address", "billing_address",
                            "fulfillment"}), key=_key, apply=apply)
