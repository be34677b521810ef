"""Values carried inside stored events: postal addresses and the parties and lines of an
invoice, snapshotted when the document is issued (a later change of the seller or the
catalog never alters an issued document)."""

from __future__ import annotations

import msgspec


class Address(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    line1: str
    line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str
    country: str  # ISO 3166-1 alpha-2, upper-case


class SellerParty(msgspec.Struct, frozen=True, kw_only=True):
    seller_id: str
    name: str | None = None
    address: Address | None = None
    tax_id: str | None = None
    email: str | None = None


class BuyerParty(msgspec.Struct, frozen=True, kw_only=True):
    customer_id: str | None = None
    email: str | None = None
    address: Address | None = None  # the billing address, else the shipping address


class InvoiceLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    quantity: int
    unit_amount: int
    amount: int
