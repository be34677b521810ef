"""What the outside world is told, and when (CONTRACT §3.11, invariant 10). Pure rules:
which domain events cause which notifications, each notification's identity (derived from
its causing event, so a replay, a redelivered webhook or a restart can only find the same
one), the webhook event types, and the retry schedule. The outbox (application layer)
records what these rules return and sends it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid5

import msgspec

from checkout_saga.checkout import CheckoutState
from checkout_saga.ids import NAMESPACE, checkout_id_of
from checkout_saga.order import OrderState
from events.base import DomainEvent

# The outbound webhook event types a shop's endpoint may subscribe to (CONTRACT §3.11).
WEBHOOK_EVENT_TYPES = ("order.paid", "order.refunded", "order.cancelled", "order.shipped",
                       "order.delivered", "dispute.opened", "checkout.needs_attention")

# Domain event (class name) -> webhook event type. Extend as events appear: the fulfilment
# work adds e.g. "OrderShipped": "order.shipped" and "OrderDelivered": "order.delivered".
WEBHOOK_TYPE_OF_EVENT: dict[str, str] = {
    "OrderPaid": "order.paid",
    "RefundSucceeded": "order.refunded",
    "RefundRecordedExternally": "order.refunded",
    "OrderCancelled": "order.cancelled",
    "DisputeOpened": "dispute.opened",
    "CheckoutNeedsAttention": "checkout.needs_attention",
}

# Fulfilment moves are one event type; the status it moved to names the webhook type.
WEBHOOK_TYPE_OF_FULFILMENT: dict[str, str] = {"shipped": "order.shipped",
                                              "delivered": "order.delivered"}


def webhook_type_of(event: DomainEvent) -> str | None:
    name = type(event).__name__
    if name == "FulfillmentUpdated":
        return WEBHOOK_TYPE_OF_FULFILMENT.get(getattr(event, "status", ""))
    return WEBHOOK_TYPE_OF_EVENT.get(name)

# Domain event (class name) -> the e-mail template sent to the customer.
CUSTOMER_MAIL_OF_EVENT: dict[str, str] = {
    "OrderPaid": "order_confirmation",
    "RefundSucceeded": "refund_issued",
    "RefundRecordedExternally": "refund_issued",
}

# Domain event (class name) -> the operator alert template (sent to the admin address).
ADMIN_ALERT_OF_EVENT: dict[str, str] = {
    "DisputeOpened": "dispute_opened_alert",
    "CheckoutNeedsAttention": "checkout_needs_attention_alert",
}

OUTBOX_GAVE_UP_TEMPLATE = "outbox_gave_up_alert"

FIRST_RETRY = timedelta(seconds=5)  # retries start within 10 s (jitter: 50–100 % of the step)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=3)

NOTIFICATION_PREFIX = "ntf_"
WEBHOOK_EVENT_PREFIX = "evt_"


class MailIntent(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    template: str
    to: str
    cause: str
    context: dict[str, Any]


class WebhookIntent(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the delivery (one per endpoint)
    event_id: str  # the webhook event's ``evt_`` id: the same for every endpoint and retry
    event_type: str
    endpoint: str
    cause: str
    created: int  # unix seconds of the causing event
    data: dict[str, Any]


def cause_of(event: DomainEvent) -> str:
    """A causing event's identity: its stream and version (the same on every replay)."""
    return f"{event.originator_id.hex}:{event.originator_version}"


def notification_id(cause: str, kind: str, recipient: str) -> str:
    return f"{NOTIFICATION_PREFIX}{uuid5(NAMESPACE, f'notification:{cause}:{kind}:{recipient}').hex}"


def webhook_event_id(cause: str, event_type: str) -> str:
    return f"{WEBHOOK_EVENT_PREFIX}{uuid5(NAMESPACE, f'webhook-event:{cause}:{event_type}').hex}"


def interesting(event: DomainEvent) -> bool:
    name = type(event).__name__
    return (webhook_type_of(event) is not None or name in CUSTOMER_MAIL_OF_EVENT
            or name in ADMIN_ALERT_OF_EVENT)


# --- what an event says, for mails and webhooks -----------------------------------------


def _order_data(order: OrderState) -> dict[str, Any]:
    return {"order_id": order.order_id, "order_number": order.order_number,
            "checkout_id": order.checkout_id, "status": order.status, "currency": order.currency,
            "amount_total": order.amount_total, "amount_captured": order.amount_captured,
            "amount_refunded": order.amount_refunded,
            "items": [{"sku": i.sku, "quantity": i.quantity, "unit_amount": i.unit_amount}
                      for i in order.items]}


