"""A small thread-safe circuit breaker for calls to the payment provider.

closed --(N consecutive transient failures within a window)--> open
open --(cool-down elapsed)--> half_open: exactly one probe call goes through
half_open --(probe succeeds)--> closed; --(probe fails)--> open again

Only ``PaymentOutcomeUnknownError`` (and its subclass ``PaymentRateLimitedError``) counts as
a failure of the provider. A card decline or a rejected request is an answer from a healthy
provider: it resets the count like a success. While open, calls raise
``PaymentProviderUnavailableError`` without touching the network.

Why not pybreaker (the well-kept library): it reads the wall clock (``datetime.now``) so
tests would have to sleep or patch it, it has no failure window, its half-open state lets
every concurrent caller through instead of one probe, and it replaces the tripping error
with its own ``CircuitBreakerError``. Bending it to fit costs more than these lines, and it
would be a new dependency.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from checkout_saga.ports import (
    PaymentGatewayError,
    PaymentOutcomeUnknownError,
    PaymentProviderUnavailableError,
)

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, kw_only=True)
class BreakerSettings:
    failure_threshold: int = 5  # consecutive transient failures that open the circuit
    window_seconds: float = 60.0  # ... all within this long of the first of them
    cooldown_seconds: float = 30.0  # open this long before one probe is let through


@dataclass(frozen=True, kw_only=True)
class BreakerSnapshot:
    """What a metrics exporter reads (``state_code``: 0 closed, 1 half-open, 2 open)."""

    name: str
    state: BreakerState
    state_code: int
    consecutive_failures: int
    times_opened: int


_STATE_CODES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class CircuitBreaker:
    def __init__(
        self,
        settings: BreakerSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str = "stripe",
    ) -> None:
        self.settings = settings or BreakerSettings()
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._first_failure_at = 0.0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._times_opened = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current_state()

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            state = self._current_state()
            return BreakerSnapshot(
                name=self.name,
                state=state,
                state_code=_STATE_CODES[state],
                consecutive_failures=self._failures,
                times_opened=self._times_opened,
            )

    def retry_after_seconds(self) -> float:
        """While open: how long until a probe may go through; otherwise 0."""
        with self._lock:
            if self._current_state() is not BreakerState.OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.settings.cooldown_seconds - self._clock())

    def call(self, fn: Callable[[], T]) -> T:
        self._admit()
        try:
            result = fn()
        except PaymentOutcomeUnknownError:
            self._record_failure()
            raise
        except Exception as exc:
            self._record_answer(provider_answered=_is_provider_answer(exc))
            raise
        self._record_answer(provider_answered=True)
        return result

    # --- transitions (all under the lock) -------------------------------------------

    def _current_state(self) -> BreakerState:
        cooled = self._clock() - self._opened_at >= self.settings.cooldown_seconds
        if self._state is BreakerState.OPEN and cooled:
            self._state = BreakerState.HALF_OPEN
        return self._state

    def _admit(self) -> None:
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return
            if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return
            retry_in = max(0.0, self._opened_at + self.settings.cooldown_seconds - self._clock())
        raise PaymentProviderUnavailableError(
            f"circuit {self.name!r} is {state.value}: the payment provider kept failing; "
            f"next probe in {retry_in:.0f}s"
        )

    def _record_failure(self) -> None:
        with self._lock:
            now = self._clock()
            was_probe, self._probe_in_flight = self._probe_in_flight, False
            if self._failures == 0 or now - self._first_failure_at > self.settings.window_seconds:
                self._failures, self._first_failure_at = 0, now
            self._failures += 1
            tripped = was_probe or self._failures >= self.settings.failure_threshold
            if tripped and self._state is not BreakerState.OPEN:
                self._state, self._opened_at = BreakerState.OPEN, now
                self._times_opened += 1

    def _record_answer(self, *, provider_answered: bool) -> None:
        with self._lock:
            self._probe_in_flight = False
            if provider_answered:
                self._state, self._failures = BreakerState.CLOSED, 0


def _is_provider_answer(exc: Exception) -> bool:
    """Gateway errors other than "outcome unknown" (declines, rejections) mean the
    provider answered; anything else (a bug on our side) proves nothing either way."""
    return isinstance(exc, PaymentGatewayError) and not isinstance(
        exc, PaymentProviderUnavailableError
    )
