"""The ``ops_checkouts`` projection: every checkout's status and last error, for operators
looking for in-flight, processing or needs_attention checkouts. Statuses follow the Checkout
fold: a forward payment observation does not move a checkout that is compensating or ended."""

from __future__ import annotations

from checkout_saga.ids import checkout_id_of
from events import checkout as ev
from events.base import DomainEvent
from projections.base import Projection, Row, ts

ENDED = frozenset({"completed", "failed", "cancelled", "expired", "resolved"})
_FORWARD = {ev.PaymentDeclined: "awaiting_payment", ev.PaymentAwaitingMethod: "awaiting_payment",
            ev.PaymentActionRequired: "requires_action", ev.PaymentAuthorized: "processing"}
_TERMINAL = {ev.CheckoutCompleted: "completed", ev.CheckoutFailed: "failed",
             ev.CheckoutCancelled: "cancelled", ev.CheckoutExpired: "expired",
             ev.CheckoutResolved: "resolved"}


def _key(event: DomainEvent) -> str | None:
    return checkout_id_of(event.originator_id) if type(event).__module__ == ev.__name__ else None


def _changes(row: Row, e: DomainEvent) -> dict:
    kind = type(e)
    if kind in _FORWARD:
        settled = row["compensating"] or row["status"] in ENDED or row["status"] == "needs_attention"
        changes = {} if settled else {"status": _FORWARD[kind]}
        if isinstance(e, ev.PaymentDeclined):
            changes["last_error"] = f"{e.code}: {e.message}"
        return changes
    if kind in _TERMINAL:
        return {"status": _TERMINAL[kind], "compensating": 0}
    match e:
        case ev.CompensationStarted():
            return {"status": "processing", "compensating": 1, "last_error": e.reason}
        case ev.CompensationAbandoned():
            return {"status": "processing", "compensating": 0}
        case ev.CompensationStepFailed():
            return {"last_error": f"{e.step}: {e.error}"}
        case ev.PaymentStepOutcomeUnknown():
            return {"last_error": f"{e.step}: {e.reason}"}
        case ev.CheckoutNeedsAttention():
            return {"status": "needs_attention", "last_error": f"{e.step}: {e.reason}"}
        case ev.OperatorRetryRequested():
            return {"status": "processing"}
    return {}


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    at = ts(e.occurred_at)
    if isinstance(e, ev.CheckoutStarted):
        return row if row is not None else {
            "checkout_id": _key(e), "status": "processing", "compensating": 0, "last_error": None,
            "created_at": at, "updated_at": at}
    if row is None:
        return None
    return {**row, **_changes(row, e), "updated_at": at}


OPS_CHECKOUTS = Projection(
    name="ops_checkouts", key_column="checkout_id",
    columns=("checkout_id", "status", "compensating", "last_error", "created_at", "updated_at"),
    json_columns=frozenset(), key=_key, apply=apply)
