"""Catalog aggregates: Product and Seller."""

from __future__ import annotations

from checkout_saga.state import State, advanced, make_fold
from events.catalog import ProductUpserted, SellerUpdated
from events.documents import Address


class ProductState(State, frozen=True, kw_only=True):
    sku: str
    name: str
    unit_amount: int
    currency: str
    seller_id: str
    active: bool


class SellerState(State, frozen=True, kw_only=True):
    seller_id: str
    charges_enabled: bool
    name: str | None = None
    address: Address | None = None
    tax_id: str | None = None
    email: str | None = None


def _product_upserted(state: ProductState | None, e: ProductUpserted) -> ProductState:
    fields = dict(
        sku=e.sku,
        name=e.name,
        unit_amount=e.unit_amount,
        currency=e.currency,
        seller_id=e.seller_id,
        active=e.active,
    )
    if state is None:
        return ProductState(
            id=e.originator_id,
            version=e.originator_version,
            created_at=e.occurred_at,
            updated_at=e.occurred_at,
            **fields,
        )
    return advanced(state, e, **fields)


def _seller_updated(state: SellerState | None, e: SellerUpdated) -> SellerState:
    # a SellerUpdated replaces the seller (PUT): a field it leaves out is cleared
    fields = dict(charges_enabled=e.charges_enabled, name=e.name, address=e.address,
                  tax_id=e.tax_id, email=e.email)
    if state is None:
        return SellerState(
            id=e.originator_id,
            version=e.originator_version,
            created_at=e.occurred_at,
            updated_at=e.occurred_at,
            seller_id=e.seller_id,
            **fields,
        )
    return advanced(state, e, **fields)


fold_product = make_fold({ProductUpserted: _product_upserted})
fold_seller = make_fold({SellerUpdated: _seller_updated})
