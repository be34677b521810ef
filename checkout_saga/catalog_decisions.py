"""Stock adjustments and catalog changes."""

from __future__ import annotations

from datetime import datetime

from checkout_saga import errors
from checkout_saga.addresses import address_problems
from checkout_saga.catalog import ProductState, SellerState
from checkout_saga.decision import Decision, EventWriter, refusals_as_errors
from checkout_saga.ids import inventory_stream, product_stream, seller_stream
from checkout_saga.inventory import InventoryState
from events.base import Cause
from events.catalog import ProductUpserted, SellerUpdated
from events.documents import Address
from events.inventory import StockAdjusted

MAX_ABS_DELTA = 1_000_000


@refusals_as_errors
def decide_adjust_stock(item: InventoryState | None, sku: str, delta: int, reason: str, *,
                        now: datetime, cause: Cause | None = None) -> Decision:
    if delta == 0 or abs(delta) > MAX_ABS_DELTA:
        raise errors.ValidationError([("delta", f"must be non-zero and at most {MAX_ABS_DELTA} in size")])
    available = item.available if item else 0
    if available + delta < 0:
        raise errors.InsufficientStockError(
            f"adjustment of {delta} would make available stock negative ({available} available)",
            lines=[{"sku": sku, "requested": -delta, "available": available}])
    w = EventWriter(now, cause)
    w.emit(item.id if item else inventory_stream(sku), item.version if item else 0, StockAdjusted,
           sku=sku, delta=delta, reason=reason)
    return w.decision()


@refusals_as_errors
def decide_upsert_product(current: ProductState | None, *, sku: str, name: str, unit_amount: int,
                          currency: str, seller_id: str, active: bool, now: datetime,
                          cause: Cause | None = None) -> Decision:
    w = EventWriter(now, cause)
    fields = dict(sku=sku, name=name, unit_amount=unit_amount, currency=currency,
                  seller_id=seller_id, active=active)
    if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
        return w.decision()
    w.emit(product_stream(sku), current.version if current else 0, ProductUpserted, **fields)
    return w.decision()


@refusals_as_errors
def decide_set_seller(current: SellerState | None, *, seller_id: str, charges_enabled: bool,
                      now: datetime, cause: Cause | None = None, name: str | None = None,
                      address: Address | None = None, tax_id: str | None = None,
                      email: str | None = None) -> Decision:
    """Replace the seller (PUT): fields left out are cleared."""
    w = EventWriter(now, cause)
    problems = address_problems("address", address)
    if problems:
        raise errors.ValidationError(problems)
    fields = dict(charges_enabled=charges_enabled, name=name, address=address, tax_id=tax_id,
                  email=email)
    if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
        return w.decision()
    w.emit(seller_stream(seller_id), current.version if current else 0, SellerUpdated,
           seller_id=seller_id, **fields)
    return w.decision()
