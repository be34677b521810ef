"""Aggregate states: immutable msgspec Structs folded from events. Replay never reads a clock.

Each ``fold_*`` has the library's projector signature ``(state | None, events) -> state``, so
the eventsourcing Repository can rebuild and fast-forward cached states with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from events.base import DomainEvent

S = TypeVar("S")


class State(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    created_at: datetime
    updated_at: datetime


def make_fold(
    appliers: dict[type[DomainEvent], Callable[[Any, Any], Any]],
) -> Callable[[Any, Iterable[DomainEvent]], Any]:
    """A fold over events; each applier returns the next state (the first gets None)."""

    def fold(state: Any, events: Iterable[DomainEvent]) -> Any:
        for event in events:
            applier = appliers.get(type(event))
            if applier is None:
                raise TypeError(f"no applier for {type(event).__name__}")
            state = applier(state, event)
        return state

    return fold


def advanced(state: S, event: DomainEvent, **changes: Any) -> S:
    """The next state: fields changed, version and updated_at moved to the event's."""
    return msgspec.structs.replace(
        state,  # type: ignore[type-var]
        version=event.originator_version,
        updated_at=event.occurred_at,
        **changes,
    )
