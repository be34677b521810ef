"""The event store on the ``eventsourcing`` library (SQLite or PostgreSQL), with our
msgspec events mapped by a custom Mapper, a lock-free cache of latest states
(``adapters.latest_states``: hot SKUs are not replayed from their first event, and readers of
one stream never wait for each other), and multi-stream atomic appends."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
)

from adapters import postgres_multi_read
from adapters.database import DatabaseConfig
from adapters.latest_states import LatestStates
from checkout_saga.errors import ConcurrencyConflictError
from events import codec
from events.base import DomainEvent

APPLICATION_NAME = "CheckoutSaga"


class MsgspecMapper(Mapper):
    """Stores our frozen msgspec events as JSON, topic ``"<Type>@<schema_version>"``;
    older payload versions are upcast on the way back."""

    def __init__(self) -> None:
        super().__init__(transcoder=JSONTranscoder())

    def to_stored_event(self, domain_event: DomainEvent) -> StoredEvent:  # type: ignore[override]
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=codec.topic_for(domain_event),
            state=codec.encode(domain_event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEvent:  # type: ignore[override]
        return codec.decode(stored_event.topic, stored_event.state)


class SagaApplication(Application):
    name = APPLICATION_NAME

    def construct_mapper(self) -> Mapper:
        return MsgspecMapper()


def library_env(db: DatabaseConfig, *, pool_size: int = 10) -> dict[str, str]:
    # No library aggregate cache: current states come through ``LatestStates`` (no lock is
    # held across a database read).
    env = {"CREATE_TABLE": "y"}
    if db.is_postgres:
        env.update({
            # The library's PostgreSQL factory, appends in one server-side call, group commit
            # (adapters.postgres_recorder; POSTGRES_GROUP_COMMIT=n turns group commit off).
            "PERSISTENCE_MODULE": "adapters.postgres_recorder:ServerSideAppendFactory",
            "POSTGRES_DBNAME": db.dbname, "POSTGRES_HOST": db.host,
            "POSTGRES_PORT": str(db.port), "POSTGRES_USER": db.user,
            "POSTGRES_PASSWORD": db.password, "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size), "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": "5",
        })
    else:
        path = db.path or ":memory:"
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        env.update({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path,
                    "SQLITE_LOCK_TIMEOUT": "10"})
    return env


class EventsourcingStore:
    """Implements ``checkout_saga.ports.EventStore``."""

    def __init__(self, db: DatabaseConfig | None, *, cache_size: int = 20000, pool_size: int = 10,
                 env: dict[str, str] | None = None) -> None:
        self.db = db
        self.app = SagaApplication(
            env=env or library_env(db, pool_size=pool_size))
        self._latest = LatestStates(cache_size)

    @classmethod
    def in_memory(cls, *, cache_size: int = 20000) -> EventsourcingStore:
        """The library's own in-memory recorders ("popo"): the same store, no database, for
        application tests where a database would say nothing more."""
        return cls(None, cache_size=cache_size, env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def get(self, stream_id: UUID, fold, *, at_version: int | None = None):
        """The stream's state (None when it has no events). Current states come through
        ``LatestStates``: no lock is held across the database read (see there)."""
        if at_version is not None:
            return fold(None, self.app.events.get(stream_id, lte=at_version))
        return self._latest.read((stream_id, fold), fold,
                                 lambda after: self.app.events.get(stream_id, gt=after))

    def get_many(self, requests: Sequence[tuple[UUID, Callable]]) -> list:
        """The current states of several streams (None for an empty one), as ``get`` would
        return them one by one; on PostgreSQL in one statement (``adapters.postgres_multi_read``),
        so as fresh as separate reads, in one round trip."""
        unique = list(dict.fromkeys(requests))
        if not postgres_multi_read.supports(self.app.recorder):
            states = {r: self.get(*r) for r in unique}
            return [states[r] for r in requests]

        def events_after(versions: list[int | None]) -> list[list[DomainEvent]]:
            found = postgres_multi_read.select_after_many(
                self.app.recorder, [(sid, v or 0) for (sid, _), v in zip(unique, versions, strict=True)])
            return [[codec.decode(e.topic, e.state) for e in found[sid]] for sid, _ in unique]

        keyed = [((sid, fold), fold) for sid, fold in unique]  # the cache's keys, as in ``get``
        states = dict(zip(unique, self._latest.read_many(keyed, events_after), strict=True))
        return [states[r] for r in requests]

    def cached(self, stream_id: UUID, fold):
        """This process's last known state of the stream, without a database read (None: not
        known). A guess of what to read next (e.g. a product's seller), never a basis for a
        decision."""
        return self._latest.peek((stream_id, fold))

    def stream(self, stream_id: UUID, *, upto_version: int | None = None) -> list[DomainEvent]:
        return list(self.app.events.get(stream_id, lte=upto_version))

    def append(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        try:
            self.app.events.put(list(events))
        except IntegrityError as exc:
            raise ConcurrencyConflictError(f"a stream moved on: {exc}") from exc

    def max_notification_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def notifications(self, start: int, limit: int):
        """Stored events in recording order from notification id ``start`` (inclusive)."""
        return self.app.recorder.select_notifications(start=start, limit=limit)

    def all_events(self, batch: int = 5000):
        """Every recorded event in recording order (for audit and rebuilds)."""
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start=start, limit=batch)
            if not page:
                return
            for notification in page:
                yield codec.decode(notification.topic, notification.state)
            start = page[-1].id + 1

    def decode(self, stored) -> DomainEvent:
        return codec.decode(stored.topic, stored.state)

    def close(self) -> None:
        self.app.close()
