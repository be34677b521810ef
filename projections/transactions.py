"""The ``transactions`` projection (CONTRACT §3.10): the money that moved, one row per event
that moved it — ``charge`` (a capture), ``fee`` (Stripe's fee from the charge's balance
transaction), ``refund`` (one that succeeded, made here or in Stripe's dashboard),
``chargeback`` (a dispute opened) and ``chargeback_reversal`` (a dispute won). Rows are keyed
by the event that recorded them, so a replay adds nothing twice.

A row keeps what its event says; what it does not say (the currency of a refund, the amount
of a won dispute) is read from the payment and the chargeback when the log is queried
(``projections.payment_queries``)."""

from __future__ import annotations

from collections.abc import Callable

from checkout_saga.ids import order_stream
from events import checkout as chk
from events import order as ord_
from events.base import DomainEvent
from projections.base import Projection, Row, ts
from projections.payments import PAYMENT_PREFIX

TYPES = ("charge", "refund", "chargeback", "chargeback_reversal", "fee")
COLUMNS = ("transaction_id", "type", "amount", "currency", "order_id", "payment_id",
           "payment_intent_id", "stripe_id", "created_at")


def _charge(e: chk.PaymentCaptured) -> dict:
    return {"type": "charge", "amount": e.amount_received, "stripe_id": e.charge_id,
            "payment_intent_id": e.payment_intent_id}


def _fee(e: chk.PaymentFeeRecorded) -> dict:
    return {"type": "fee", "amount": e.fee, "currency": e.currency,
            "stripe_id": e.balance_transaction_id or e.charge_id,
            "payment_intent_id": e.payment_intent_id}


def _refund(e: ord_.RefundSucceeded | ord_.RefundRecordedExternally) -> dict:
    return {"type": "refund", "amount": e.amount, "stripe_id": e.provider_refund_id}


def _chargeback(e: ord_.DisputeOpened) -> dict:
    return {"type": "chargeback", "amount": e.amount, "stripe_id": e.dispute_id}


def _dispute_closed(e: ord_.DisputeClosed) -> dict | None:
    if e.status != "won":
        return None  # lost: the money went at the chargeback; nothing moves now
    return {"type": "chargeback_reversal", "amount": getattr(e, "amount", None),
            "stripe_id": e.dispute_id}


ROWS: dict[type[DomainEvent], Callable[[DomainEvent], dict | None]] = {
    chk.PaymentCaptured: _charge,
    chk.PaymentFeeRecorded: _fee,
    ord_.RefundSucceeded: _refund,
    ord_.RefundRecordedExternally: _refund,
    ord_.DisputeOpened: _chargeback,
    ord_.DisputeClosed: _dispute_closed,
}


def _key(e: DomainEvent) -> str | None:
    if type(e) not in ROWS:
        return None
    return f"txn_{e.originator_id.hex}_{e.originator_version}"


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    if row is not None:
        return row  # recorded once, never changed
    fields = ROWS[type(e)](e)
    if fields is None:
        return None
    order_hex = order_stream(e.originator_id).hex if type(e).__module__ == chk.__name__ \
        else e.originator_id.hex
    entry = dict.fromkeys(COLUMNS)
    entry.update(transaction_id=_key(e), order_id=f"ord_{order_hex}",
                 payment_id=PAYMENT_PREFIX + order_hex, created_at=ts(e.occurred_at), **fields)
    return entry


TRANSACTIONS = Projection(name="transactions", key_column="transaction_id", columns=COLUMNS,
                          json_columns=frozenset(), key=_key, apply=apply)
