"""``ReadModels``: the read side as the API and the worker use it — migrate, catch up
(synchronously or in a background thread), query, and report lag."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from adapters.database import DatabaseConfig
from adapters.event_store import APPLICATION_NAME, EventsourcingStore
from adapters.read_database import ReadDatabase
from events import codec
from projections import queries, store
from projections.listener import PostgresWaker, SleepWaker, channel_for
from projections.registry import PROJECTIONS
from projections.runner import DEFAULT_BATCH, Target, catch_up

log = structlog.get_logger(__name__)

DEFAULT_FALLBACK_POLL = 2.0


class ReadModels:
    def __init__(self, database_config: DatabaseConfig, *, event_store: EventsourcingStore,
                 batch: int = DEFAULT_BATCH) -> None:
        self.config = database_config
        self.db = ReadDatabase(database_config)
        self.event_store = event_store
        self.batch = batch
        self.targets = [Target.served(p) for p in PROJECTIONS.values()]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_in = 0.0
        self.on_batch: Callable[[int, list], None] | None = None
        self._positions: dict[str, int] = {}  # as last written by this runner (see runner)
        self.waker: PostgresWaker | SleepWaker | None = None

    def migrate(self) -> list[int]:
        from migrations import migrate

        applied = migrate(self.db)
        with self.db.write() as tx:
            store.ensure_tracking(tx, [t.tracking for t in self.targets])
        return applied

    def catch_up(self) -> int:
        """Applies everything recorded so far; ``on_batch(n, events)``, when set, hears of
        each committed batch (the bench measures projection lag with it)."""
        with self._lock:
            return catch_up(self.db, self.event_store, self.targets, self.batch,
                            on_batch=self.on_batch, positions=self._positions)

    def start_background(self, poll_interval: float = 0.2, *,
                         fallback_poll: float = DEFAULT_FALLBACK_POLL) -> None:
        """Catches up in a thread: on SQLite every ``poll_interval``; on PostgreSQL when the
        event store NOTIFYs, and every ``fallback_poll`` seconds in case a wake-up is lost."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        if self.db.is_postgres:
            self.waker = PostgresWaker(self.config.conninfo(), channel_for(APPLICATION_NAME),
                                       self._stop)
            interval = fallback_poll
        else:
            self.waker = SleepWaker(self._stop)
            interval = poll_interval
        self._thread = threading.Thread(target=self._run, args=(self.waker, interval),
                                        name="projections", daemon=True)
        self._thread.start()

    def _run(self, waker, interval: float) -> None:
        try:
            while not self._stop.is_set():
                if waker.is_leader:  # standbys wait for the leader's lock (see listener)
                    self._catch_up_logged(interval)
                if not self._stop.is_set():
                    waker.wait(self._retry_in or interval)
        finally:
            waker.close()

    def _catch_up_logged(self, interval: float) -> None:
        try:
            applied = self.catch_up()
            self._retry_in = 0.0
            if applied:
                log.debug("projections_caught_up", events=applied)
        except Exception as exc:  # noqa: BLE001 - logged, and retried after a back-off
            self._retry_in = min(max(self._retry_in * 2, interval), 5.0)
            log.warning("projections_catch_up_failed", error=repr(exc), retry_in=self._retry_in)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def list_orders(self, customer_id=None, status=None, created_after=None, created_before=None,
                    limit: int = 50, cursor: str | None = None,
                    **v2_filters) -> tuple[list[dict], str | None]:
        """``v2_filters``: ``fulfillment_status``, ``seller_id``."""
        with self.db.read() as tx:
            return queries.list_orders(tx, customer_id=customer_id, status=status,
                                       created_after=created_after, created_before=created_before,
                                       limit=limit, cursor=cursor, **v2_filters)

    def list_ops_checkouts(self, status: str | None = None,
                           older_than_seconds: float | None = None) -> list[str]:
        with self.db.read() as tx:
            return queries.list_ops_checkouts(tx, status=status, older_than_seconds=older_than_seconds)

    def latest_reconciliation_report(self) -> dict | None:
        with self.db.read() as tx:
            return queries.latest_reconciliation_report(tx)

    def inventory_level(self, sku: str) -> dict | None:
        with self.db.read() as tx:
            return queries.inventory_level(tx, sku)

    def status(self) -> list[dict]:
        """Each projection's position, the head, and its lag in events and seconds. Cheap
        enough for a metrics scrape: two indexed queries, plus one event read per distinct
        lagging position (the positions move together, so usually one or none)."""
        head = self.event_store.max_notification_id()
        with self.db.read() as tx:
            seen = store.positions(tx, [t.tracking for t in self.targets])
        seconds: dict[int, float] = {}
        out = []
        for name, pos in seen.items():
            if pos not in seconds:
                seconds[pos] = self._lag_seconds(pos, head)
            out.append({"name": name, "position": pos, "head": head,
                        "lag_events": max(head - pos, 0), "lag_seconds": seconds[pos]})
        return out

    def lag_metrics(self) -> dict[str, tuple[int, float]]:
        """``{projection: (lag_events, lag_seconds)}`` for ``/metrics``."""
        return {s["name"]: (s["lag_events"], s["lag_seconds"]) for s in self.status()}

    def _lag_seconds(self, position: int, head: int) -> float:
        """How long ago the oldest event not yet projected happened (0 when up to date)."""
        if position >= head:
            return 0.0
        notes = self.event_store.notifications(position + 1, 1)
        if not notes:
            return 0.0
        oldest = codec.decode(notes[0].topic, notes[0].state).occurred_at
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return max((datetime.now(UTC) - oldest).total_seconds(), 0.0)

    def close(self) -> None:
        self.stop()
        self.db.close()
