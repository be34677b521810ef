"""Building a decision: events with the right stream versions, and the checkout's state
folded as its events are written, so one decision can chain steps (observe → commit → …)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.effects import Effect
from checkout_saga.errors import DomainError
from events.base import Cause, DomainEvent


@dataclass
class Decision:
    """What to record (atomically), what to do next, and an error to raise once recorded."""

    events: list[DomainEvent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    error: DomainError | None = None


class EventWriter:
    def __init__(self, now: datetime, cause: Cause | None) -> None:
        self.now = now
        self.cause = cause
        self.events: list[DomainEvent] = []
        self._versions: dict[UUID, int] = {}

    def emit(self, stream_id: UUID, version: int, cls: type[DomainEvent], **fields: Any) -> DomainEvent:
        """Append an event to ``stream_id`` whose loaded version was ``version``."""
        next_version = self._versions.get(stream_id, version) + 1
        self._versions[stream_id] = next_version
        event = cls(
            originator_id=stream_id,
            originator_version=next_version,
            occurred_at=self.now,
            cause=self.cause,
            **fields,
        )
        self.events.append(event)
        return event

    def checkout(self, state: CheckoutState, cls: type[DomainEvent], **fields: Any) -> CheckoutState:
        event = self.emit(state.id, state.version, cls, **fields)
        return fold_checkout(state, [event])

    def decision(self, effects: list[Effect] | None = None, error: DomainError | None = None) -> Decision:
        return Decision(events=self.events, effects=list(effects or []), error=error)


def refusals_as_errors(decide: Callable[..., Decision]) -> Callable[..., Decision]:
    """One error channel out of every ``decide_*``: a refusal raised while deciding comes back
    as ``Decision.error`` (with no events), exactly like a refusal the decision records (e.g.
    ``CheckoutFailed`` with ``insufficient_stock``). The shell raises it once the decision's
    events, if any, are appended."""

    @functools.wraps(decide)
    def deciding(*args: Any, **kwargs: Any) -> Decision:
        try:
            return decide(*args, **kwargs)
        except DomainError as error:
            return Decision(error=error)

    return deciding


def backoff(attempt: int, key: str, *, base_seconds: float = 2.0, cap_seconds: float = 300.0) -> timedelta:
    """Exponential backoff with jitter. The jitter is a hash of (key, attempt), not a random
    draw, so decisions stay pure and replayable while retries of many checkouts still spread."""
    digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
    jitter = int.from_bytes(digest[:4], "big") / 2**32
    delay = min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1))
    return timedelta(seconds=delay * (0.5 + 0.5 * jitter))
