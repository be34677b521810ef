"""The ``payments_ledger`` projection: one row per authorization, capture, cancellation,
refund and dispute, keyed by the event that recorded it (so replaying it changes nothing)."""

from __future__ import annotations

from checkout_saga.ids import checkout_id_of, order_id_of
from events import checkout as chk
from events import order as ord_
from events.base import DomainEvent
from projections.base import Projection, Row, ts

_KINDS = {chk.PaymentAuthorized: "authorization", chk.PaymentCaptured: "capture",
          chk.PaymentIntentCancelled: "cancellation", ord_.RefundSucceeded: "refund",
          ord_.RefundFailed: "refund", ord_.RefundRecordedExternally: "refund",
          ord_.DisputeOpened: "dispute", ord_.DisputeClosed: "dispute"}

COLUMNS = ("entry_id", "kind", "status", "checkout_id", "order_id", "payment_intent_id",
           "charge_id", "refund_id", "provider_refund_id", "dispute_id", "amount", "occurred_at")


def _key(event: DomainEvent) -> str | None:
    if type(event) not in _KINDS:
        return None
    return f"{event.originator_id.hex}:{event.originator_version}"


def _fields(e: DomainEvent) -> dict:
    match e:
        case chk.PaymentAuthorized():
            return {"status": "authorized", "payment_intent_id": e.payment_intent_id,
                    "amount": e.amount_capturable}
        case chk.PaymentCaptured():
            return {"status": "succeeded", "payment_intent_id": e.payment_intent_id,
                    "charge_id": e.charge_id, "amount": e.amount_received}
        case chk.PaymentIntentCancelled():
            return {"status": "canceled", "payment_intent_id": e.payment_intent_id}
        case ord_.RefundRecordedExternally():
            return {"status": e.status, "refund_id": e.refund_id,
                    "provider_refund_id": e.provider_refund_id, "amount": e.amount}
        case ord_.RefundSucceeded():
            return {"status": "succeeded", "refund_id": e.refund_id,
                    "provider_refund_id": e.provider_refund_id, "amount": e.amount}
        case ord_.RefundFailed():
            return {"status": "failed", "refund_id": e.refund_id,
                    "provider_refund_id": e.provider_refund_id}
        case ord_.DisputeOpened():
            return {"status": "open", "dispute_id": e.dispute_id, "amount": e.amount}
        case ord_.DisputeClosed():
            return {"status": e.status, "dispute_id": e.dispute_id}
    raise TypeError(type(e).__name__)


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    if row is not None:
        return row
    owner = ({"checkout_id": checkout_id_of(e.originator_id)} if type(e).__module__ == chk.__name__
             else {"order_id": order_id_of(e.originator_id)})
    entry = dict.fromkeys(COLUMNS)
    entry.update(entry_id=_key(e), kind=_KINDS[type(e)], amount=0, occurred_at=ts(e.occurred_at),
                 **owner)
    entry.update(_fields(e))
    return entry


PAYMENTS_LEDGER = Projection(name="payments_ledger", key_column="entry_id", columns=COLUMNS,
                             json_columns=frozenset(), key=_key, apply=apply)