def event_data(event: DomainEvent, order: OrderState | None,
               checkout: CheckoutState | None) -> dict[str, Any]:
    """The facts a notification may carry: ids, amounts, statuses. Never a client secret, a
    payment method or anything of a card."""
    name = type(event).__name__
    data: dict[str, Any] = {}
    if order is not None:
        data["order"] = _order_data(order)
    if name in ("RefundSucceeded", "RefundRecordedExternally"):
        data["refund"] = {"refund_id": event.refund_id, "amount": event.amount}  # type: ignore[attr-defined]
    elif name == "DisputeOpened":
        data["dispute"] = {"dispute_id": event.dispute_id, "amount": event.amount,  # type: ignore[attr-defined]
                           "reason": event.reason}  # type: ignore[attr-defined]
    elif name == "OrderCancelled":
        data["reason"] = event.reason  # type: ignore[attr-defined]
    elif name == "CheckoutNeedsAttention":
        data["checkout"] = {"checkout_id": checkout_id_of(event.originator_id),
                            "step": event.step, "reason": event.reason,  # type: ignore[attr-defined]
                            "order_id": checkout.order_id if checkout else None}
    return data


def notifications_for(event: DomainEvent, *, order: OrderState | None,
                      checkout: CheckoutState | None, admin_email: str | None,
                      endpoints: dict[str, tuple[str, ...]]) -> list[MailIntent | WebhookIntent]:
    """The notifications one recorded event causes. ``order``/``checkout`` are the streams the
    event concerns (for the customer's address and the facts); ``endpoints`` maps each
    webhook endpoint's name to the event types it subscribes to."""
    name = type(event).__name__
    cause = cause_of(event)
    data = event_data(event, order, checkout)
    out: list[MailIntent | WebhookIntent] = []
    template = CUSTOMER_MAIL_OF_EVENT.get(name)
    to = checkout.customer_email if checkout is not None else None
    if template and to and order is not None:
        out.append(MailIntent(id=notification_id(cause, f"email:{template}", to), template=template,
                              to=to, cause=cause, context=data))
    alert = ADMIN_ALERT_OF_EVENT.get(name)
    if alert and admin_email:
        out.append(MailIntent(id=notification_id(cause, f"email:{alert}", admin_email),
                              template=alert, to=admin_email, cause=cause, context=data))
    event_type = webhook_type_of(event)
    if event_type:
        for endpoint, types in sorted(endpoints.items()):
            if event_type in types:
                out.append(WebhookIntent(
                    id=notification_id(cause, f"webhook:{event_type}", endpoint),
                    event_id=webhook_event_id(cause, event_type), event_type=event_type,
                    endpoint=endpoint, cause=cause, created=int(event.occurred_at.timestamp()),
                    data=data))
    return out


# --- retrying ---------------------------------------------------------------------------


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failed send: 5 s doubling to at most 1 h, each
    scaled by 50–100 % (``jitter`` in [0, 1)) so that many failures do not retry in step."""
    step = min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20)), MAX_RETRY)
    return step * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


def gives_up(created_at: datetime, now: datetime) -> bool:
    return now - created_at >= GIVE_UP_AFTER


def gave_up_alert(item_id: str, kind: str, target: str, last_error: str | None,
                  admin_email: str | None) -> MailIntent | None:
    """The operator alert for an item given up; none for a given-up alert (no loop)."""
    if not admin_email:
        return None
    cause = f"outbox:{item_id}"
    return MailIntent(id=notification_id(cause, f"email:{OUTBOX_GAVE_UP_TEMPLATE}", admin_email),
                      template=OUTBOX_GAVE_UP_TEMPLATE, to=admin_email, cause=cause,
                      context={"item_id": item_id, "kind": kind, "target": target,
                               "last_error": last_error})


# --- invariant 10 ---------------------------------------------------------------------


class OutboxRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    cause: str
    status: str


def check_notifications(expected: list[MailIntent], rows: list[OutboxRow]) -> list[str]:
    """Invariant 10 over the e-mails the events call for and the outbox rows: each expected
    notification exists (once: ids are keys), and every row is sent or pending."""
    by_id = {r.id: r for r in rows}
    problems = [f"{m.id}: no outbox item for {m.template} to the cause {m.cause}"
                for m in expected if m.id not in by_id]
    problems += [f"{r.id}: {r.status}" for r in rows if r.status not in ("sent", "pending")]
    return problems
