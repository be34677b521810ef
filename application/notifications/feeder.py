"""Feeding the outbox from the event store: a follower of the event store's notification log
with its position tracked in the read database (``projection_tracking``, name
``notifications``). Each batch reads the events after the position, works out the
notifications they cause (``checkout_saga.notifications``) and, in one transaction that first
checks nobody moved the position meanwhile, records them and moves the position. A crash
between batches loses nothing; a batch applied twice records nothing twice (ids are keys).

Why not the library's ``ProcessApplication``/``Follower``: they record a process's output
as new *events* in the follower's own recorder, with the tracking row in that recorder.
Outbox items are not facts but work with mutable delivery state (attempts, last error,
next attempt, lease) that ``/ops/outbox`` filters by status; as event streams every retry
would be an event and every status query a projection of them. The project already follows
the notification log with tracking in the read database (``projections.runner``,
``application.due_work``); the outbox is one more such follower, and its rows share the
tracking row's transaction, which is what makes recording exactly-once."""

from __future__ import annotations

import structlog

from adapters.read_database import ReadDatabase
from application.notifications.endpoints import WebhookEndpoints
from application.notifications.outbox import Outbox
from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.ids import CHECKOUT_PREFIX, parse_prefixed
from checkout_saga.notifications import interesting, notifications_for
from checkout_saga.order import OrderState, fold_order
from events import codec
from events import order as order_events
from projections import store as tracking

log = structlog.get_logger("notifications")

TRACKING_NAME = "notifications"
START_NAME = "notifications__start"  # where the feeder began (the audit expects nothing before)


class OutboxFeeder:
    def __init__(self, db: ReadDatabase, event_store, *, admin_email: str | None,
                 clock, batch: int = 500) -> None:
        self.db = db
        self.event_store = event_store
        self.admin_email = admin_email
        self.clock = clock
        self.batch = batch

    def ensure(self, *, from_head: bool = True) -> None:
        """Creates the position when there is none: at the current head by default, so a shop
        that turns notifications on does not mail its whole history; tests start at 0."""
        with self.db.write() as tx:
            if tx.fetchone("SELECT name FROM projection_tracking WHERE name = ?",
                           (TRACKING_NAME,)) is not None:
                return
            tracking.ensure_tracking(tx, [TRACKING_NAME, START_NAME])
            if from_head:
                head = self.event_store.max_notification_id()
                tracking.set_position(tx, [TRACKING_NAME, START_NAME], head)
                log.info("outbox_feeder_started_at_head", position=head)

    def started_at(self) -> int:
        with self.db.read() as tx:
            row = tx.fetchone("SELECT position FROM projection_tracking WHERE name = ?", (START_NAME,))
        return int(row["position"]) if row else 0

    def position(self) -> int:
        with self.db.read() as tx:
            return tracking.positions(tx, [TRACKING_NAME])[TRACKING_NAME]

    def catch_up(self) -> int:
        """Records the notifications of every event recorded so far; returns events read."""
        total = 0
        while True:
            n = self._batch()
            if n == 0:
                return total
            total += max(n, 0)

    def _batch(self) -> int:
        seen = self.position()
        notes = self.event_store.notifications(seen + 1, self.batch)
        if not notes:
            return 0
        events = [e for e in (codec.decode(n.topic, n.state) for n in notes) if interesting(e)]
        streams = self._streams(events)
        now = self.clock.now()
        with self.db.write() as tx:
            tracking.ensure_tracking(tx, [TRACKING_NAME])
            if tracking.positions(tx, [TRACKING_NAME], lock=True)[TRACKING_NAME] != seen:
                return -1  # another feeder moved on meanwhile; read again from its position
            endpoints = WebhookEndpoints.subscriptions(tx)
            intents = [i for e in events for i in self._intents(e, streams, endpoints)]
            Outbox.record(tx, intents, now)
            tracking.set_position(tx, [TRACKING_NAME], notes[-1].id)
        if intents:
            log.info("outbox_recorded", notifications=len(intents), position=notes[-1].id)
        return len(notes)

    def _streams(self, events: list) -> dict:
        """The states the events concern: each order event's order as of that event (its
        facts), and the checkouts (the customer's address)."""
        states: dict = {}
        for e in events:
            sid = e.originator_id
            if type(e).__module__ == order_events.__name__:
                key = (sid, e.originator_version)
                order = states[key] = self.event_store.get(sid, fold_order,
                                                           at_version=e.originator_version)
                sid = parse_prefixed(order.checkout_id, CHECKOUT_PREFIX) if order else None
            if sid is not None and sid not in states:
                states[sid] = self.event_store.get(sid, fold_checkout)
        return states

    def _intents(self, event, streams: dict, endpoints: dict) -> list:
        order: OrderState | None = None
        if type(event).__module__ == order_events.__name__:
            order = streams.get((event.originator_id, event.originator_version))
            checkout = streams.get(parse_prefixed(order.checkout_id, CHECKOUT_PREFIX)) if order else None
        else:
            checkout = streams.get(event.originator_id)
        return notifications_for(
            event, order=order, checkout=checkout if isinstance(checkout, CheckoutState) else None,
            admin_email=self.admin_email, endpoints=endpoints)
