"""Stock and catalog: commands and the reads the saga needs."""

from __future__ import annotations

from application.command_runner import CommandRunner
from checkout_saga.catalog import ProductState, SellerState, fold_product, fold_seller
from checkout_saga.catalog_decisions import (
    decide_adjust_stock,
    decide_set_seller,
    decide_upsert_product,
)
from checkout_saga.ids import inventory_stream, product_stream, seller_stream
from checkout_saga.inventory import InventoryState, fold_inventory
from events.base import Cause


class CatalogService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner
        self.store = runner.store
        self.clock = runner.clock

    def get_inventory(self, sku: str) -> InventoryState | None:
        return self.store.get(inventory_stream(sku), fold_inventory)

    def get_product(self, sku: str) -> ProductState | None:
        return self.store.get(product_stream(sku), fold_product)

    def get_seller(self, seller_id: str) -> SellerState | None:
        return self.store.get(seller_stream(seller_id), fold_seller)

    def adjust_stock(self, sku: str, delta: int, reason: str,
                     cause: Cause | None = None) -> InventoryState:
        self.runner.decide_and_append(
            "adjust_stock", lambda: self.get_inventory(sku),
            lambda item: decide_adjust_stock(item, sku, delta, reason, now=self.clock.now(),
                                             cause=cause))
        return self.get_inventory(sku)

    def upsert_product(self, *, sku: str, name: str, unit_amount: int, currency: str,
                       seller_id: str, active: bool, cause: Cause | None = None) -> ProductState:
        self.runner.decide_and_append(
            "upsert_product", lambda: self.get_product(sku),
            lambda current: decide_upsert_product(
                current, sku=sku, name=name, unit_amount=unit_amount, currency=currency,
                seller_id=seller_id, active=active, now=self.clock.now(), cause=cause))
        return self.get_product(sku)

    def set_seller(self, seller_id: str, *, charges_enabled: bool,
                   cause: Cause | None = None, **invoice_fields) -> SellerState:
        """Replace the seller; ``invoice_fields`` (name, address, tax_id, email) left out
        are cleared."""
        self.runner.decide_and_append(
            "set_seller", lambda: self.get_seller(seller_id),
            lambda current: decide_set_seller(current, seller_id=seller_id,
                                              charges_enabled=charges_enabled,
                                              now=self.clock.now(), cause=cause,
                                              **invoice_fields))
        return self.get_seller(seller_id)
