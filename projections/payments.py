"""The ``payments`` projection (CONTRACT §3.10): one row per checkout's payment, keyed
``pay_<order stream>`` so that the checkout's events (the intent) and the order's events
(refunds, disputes) reach the same row. A row is made when the checkout starts and is shown
once it has a payment intent.

Handlers are looked up by event type in ``HANDLERS``: a new event that tells something about
a payment is one more entry; every other event is ignored."""

from __future__ import annotations

from collections.abc import Callable

from checkout_saga.ids import checkout_id_of, order_stream
from events import checkout as chk
from events import order as ord_
from events.base import DomainEvent
from projections.base import Projection, Row, ts

PAYMENT_PREFIX = "pay_"
OPEN_DISPUTE = frozenset({"open", "needs_response", "under_review", "warning_needs_response",
                          "warning_under_review"})
# Stripe's intent statuses as the payment shows them
_INTENT_STATUS = {"requires_action": "requires_action", "requires_capture": "authorized",
                  "succeeded": "succeeded", "canceled": "canceled"}

COLUMNS = ("payment_id", "order_id", "checkout_id", "customer_id", "payment_intent_id", "status",
           "intent_status", "amount", "amount_captured", "amount_refunded", "currency", "card",
           "charge_id", "fee", "refunds", "disputes", "declines", "authorized", "started_at",
           "created_at", "captured_at", "paid_at", "completed_at", "updated_at")


def payment_id_of_order(order_id: str) -> str:
    return PAYMENT_PREFIX + order_id.removeprefix("ord_")


def _order_hex(e: DomainEvent) -> str:
    if type(e).__module__ == chk.__name__:
        return order_stream(e.originator_id).hex
    return e.originator_id.hex


def _key(e: DomainEvent) -> str | None:
    if type(e).__module__ not in (chk.__name__, ord_.__name__):
        return None
    if type(e) not in HANDLERS and type(e) not in CREATORS and not _card_of(e):
        return None
    return PAYMENT_PREFIX + _order_hex(e)


def _card_of(e: DomainEvent) -> dict | None:
    """Tolerant of events that learn the card (a saved method, a charge): any checkout or
    order event with ``card_brand`` and ``card_last4`` (or a ``card`` with brand/last4)."""
    card = getattr(e, "card", None)
    brand = getattr(e, "card_brand", None) or getattr(card, "brand", None)
    last4 = getattr(e, "card_last4", None) or getattr(card, "last4", None)
    if isinstance(brand, str) and isinstance(last4, str):
        return {"brand": brand, "last4": last4}
    return None


def _new_row(e: DomainEvent, *, customer_id, currency: str, amount: int) -> Row:
    order_hex = _order_hex(e)
    at = ts(e.occurred_at)
    row = dict.fromkeys(COLUMNS)
    row.update(payment_id=PAYMENT_PREFIX + order_hex, order_id=f"ord_{order_hex}",
               customer_id=customer_id, currency=currency, amount=amount, amount_captured=0,
               amount_refunded=0, intent_status="requires_payment_method", refunds={}, disputes={},
               declines=0, authorized=0, started_at=at, updated_at=at)
    if type(e).__module__ == chk.__name__:
        row["checkout_id"] = checkout_id_of(e.originator_id)
    return row


def _started(row: Row | None, e: chk.CheckoutStarted) -> Row:
    if row is not None:
        return row
    return _new_row(e, customer_id=e.customer_id, currency=e.currency, amount=e.amount_total)


def _placed(row: Row | None, e: ord_.OrderPlaced) -> Row:
    base = row or _new_row(e, customer_id=e.customer_id, currency=e.currency, amount=e.amount_total)
    return {**base, "checkout_id": base["checkout_id"] or e.checkout_id}


def _intent(status: str) -> Callable[[Row, DomainEvent], dict]:
    def changes(row: Row, e: DomainEvent) -> dict:
        found = {"intent_status": status}
        intent = getattr(e, "payment_intent_id", None)
        if intent:
            found["payment_intent_id"] = intent
            if row["created_at"] is None:
                found["created_at"] = ts(e.occurred_at)
        return found
    return changes


def _intent_created(row: Row, e: chk.PaymentIntentCreated) -> dict:
    return _intent(_INTENT_STATUS.get(e.status, "requires_payment_method"))(row, e)


def _declined(row: Row, e: chk.PaymentDeclined) -> dict:
    return {**_intent("requires_payment_method")(row, e), "declines": row["declines"] + 1}


def _authorized(row: Row, e: chk.PaymentAuthorized) -> dict:
    return {**_intent("authorized")(row, e), "authorized": 1}


def _captured(row: Row, e: chk.PaymentCaptured) -> dict:
    return {**_intent("succeeded")(row, e), "amount_captured": e.amount_received,
            "charge_id": e.charge_id, "captured_at": ts(e.occurred_at)}


def _cancelled(row: Row, e: chk.PaymentIntentCancelled) -> dict:
    if row["intent_status"] == "succeeded":
        return {}
    return _intent("failed" if row["declines"] and not row["authorized"] else "canceled")(row, e)


