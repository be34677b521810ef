"""The shell every command shares: the ports, and deciding-then-appending with optimistic
concurrency (a stale append is re-decided on fresh state, with jittered backoff)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

from checkout_saga import errors, ports
from checkout_saga.writer import Decision


class Shell:
    def __init__(
        self,
        store: ports.EventStore,
        gateway: ports.PaymentGateway,
        clock: ports.Clock,
        *,
        reservation_ttl: timedelta = timedelta(seconds=900),
        observer: ports.SagaObserver | None = None,
        max_conflict_retries: int = 40,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.clock = clock
        self.reservation_ttl = reservation_ttl
        self.observer = observer or ports.NullObserver()
        self.max_conflict_retries = max_conflict_retries
        self._sleep = sleep

    def _decide_and_append(self, operation: str, decide: Callable[[], Decision]) -> Decision:
        for attempt in range(1, self.max_conflict_retries + 1):
            decision = decide()
            try:
                self._append(decision)
                return decision
            except errors.ConcurrencyConflictError:
                self._conflicted(operation, attempt)
        raise errors.ConcurrencyConflictError(
            f"{operation}: gave up after {self.max_conflict_retries} conflicting writes")

    def _append(self, decision: Decision) -> None:
        if decision.events:
            self.store.append(decision.events)
            self.observer.events_recorded(decision.events)

    def _conflicted(self, operation: str, attempt: int) -> None:
        self.observer.conflict_retried(operation=operation, attempt=attempt)
        self._sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
