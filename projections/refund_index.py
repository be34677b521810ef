"""The ``refund_index`` projection: which order a refund id belongs to, so that
``/refunds/{refund_id}`` can load the order (the refund's state is read from the order's
stream, never from here)."""

from __future__ import annotations

from checkout_saga.ids import order_id_of
from events import order as ord_
from events.base import DomainEvent
from projections.base import Projection, Row, ts

_EVENTS = (ord_.RefundRequested, ord_.RefundRecordedExternally)


def _key(e: DomainEvent) -> str | None:
    return e.refund_id if isinstance(e, _EVENTS) else None


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    if row is not None:
        return row
    return {"refund_id": e.refund_id, "order_id": order_id_of(e.originator_id),
            "created_at": ts(e.occurred_at)}


REFUND_INDEX = Projection(name="refund_index", key_column="refund_id",
                          columns=("refund_id", "order_id", "created_at"),
                          json_columns=frozenset(), key=_key, apply=apply)
