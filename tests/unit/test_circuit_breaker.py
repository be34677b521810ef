"""The circuit breaker around the payment provider, driven by a fake clock (no sleeping)."""

from __future__ import annotations

import threading

import pytest

from adapters.circuit_breaker import BreakerSettings, BreakerState, CircuitBreaker
from checkout_saga.ports import (
    CardDeclinedError,
    PaymentOutcomeUnknownError,
    PaymentProviderUnavailableError,
    PaymentRateLimitedError,
    PaymentRequestRejectedError,
)

SETTINGS = BreakerSettings(failure_threshold=3, window_seconds=60.0, cooldown_seconds=30.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(SETTINGS, clock=clock)


def fail_with(error: Exception):
    def call():
        raise error

    return call


def failing(breaker: CircuitBreaker, times: int, error: Exception | None = None) -> None:
    error = error or PaymentOutcomeUnknownError("timeout")
    for _ in range(times):
        with pytest.raises(type(error)):
            breaker.call(fail_with(error))


def open_breaker(breaker: CircuitBreaker) -> None:
    failing(breaker, SETTINGS.failure_threshold)
    assert breaker.state is BreakerState.OPEN


def test_a_closed_breaker_passes_calls_through_and_returns_their_result(breaker):
    assert breaker.call(lambda: "pi_123") == "pi_123"
    assert breaker.state is BreakerState.CLOSED


def test_the_breaker_opens_after_the_threshold_of_consecutive_unknown_outcomes(breaker):
    failing(breaker, SETTINGS.failure_threshold - 1)
    assert breaker.state is BreakerState.CLOSED

    failing(breaker, 1)

    assert breaker.state is BreakerState.OPEN


def test_the_call_that_trips_the_breaker_still_raises_its_own_error(breaker):
    failing(breaker, SETTINGS.failure_threshold - 1)

    with pytest.raises(PaymentOutcomeUnknownError, match="connection reset"):
        breaker.call(fail_with(PaymentOutcomeUnknownError("connection reset")))


def test_an_open_breaker_fails_fast_without_calling_the_provider(breaker):
    open_breaker(breaker)
    calls = []

    with pytest.raises(PaymentProviderUnavailableError):
        breaker.call(lambda: calls.append("called"))

    assert calls == []


def test_rate_limiting_counts_as_a_transient_failure(breaker):
    failing(breaker, SETTINGS.failure_threshold, PaymentRateLimitedError("429"))

    assert breaker.state is BreakerState.OPEN


def test_failures_spread_wider_than_the_window_do_not_open_the_breaker(breaker, clock):
    failing(breaker, SETTINGS.failure_threshold - 1)
    clock.advance(SETTINGS.window_seconds + 1)

    failing(breaker, SETTINGS.failure_threshold - 1)

    assert breaker.state is BreakerState.CLOSED


def test_a_success_resets_the_count_of_consecutive_failures(breaker):
    failing(breaker, SETTINGS.failure_threshold - 1)
    breaker.call(lambda: "ok")

    failing(breaker, SETTINGS.failure_threshold - 1)

    assert breaker.state is BreakerState.CLOSED


@pytest.mark.parametrize(
    "answer",
    [CardDeclinedError("declined"), PaymentRequestRejectedError("bad parameter", code="x")],
    ids=["card_declined", "request_rejected"],
)
def test_declines_and_rejections_are_answers_not_provider_failures(breaker, answer):
    failing(breaker, SETTINGS.failure_threshold - 1)

    failing(breaker, 1, answer)
    failing(breaker, SETTINGS.failure_threshold - 1)

    assert breaker.state is BreakerState.CLOSED


def test_after_the_cooldown_the_breaker_is_half_open(breaker, clock):
    open_breaker(breaker)

    clock.advance(SETTINGS.cooldown_seconds)

    assert breaker.state is BreakerState.HALF_OPEN


def test_a_half_open_breaker_lets_exactly_one_probe_through(breaker, clock):
    open_breaker(breaker)
    clock.advance(SETTINGS.cooldown_seconds)
    concurrent = []

    def probe():
        with pytest.raises(PaymentProviderUnavailableError):
            breaker.call(lambda: concurrent.append("second caller got through"))
        return "probed"

    assert breaker.call(probe) == "probed"
    assert concurrent == []


def test_a_successful_probe_closes_the_breaker(breaker, clock):
    open_breaker(breaker)
    clock.advance(SETTINGS.cooldown_seconds)

    breaker.call(lambda: "ok")

    assert breaker.state is BreakerState.CLOSED


def test_a_failed_probe_reopens_the_breaker_for_another_cooldown(breaker, clock):
    open_breaker(breaker)
    clock.advance(SETTINGS.cooldown_seconds)

    failing(breaker, 1)

    assert breaker.state is BreakerState.OPEN
    clock.advance(SETTINGS.cooldown_seconds - 1)
    assert breaker.state is BreakerState.OPEN


def test_the_snapshot_reports_the_state_for_metrics(breaker):
    open_breaker(breaker)

    snapshot = breaker.snapshot()

    assert (snapshot.name, snapshot.state, snapshot.state_code) == ("stripe", "open", 2)
    assert snapshot.consecutive_failures == SETTINGS.failure_threshold
    assert snapshot.times_opened == 1


def test_concurrent_failures_open_the_breaker_once(clock):
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=8), clock=clock)
    start = threading.Barrier(8)
    outcomes = []

    def caller():
        start.wait()
        try:
            breaker.call(fail_with(PaymentOutcomeUnknownError("timeout")))
        except PaymentOutcomeUnknownError as exc:
            outcomes.append(type(exc))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [PaymentOutcomeUnknownError] * 8
    assert breaker.snapshot().times_opened == 1
    assert breaker.state is BreakerState.OPEN