def _paid(row: Row, e: ord_.OrderPaid) -> dict:
    changes = {"paid_at": ts(e.occurred_at), "charge_id": row["charge_id"] or e.charge_id}
    if row["intent_status"] != "succeeded":
        changes.update(intent_status="succeeded", amount_captured=e.amount_captured,
                       captured_at=row["captured_at"] or ts(e.occurred_at))
    return changes


def _refund(status: str) -> Callable[[Row, DomainEvent], dict]:
    def changes(row: Row, e: DomainEvent) -> dict:
        old = row["refunds"].get(e.refund_id) or {
            "refund_id": e.refund_id, "amount": getattr(e, "amount", 0), "reason": None,
            "source": "api", "created_at": ts(e.occurred_at)}
        new = {**old, "status": status, "updated_at": ts(e.occurred_at)}
        for field in ("reason", "requested_by", "approved_by", "provider_refund_id"):
            if getattr(e, field, None) is not None:
                new[field] = getattr(e, field)
        if isinstance(e, ord_.RefundRequested) and e.awaiting_approval:
            new["status"] = "pending_approval"
        if isinstance(e, ord_.RefundRecordedExternally):
            new["source"] = "stripe"
        refunds = {**row["refunds"], e.refund_id: new}
        refunded = sum(r["amount"] for r in refunds.values() if r["status"] == "succeeded")
        return {"refunds": refunds, "amount_refunded": refunded}
    return changes


def _dispute_opened(row: Row, e: ord_.DisputeOpened) -> dict:
    dispute = {"dispute_id": e.dispute_id, "amount": e.amount, "reason": e.reason,
               "status": "needs_response", "opened_at": ts(e.occurred_at), "closed_at": None}
    return {"disputes": {**row["disputes"], e.dispute_id: dispute}}


def _dispute_closed(row: Row, e: ord_.DisputeClosed) -> dict:
    old = row["disputes"].get(e.dispute_id) or {
        "dispute_id": e.dispute_id, "amount": getattr(e, "amount", None) or 0, "reason": None,
        "opened_at": None}
    dispute = {**old, "status": e.status, "closed_at": ts(e.occurred_at)}
    return {"disputes": {**row["disputes"], e.dispute_id: dispute}}


def _completed(row: Row, e: chk.CheckoutCompleted) -> dict:
    return {"completed_at": ts(e.occurred_at)}


def _fee(row: Row, e: chk.PaymentFeeRecorded) -> dict:
    return {"fee": e.fee}


def payment_status(row: Row) -> str:
    """What the payment is, as CONTRACT §3.10 names it: a dispute that is open (or lost)
    shows ``disputed``; a captured payment shows how much of it was refunded."""
    if any(d["status"] in OPEN_DISPUTE or d["status"] == "lost" for d in row["disputes"].values()):
        return "disputed"
    status = row["intent_status"]
    if status == "succeeded" and row["amount_refunded"] > 0:
        return "refunded" if row["amount_refunded"] >= row["amount_captured"] else "partially_refunded"
    return status


HANDLERS: dict[type[DomainEvent], Callable[[Row, DomainEvent], dict]] = {
    chk.PaymentIntentCreated: _intent_created,
    chk.PaymentDeclined: _declined,
    chk.PaymentActionRequired: _intent("requires_action"),
    chk.PaymentAwaitingMethod: _intent("requires_payment_method"),
    chk.PaymentAuthorized: _authorized,
    chk.PaymentCaptured: _captured,
    chk.PaymentFeeRecorded: _fee,
    chk.PaymentIntentCancelled: _cancelled,
    chk.CheckoutCompleted: _completed,
    ord_.OrderPaid: _paid,
    ord_.RefundRequested: _refund("pending"),
    ord_.RefundApproved: _refund("pending"),
    ord_.RefundRejected: _refund("rejected"),
    ord_.RefundSubmitted: _refund("pending"),
    ord_.RefundSucceeded: _refund("succeeded"),
    ord_.RefundFailed: _refund("failed"),
    ord_.RefundRecordedExternally: _refund("succeeded"),
    ord_.DisputeOpened: _dispute_opened,
    ord_.DisputeClosed: _dispute_closed,
}
CREATORS = {chk.CheckoutStarted: _started, ord_.OrderPlaced: _placed}


def apply(row: Row | None, e: DomainEvent) -> Row | None:
    creator = CREATORS.get(type(e))
    if creator is not None:
        row = creator(row, e)
    elif row is None:
        return None
    else:
        handler = HANDLERS.get(type(e))
        changes = handler(row, e) if handler is not None else {}
        card = _card_of(e)
        if card is not None:
            changes["card"] = card
        row = {**row, **changes}
    return {**row, "status": payment_status(row), "updated_at": ts(e.occurred_at)}


PAYMENTS = Projection(name="payments", key_column="payment_id", columns=COLUMNS,
                      json_columns=frozenset({"card", "refunds", "disputes"}), key=_key,
                      apply=apply)

