"""The due-work index: one row per checkout with the next moment the worker must resume it,
and likewise one per order with a refund whose Stripe outcome never came and one per Stripe
event recorded but not yet applied (its re-read at Stripe failed). The key column is named
``checkout_id`` for history; it holds the owner's id: ``chk_…``, ``ord_…`` or ``evt_…``.

Deadlines are data in the checkout streams (``CheckoutStarted.expires_at``, retry times,
intentions without outcome); this table is a cache of them, rebuilt from the event store:
``index()`` reads the notifications after its tracked position, folds each touched checkout
and writes ``checkout_saga.timers.due_for`` of it. Rows carry the stream version they were
computed from and an older version never overwrites a newer one, so several indexers (one
per process) may run at once; the tracking position makes a crash lose nothing.

Claiming is ``SELECT … FOR UPDATE SKIP LOCKED`` plus a lease (``claimed_until``), on
PostgreSQL; SQLite's single writer (BEGIN IMMEDIATE) gives the same. Chosen over advisory
locks because (1) the sweep must find due rows in deadline order anyway, so the table is
needed and row locks come with it; (2) the lock is held only for the claiming transaction,
never across a Stripe call, so no connection or transaction stays open for seconds; (3) the
lease survives the claimer's connection: a worker killed mid-resume leaves a row that any
other worker reclaims once the lease lapses, where a session advisory lock would need the
pool to drop exactly that connection. A claim prevents two workers from resuming one checkout
at once; the saga's optimistic concurrency stays the arbiter if anything else races it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from adapters.read_database import ReadDatabase
from checkout_saga.checkout import fold_checkout
from checkout_saga.ids import (
    CHECKOUT_PREFIX,
    ORDER_PREFIX,
    checkout_id_of,
    parse_prefixed,
    stripe_event_stream,
)
from checkout_saga.order import fold_order
from checkout_saga.stripe_events import fold_inbox
from checkout_saga.timers import RECOVERY_GRACE, Due, due_for, due_for_inbox, due_for_order
from events import checkout as ev
from events import codec
from events import order as ord_ev
from events import stripe_inbox as inbox_ev
from projections import store as tracking
from projections.base import ts

log = structlog.get_logger("due_work")

TRACKING_NAME = "due_work"
IDLE_RETRY = timedelta(seconds=30)


@dataclass(frozen=True)
class Owner:
    """One kind of stream the worker resumes: how to fold it, name it and find its deadline."""

    module: str
    fold: Callable[..., Any]
    key: Callable[[Any], str]
    due: Callable[..., Due | None]
    stream_of: Callable[[str], UUID | None]


CHECKOUTS = Owner(ev.__name__, fold_checkout, lambda s: checkout_id_of(s.id), due_for,
                  lambda key: parse_prefixed(key, CHECKOUT_PREFIX))
ORDERS = Owner(ord_ev.__name__, fold_order, lambda s: s.order_id, due_for_order,
               lambda key: parse_prefixed(key, ORDER_PREFIX))
INBOX = Owner(inbox_ev.__name__, fold_inbox, lambda s: s.received.event_id, due_for_inbox,
              stripe_event_stream)
OWNERS = {o.module: o for o in (CHECKOUTS, ORDERS, INBOX)}


def owner_of(key: str) -> Owner:
    if key.startswith(CHECKOUT_PREFIX):
        return CHECKOUTS
    return ORDERS if key.startswith(ORDER_PREFIX) else INBOX


def _dt(value: str | None) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if value else None


class DueWork:
    def __init__(self, db: ReadDatabase, event_store, *, batch: int = 500,
                 lease: timedelta = timedelta(seconds=60),
                 recovery_grace: timedelta = RECOVERY_GRACE,
                 on_events=None) -> None:
        self.db = db
        self.event_store = event_store
        self.batch = batch
        self.lease = lease
        self.recovery_grace = recovery_grace
        self.on_events = on_events  # called with each indexed batch's events (metrics, alerts)

    # --- maintaining the index ---------------------------------------------------------

    def ensure(self) -> None:
        with self.db.write() as tx:
            tracking.ensure_tracking(tx, [TRACKING_NAME])

    def index(self) -> int:
        """Catch up with the event store; returns how many notifications were read."""
        total = 0
        while True:
            n = self._index_batch()
            if n == 0:
                return total
            total += max(n, 0)

    def _index_batch(self) -> int:
        with self.db.autocommit() as tx:  # idle, this and one notifications query is all
            seen = tracking.positions(tx, [TRACKING_NAME])[TRACKING_NAME]
        notes = self.event_store.notifications(seen + 1, self.batch)
        if not notes:
            return 0
        events = [codec.decode(n.topic, n.state) for n in notes]
        touched = {(e.originator_id, OWNERS[type(e).__module__]) for e in events
                   if type(e).__module__ in OWNERS}
        states = [(owner, s) for sid, owner in touched
                  if (s := self.event_store.get(sid, owner.fold)) is not None
                  and (owner is not INBOX or s.received is not None)]
        with self.db.write() as tx:
            tracking.ensure_tracking(tx, [TRACKING_NAME])
            if tracking.positions(tx, [TRACKING_NAME], lock=True)[TRACKING_NAME] != seen:
                return -1  # another indexer moved on meanwhile; read again from its position
            self._write(tx, states)
            tracking.set_position(tx, [TRACKING_NAME], notes[-1].id)
        if self.on_events is not None:
            self.on_events(events)
        return len(notes)

    def rebuild(self) -> int:
        """Forget the index and build it again from the first event."""
        with self.db.write() as tx:
            tracking.ensure_tracking(tx, [TRACKING_NAME])
            tx.execute("DELETE FROM due_work")
            tracking.set_position(tx, [TRACKING_NAME], 0)
        on_events, self.on_events = self.on_events, None  # old events are not news
        try:
            return self.index()
        finally:
            self.on_events = on_events

    def _row(self, owner: Owner, s, *, not_before: datetime | None = None) -> tuple:
        due = owner.due(s, recovery_grace=self.recovery_grace)
        at = due.at if due else None
        if at is not None and not_before is not None and at < not_before:
            at = not_before  # resumed and still due: try again later, not in a hot loop
        return (owner.key(s), ts(at), due.reason if due else None, s.version,
                ts(datetime.now(UTC)))

    def _write(self, tx, states: list[tuple[Owner, Any]], *, release: bool = False,
               not_before: datetime | None = None) -> None:
        claim = ", claimed_by = NULL, claimed_until = NULL" if release else ""
        tx.executemany(
            "INSERT INTO due_work (checkout_id, due_at, reason, version, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (checkout_id) DO UPDATE SET "
            "due_at = excluded.due_at, reason = excluded.reason, version = excluded.version, "
            f"updated_at = excluded.updated_at{claim} WHERE due_work.version <= excluded.version",
            sorted(self._row(o, s, not_before=not_before) for o, s in states))

    # --- claiming ---------------------------------------------------------------------

    def claim(self, owner: str, now: datetime, limit: int = 50) -> list[tuple[str, str]]:
        """Due checkouts nobody holds, now held by ``owner`` for the lease: [(id, reason)]."""
        now_s, until = ts(now), ts(now + self.lease)
        with self.db.autocommit() as tx:  # most ticks find nothing: one round trip, no lock
            if tx.fetchone("SELECT checkout_id FROM due_work WHERE due_at <= ? AND "
                           "(claimed_until IS NULL OR claimed_until < ?) LIMIT 1",
                           (now_s, now_s)) is None:
                return []
        with self.db.write() as tx:
            lock = " FOR UPDATE SKIP LOCKED" if tx.is_postgres else ""
            rows = tx.fetchall(
                "SELECT checkout_id, reason FROM due_work WHERE due_at <= ? AND "
                "(claimed_until IS NULL OR claimed_until < ?) ORDER BY due_at LIMIT ?" + lock,
                (now_s, now_s, limit))
            tx.executemany("UPDATE due_work SET claimed_by = ?, claimed_until = ? "
                           "WHERE checkout_id = ?", [(owner, until, r["checkout_id"]) for r in rows])
        return [(r["checkout_id"], r["reason"]) for r in rows]

    def state_of(self, key: str):
        """The folded stream behind a due-work key (a checkout, an order, a Stripe event)."""
        owner = owner_of(key)
        sid = owner.stream_of(key)
        state = self.event_store.get(sid, owner.fold) if sid else None
        return None if owner is INBOX and state is not None and state.received is None else state

    def settle(self, checkout_id: str, now: datetime, version_before: int | None = None):
        """After a resume: the owner's fresh deadline, and the claim released. A resume
        that recorded nothing (still due) is tried again after ``IDLE_RETRY``, not at once."""
        state = self.state_of(checkout_id)
        with self.db.write() as tx:
            if state is None:
                tx.execute("DELETE FROM due_work WHERE checkout_id = ?", (checkout_id,))
            else:
                idle = version_before is None or state.version == version_before
                self._write(tx, [(owner_of(checkout_id), state)], release=True,
                            not_before=now + IDLE_RETRY if idle else None)
        return state

    # --- reading ------------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        with self.db.autocommit() as tx:
            row = tx.fetchone("SELECT MIN(due_at) AS at FROM due_work WHERE due_at IS NOT NULL")
        return _dt(row["at"]) if row else None

    def pending(self) -> dict[str, int]:
        """How many checkouts wait on each kind of deadline."""
        with self.db.read() as tx:
            rows = tx.fetchall("SELECT reason, COUNT(*) AS n FROM due_work "
                               "WHERE due_at IS NOT NULL GROUP BY reason")
        return {r["reason"]: int(r["n"]) for r in rows}

    def rows(self) -> dict[str, tuple[datetime | None, str | None]]:
        with self.db.read() as tx:
            rows = tx.fetchall("SELECT checkout_id, due_at, reason FROM due_work")
        return {r["checkout_id"]: (_dt(r["due_at"]), r["reason"]) for r in rows}
