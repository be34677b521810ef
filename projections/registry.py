"""Every projection, by name, in the order they are built."""

from __future__ import annotations

from projections.base import Projection
from projections.inventory import INVENTORY_LEVELS
from projections.ledger import PAYMENTS_LEDGER
from projections.ops import OPS_CHECKOUTS
from projections.orders import ORDERS
from projections.payments import PAYMENTS
from projections.refund_index import REFUND_INDEX
from projections.transactions import TRANSACTIONS

PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (ORDERS, INVENTORY_LEVELS, PAYMENTS_LEDGER, OPS_CHECKOUTS,
                        PAYMENTS, TRANSACTIONS, REFUND_INDEX)
}
