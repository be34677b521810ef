"""The ``inventory_levels`` projection: one row per SKU (CONTRACT §3.3)."""

from __future__ import annotations

from events import inventory as ev
from events.base import DomainEvent
from projections.base import Projection, Row, ts

# (on_hand, reserved, sold) change per unit of the event's quantity
_MOVES: dict[type, tuple[int, int, int]] = {
    ev.UnitsReserved: (0, 1, 0),
    ev.ReservationReleased: (0, -1, 0),
    ev.ReservationCommitted: (-1, -1, 1),
    ev.SaleReversed: (1, 0, -1),
    ev.UnitsRestocked: (1, 0, -1),
}


def _key(event: DomainEvent) -> str | None:
    return event.sku if type(event).__module__ == ev.__name__ else None


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    base = row or {"sku": e.sku, "on_hand": 0, "reserved": 0, "available": 0, "sold": 0}
    if isinstance(e, ev.StockAdjusted):
        on_hand, reserved, sold = base["on_hand"] + e.delta, base["reserved"], base["sold"]
    else:
        d_on_hand, d_reserved, d_sold = _MOVES[type(e)]
        on_hand = base["on_hand"] + d_on_hand * e.quantity
        reserved = base["reserved"] + d_reserved * e.quantity
        sold = base["sold"] + d_sold * e.quantity
    return {**base, "on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved,
            "sold": sold, "updated_at": ts(e.occurred_at)}


INVENTORY_LEVELS = Projection(
    name="inventory_levels", key_column="sku",
    columns=("sku", "on_hand", "reserved", "available", "sold", "updated_at"),
    json_columns=frozenset(), key=_key, apply=apply)
