"""The states one checkout's decisions need: the checkout, its SKUs' inventory, its order.

After a successful append the next states are known without reading them back: the append
succeeded only because no one else wrote those streams since they were read, so folding
our own events onto what we read is exactly what is stored. Anything written by someone
else afterwards makes our next append conflict, and the context is then reloaded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from uuid import UUID

from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.ids import inventory_stream, order_stream
from checkout_saga.inventory import InventoryState, fold_inventory
from checkout_saga.order import OrderState, fold_order
from events.base import DomainEvent


@dataclass(frozen=True)
class SagaContext:
    checkout_sid: UUID
    checkout: CheckoutState | None
    inventory: dict[str, InventoryState | None] = field(default_factory=dict)
    order: OrderState | None = None

    def advanced(self, events: Iterable[DomainEvent]) -> SagaContext:
        events = list(events)
        order_sid = order_stream(self.checkout_sid)
        checkout = fold_checkout(self.checkout, [e for e in events if e.originator_id == self.checkout_sid])
        order_events = [e for e in events if e.originator_id == order_sid]
        order = fold_order(self.order, order_events) if order_events else self.order
        inventory = dict(self.inventory)
        for sku, item in self.inventory.items():
            sid = item.id if item is not None else inventory_stream(sku)
            own = [e for e in events if e.originator_id == sid]
            if own:
                inventory[sku] = fold_inventory(item, own)
        return replace(self, checkout=checkout, inventory=inventory, order=order)
