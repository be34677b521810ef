"""The due-work index: one row per checkout with the next moment the worker must resume it.

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

from datetime import UTC, datetime, timedelta

import structlog

from adapters.read_database import ReadDatabase
from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.ids import CHECKOUT_PREFIX, checkout_id_of, parse_prefixed
from checkout_saga.timers import RECOVERY_GRACE, due_for
from events import checkout as ev
from events import codec
from projections import store as tracking
from projections.base import ts

log = structlog.get_logger("due_work")

TRACKING_NAME = "due_work"
IDLE_RETRY = timedelta(seconds=30)
_EVENT_MODULE = ev.__name__


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
        with self.db.read() as tx:
            seen = tracking.positions(tx, [TRACKING_NAME])[TRACKING_NAME]
        notes = self.event_store.notifications(seen + 1, self.batch)
        if not notes:
            return 0
        events = [codec.decode(n.topic, n.state) for n in notes]
        sids = {e.originator_id for e in events if type(e).__module__ == _EVENT_MODULE}
        states = [s for s in (self.event_store.get(sid, fold_checkout) for sid in sids) if s]
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

    def _row(self, s: CheckoutState, *, not_before: datetime | None = None) -> tuple:
        due = due_for(s, recovery_grace=self.recovery_grace)
        at = due.at if due else None
        if at is not None and not_before is not None and at < not_before:
            at = not_before  # resumed and still due: try again later, not in a hot loop
        return (checkout_id_of(s.id), ts(at), due.reason if due else None, s.version,
                ts(datetime.now(UTC)))

    def _write(self, tx, states: list[CheckoutState], *, release: bool = False,
               not_before: datetime | None = None) -> None:
        claim = ", claimed_by = NULL, claimed_until = NULL" if release else ""
        tx.executemany(
            "INSERT INTO due_work (checkout_id, due_at, reason, version, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (checkout_id) DO UPDATE SET "
            "due_at = excluded.due_at, reason = excluded.reason, version = excluded.version, "
            f"updated_at = excluded.updated_at{claim} WHERE due_work.version <= excluded.version",
            [self._row(s, not_before=not_before) for s in sorted(states, key=lambda s: s.id)])

    # --- claiming ---------------------------------------------------------------------

    def claim(self, owner: str, now: datetime, limit: int = 50) -> list[tuple[str, str]]:
        """Due checkouts nobody holds, now held by ``owner`` for the lease: [(id, reason)]."""
        now_s, until = ts(now), ts(now + self.lease)
        with self.db.read() as tx:  # most ticks find nothing: no write lock for those
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

    def settle(self, checkout_id: str, now: datetime,
               version_before: int | None = None) -> CheckoutState | None:
        """After a resume: the checkout's fresh deadline, and the claim released. A resume
        that recorded nothing (still due) is tried again after ``IDLE_RETRY``, not at once."""
        sid = parse_prefixed(checkout_id, CHECKOUT_PREFIX)
        state = self.event_store.get(sid, fold_checkout) if sid else None
        with self.db.write() as tx:
            if state is None:
                tx.execute("DELETE FROM due_work WHERE checkout_id = ?", (checkout_id,))
            else:
                idle = version_before is None or state.version == version_before
                self._write(tx, [state], release=True,
                            not_before=now + IDLE_RETRY if idle else None)
        return state

    # --- reading ------------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        with self.db.read() as tx:
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
