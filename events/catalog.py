"""Events of the catalog: products and sellers."""

from __future__ import annotations

from events.base import DomainEvent
from events.documents import Address


class ProductUpserted(DomainEvent, frozen=True, kw_only=True):
    sku: str
    name: str
    unit_amount: int
    currency: str
    seller_id: str
    active: bool


class SellerUpdated(DomainEvent, frozen=True, kw_only=True):
    seller_id: str
    charges_enabled: bool
    # v2: the seller as invoices show it (absent in older events: unknown)
    name: str | None = None
    address: Address | None = None
    tax_id: str | None = None
    email: str | None = None
