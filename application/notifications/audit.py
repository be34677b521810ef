"""Invariant 10 over the event store and the outbox: every e-mail the recorded events call
for (between where the feeder began and where it is) exists once in the outbox, and every outbox item is sent or
pending. Webhook deliveries depend on the subscriptions of their moment, so for them only
the second half is checked. The rules are ``checkout_saga.notifications``."""

from __future__ import annotations

from checkout_saga.checkout import fold_checkout
from checkout_saga.ids import CHECKOUT_PREFIX, parse_prefixed
from checkout_saga.notifications import (
    MailIntent,
    check_notifications,
    interesting,
    notifications_for,
)
from checkout_saga.order import fold_order
from events import codec
from events import order as order_events


def expected_mails(event_store, *, since: int, until: int, admin_email: str | None) -> list[MailIntent]:
    out: list[MailIntent] = []
    start = since + 1
    while True:
        notes = event_store.notifications(start, 1000)
        if not notes:
            return out
        for n in notes:
            if n.id > until:
                return out
            event = codec.decode(n.topic, n.state)
            if not interesting(event):
                continue
            order = checkout = None
            if type(event).__module__ == order_events.__name__:
                order = event_store.get(event.originator_id, fold_order,
                                        at_version=event.originator_version)
                sid = parse_prefixed(order.checkout_id, CHECKOUT_PREFIX) if order else None
                checkout = event_store.get(sid, fold_checkout) if sid else None
            else:
                checkout = event_store.get(event.originator_id, fold_checkout)
            out += [i for i in notifications_for(event, order=order, checkout=checkout,
                                                 admin_email=admin_email, endpoints={})
                    if isinstance(i, MailIntent)]
        start = notes[-1].id + 1


def verify(notifications, event_store, admin_email: str | None) -> list[str]:
    """Invariant 10's violations (empty: holds)."""
    feeder = notifications.feeder  # only what the feeder has read so far is expected
    expected = expected_mails(event_store, since=feeder.started_at(), until=feeder.position(),
                              admin_email=admin_email)
    return check_notifications(expected, notifications.outbox.rows())
