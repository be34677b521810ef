"""Events of the InventoryItem aggregate (one stream per SKU).

Invariant kept by these: on_hand + sold == sum of adjustments; reserved <= on_hand.
"""

from __future__ import annotations

from datetime import datetime

from events.base import DomainEvent


class StockAdjusted(DomainEvent, frozen=True, kw_only=True):
    sku: str
    delta: int
    reason: str


class UnitsReserved(DomainEvent, frozen=True, kw_only=True):
    sku: str
    checkout_id: str
    quantity: int
    expires_at: datetime


class ReservationReleased(DomainEvent, frozen=True, kw_only=True):
    sku: str
    checkout_id: str
    quantity: int


class ReservationCommitted(DomainEvent, frozen=True, kw_only=True):
    """Reserved units became sold: on_hand and reserved fall, sold rises."""

    sku: str
    checkout_id: str
    quantity: int


class SaleReversed(DomainEvent, frozen=True, kw_only=True):
    """A committed sale whose payment was never captured goes back on hand."""

    sku: str
    checkout_id: str
    quantity: int


class UnitsRestocked(DomainEvent, frozen=True, kw_only=True):
    """Sold units returned on a refund: sold falls, on_hand rises."""

    sku: str
    checkout_id: str
    refund_id: str
    quantity: int
