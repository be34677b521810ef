"""``ReadModels``: the read side as the API and the worker use it — migrate, catch up
(synchronously or in a background thread), query, and report lag."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import structlog

from adapters.database import DatabaseConfig
from adapters.event_store import EventsourcingStore
from events import codec
from projections import queries, store
from projections.db import ReadDatabase
from projections.registry import PROJECTIONS
from projections.runner import DEFAULT_BATCH, Target, catch_up

log = structlog.get_logger(__name__)


class ReadModels:
    def __init__(self, database_config: DatabaseConfig, *, event_store: EventsourcingStore | None = None,
                 batch: int = DEFAULT_BATCH) -> None:
        self.config = database_config
        self.db = ReadDatabase(database_config)
        self._own_store = event_store is None
        self.event_store = event_store or EventsourcingStore(database_config, cache_size=100, pool_size=2)
        self.batch = batch
        self.targets = [Target.served(p) for p in PROJECTIONS.values()]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def migrate(self) -> list[int]:
        from migrations import migrate

        applied = migrate(self.db)
        with self.db.write() as tx:
            store.ensure_tracking(tx, [t.tracking for t in self.targets])
        return applied

    def catch_up(self) -> int:
        with self._lock:
            return catch_up(self.db, self.event_store, self.targets, self.batch)

    def start_background(self, poll_interval: float = 0.2) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, args=(poll_interval,),
                                        name="projections", daemon=True)
        self._thread.start()

    def _poll(self, interval: float) -> None:
        backoff = interval
        while not self._stop.is_set():
            try:
                applied = self.catch_up()
                backoff = interval
                if applied:
                    log.debug("projections_caught_up", events=applied)
            except Exception as exc:  # noqa: BLE001 - logged, and retried after a back-off
                log.warning("projections_catch_up_failed", error=repr(exc), retry_in=backoff)
                backoff = min(backoff * 2, 5.0)
            self._stop.wait(backoff)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def list_orders(self, customer_id=None, status=None, created_after=None, created_before=None,
                    limit: int = 50, cursor: str | None = None) -> tuple[list[dict], str | None]:
        with self.db.read() as tx:
            return queries.list_orders(tx, customer_id=customer_id, status=status,
                                       created_after=created_after, created_before=created_before,
                                       limit=limit, cursor=cursor)

    def list_ops_checkouts(self, status: str | None = None,
                           older_than_seconds: float | None = None) -> list[str]:
        with self.db.read() as tx:
            return queries.list_ops_checkouts(tx, status=status, older_than_seconds=older_than_seconds)

    def inventory_level(self, sku: str) -> dict | None:
        with self.db.read() as tx:
            return queries.inventory_level(tx, sku)

    def status(self) -> list[dict]:
        head = self.event_store.max_notification_id()
        with self.db.read() as tx:
            seen = store.positions(tx, [t.tracking for t in self.targets])
        return [{"name": name, "position": pos, "head": head, "lag_events": max(head - pos, 0),
                 "lag_seconds": self._lag_seconds(pos, head)} for name, pos in seen.items()]

    def _lag_seconds(self, position: int, head: int) -> float:
        if position >= head:
            return 0.0
        notes = self.event_store.app.recorder.select_notifications(start=position + 1, limit=1)
        if not notes:
            return 0.0
        oldest = codec.decode(notes[0].topic, notes[0].state).occurred_at
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return max((datetime.now(UTC) - oldest).total_seconds(), 0.0)

    def close(self) -> None:
        self.stop()
        self.db.close()
        if self._own_store:
            self.event_store.close()
