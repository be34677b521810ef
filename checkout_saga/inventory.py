"""The InventoryItem aggregate: one per SKU.

on_hand counts units in the warehouse not yet sold; reserved is held for checkouts;
available = on_hand - reserved never goes below zero; on_hand + sold = Σ adjustments.
Every operation is keyed by checkout id (or refund id), so repeating it changes nothing.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from checkout_saga.state import State, advanced, make_fold
from events.inventory import (
    ReservationCommitted,
    ReservationReleased,
    SaleReversed,
    StockAdjusted,
    UnitsReserved,
    UnitsRestocked,
)


class Reservation(msgspec.Struct, frozen=True):
    """Units held for one checkout (its deadline lives in the checkout's own stream)."""

    quantity: int


class InventoryState(State, frozen=True, kw_only=True):
    sku: str
    on_hand: int = 0
    reserved: int = 0
    sold: int = 0
    adjusted_total: int = 0
    reservations: dict[str, Reservation] = {}
    committed: dict[str, int] = {}  # checkout id -> units sold and not restocked/reversed
    restocked_refunds: frozenset[str] = frozenset()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def empty_inventory(stream_id, sku: str, at: datetime) -> InventoryState:
    return InventoryState(id=stream_id, version=0, created_at=at, updated_at=at, sku=sku)


def _base(state: InventoryState | None, e) -> InventoryState:
    return state if state is not None else empty_inventory(e.originator_id, e.sku, e.occurred_at)


def _adjusted(state: InventoryState | None, e: StockAdjusted) -> InventoryState:
    s = _base(state, e)
    return advanced(s, e, on_hand=s.on_hand + e.delta, adjusted_total=s.adjusted_total + e.delta)


def _reserved(state: InventoryState | None, e: UnitsReserved) -> InventoryState:
    s = _base(state, e)
    reservations = dict(s.reservations)
    reservations[e.checkout_id] = Reservation(e.quantity)
    return advanced(s, e, reserved=s.reserved + e.quantity, reservations=reservations)


def _released(state: InventoryState | None, e: ReservationReleased) -> InventoryState:
    s = _base(state, e)
    reservations = dict(s.reservations)
    reservations.pop(e.checkout_id, None)
    return advanced(s, e, reserved=s.reserved - e.quantity, reservations=reservations)


def _committed(state: InventoryState | None, e: ReservationCommitted) -> InventoryState:
    s = _base(state, e)
    reservations = dict(s.reservations)
    reservations.pop(e.checkout_id, None)
    committed = dict(s.committed)
    committed[e.checkout_id] = committed.get(e.checkout_id, 0) + e.quantity
    return advanced(
        s,
        e,
        reserved=s.reserved - e.quantity,
        on_hand=s.on_hand - e.quantity,
        sold=s.sold + e.quantity,
        reservations=reservations,
        committed=committed,
    )


def _returned(s: InventoryState, e, checkout_id: str, quantity: int, **extra) -> InventoryState:
    committed = dict(s.committed)
    left = committed.get(checkout_id, 0) - quantity
    if left > 0:
        committed[checkout_id] = left
    else:
        committed.pop(checkout_id, None)
    return advanced(
        s, e, on_hand=s.on_hand + quantity, sold=s.sold - quantity, committed=committed, **extra
    )


def _sale_reversed(state: InventoryState | None, e: SaleReversed) -> InventoryState:
    return _returned(_base(state, e), e, e.checkout_id, e.quantity)


def _restocked(state: InventoryState | None, e: UnitsRestocked) -> InventoryState:
    s = _base(state, e)
    return _returned(
        s, e, e.checkout_id, e.quantity, restocked_refunds=s.restocked_refunds | {e.refund_id}
    )


fold_inventory = make_fold(
    {
        StockAdjusted: _adjusted,
        UnitsReserved: _reserved,
        ReservationReleased: _released,
        ReservationCommitted: _committed,
        SaleReversed: _sale_reversed,
        UnitsRestocked: _restocked,
    }
)
