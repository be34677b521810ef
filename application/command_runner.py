"""Deciding and appending under optimistic concurrency: the one retry loop every command uses.

A command loads the states its decision needs, decides (pure), and appends the events in one
transaction. When someone else wrote one of those streams in between, the append conflicts
and the command decides again on fresh state. Contention is resolved here, bounded by time
rather than by a small attempt count: on a hot stream (a drop's SKU) a buyer waits a little
longer instead of being refused while stock remains (see ``CONFLICT_BUDGET``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from checkout_saga import errors, ports
from checkout_saga.decision import Decision, backoff

C = TypeVar("C")
log = structlog.get_logger("command_runner")

#: Something to do after events were recorded (e.g. issue an invoice once an order is paid).
#: It runs after the command's append succeeded and can never undo or fail that command.
Follower = Callable[[list], None]

#: How long one command keeps re-deciding after conflicts before it gives up with
#: ``concurrency_conflict``. Generous: a conflict means someone else made progress.
CONFLICT_BUDGET = 10.0
_FIRST_DELAY, _MAX_DELAY = 0.002, 0.05


class CommandRunner:
    def __init__(self, store: ports.EventStore, clock: ports.Clock, *,
                 observer: ports.SagaObserver | None = None,
                 conflict_budget: float = CONFLICT_BUDGET,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.observer = observer or ports.NullObserver()
        self.conflict_budget = conflict_budget
        self._sleep = sleep
        self._monotonic = monotonic
        self.followers: list[Follower] = []

    def decide_and_append(self, operation: str, load: Callable[[], C],
                          decide: Callable[[C], Decision], *,
                          loaded: C | None = None) -> tuple[Decision, C]:
        """Decide on ``loaded`` (or on what ``load`` reads) and append the decision's events;
        on a conflict, load again and decide again. Returns the decision and the states it
        was decided on."""
        give_up_at = self._monotonic() + self.conflict_budget
        attempt = 0
        while True:
            attempt += 1
            states = loaded if loaded is not None else load()
            decision = decide(states)
            try:
                self.append(decision)
                return decision, states
            except errors.ConcurrencyConflictError:
                loaded = None
                if self._monotonic() >= give_up_at:
                    raise errors.ConcurrencyConflictError(
                        f"{operation}: gave up after {attempt} conflicting writes") from None
                self.observer.conflict_retried(operation=operation, attempt=attempt)
                self._sleep(_conflict_delay(operation, attempt))

    def append(self, decision: Decision) -> None:
        if decision.events:
            self.store.append(decision.events)
            self.observer.events_recorded(decision.events)
            self._follow(decision.events)

    def _follow(self, events: list) -> None:
        for follower in list(self.followers):
            try:
                follower(events)
            except Exception as exc:  # a follow-up left undone is resumed later, never raised
                log.warning("follow_up_failed", follower=getattr(follower, "__qualname__", "?"),
                            error_type=type(exc).__name__, error=str(exc)[:300])


def _conflict_delay(operation: str, attempt: int) -> float:
    """The saga's backoff with jitter; salted per call so that contenders spread out."""
    salt = f"{operation}:{random.getrandbits(32)}"
    return backoff(attempt, salt, base_seconds=_FIRST_DELAY, cap_seconds=_MAX_DELAY).total_seconds()
