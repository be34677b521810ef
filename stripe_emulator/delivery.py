"""Delivering events to one webhook endpoint, on its own thread.

First attempts go out in creation order. A failed attempt (non-2xx or no answer) is
retried with exponential backoff (`base * 2**(n-1)`, capped) up to a bounded number
of attempts, without holding back the events behind it, as Stripe does.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from enum import Enum

import httpx
import structlog

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.delivery_log import DeliveryLog
from stripe_emulator.signing import signature_header

log = structlog.get_logger()


class Plan(Enum):
    """What a webhook fault asks of one event's delivery."""

    NORMAL = "normal"
    DUPLICATE = "duplicate"
    HOLD = "hold"  # wait for the next event, then go after it
    RELEASE_AFTER = "release_after"  # the event a held one goes after
    DROP = "drop"


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    secret: str
    enabled_events: tuple[str, ...] = ("*",)
    enabled: bool = True

    def wants(self, event_type: str) -> bool:
        return self.enabled and ("*" in self.enabled_events or event_type in self.enabled_events)


@dataclass(frozen=True)
class Notice:
    """An event ready to send: its serialized body is fixed when it is created."""

    event_id: str
    event_type: str
    payload: str


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    notice: Notice = field(compare=False)
    attempt: int = field(default=1, compare=False)


class EndpointWorker:
    """One endpoint's queue and the thread that drains it."""

    def __init__(
        self,
        endpoint: Endpoint,
        config: EmulatorConfig,
        deliveries: DeliveryLog,
    ) -> None:
        self.endpoint = endpoint
        self._config = config
        self._deliveries = deliveries
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._held: tuple[_Job, float] | None = None
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name=f"stripe-emulator-webhooks-{endpoint.id}", daemon=True
        )
        self._thread.start()

    def submit(self, notice: Notice, plan: Plan) -> None:
        with self._cond:
            now = time.monotonic()
            if plan is Plan.DROP:
                self._deliveries.record(self.endpoint, notice, 0, outcome="dropped")
                return
            job = _Job(now, next(self._seq), notice)
            if plan is Plan.HOLD:
                self._held = (job, now + self._config.reorder_hold_seconds)
                return
            heapq.heappush(self._queue, job)
            if plan is Plan.DUPLICATE:
                heapq.heappush(self._queue, _Job(now, next(self._seq), notice))
            if plan is Plan.RELEASE_AFTER and self._held is not None:
                self._release_held(now)
            self._cond.notify()

    def _release_held(self, now: float) -> None:
        assert self._held is not None
        held = self._held[0]
        self._held = None
        heapq.heappush(self._queue, _Job(now, next(self._seq), held.notice))

    def stop(self, *, wait: bool = True) -> None:
        """`wait=False` when the caller holds the store lock, which a delivery being
        acknowledged may be waiting for."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if wait:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        with httpx.Client(timeout=self._config.webhook_timeout) as client:
            while True:
                job = self._next_job()
                if job is None:
                    return
                self._attempt(client, job)

    def _next_job(self) -> _Job | None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                if self._held is not None and self._held[1] <= now:
                    self._release_held(now)
                if self._queue and self._queue[0].due <= now:
                    return heapq.heappop(self._queue)
                deadlines = [job.due for job in self._queue[:1]]
                if self._held is not None:
                    deadlines.append(self._held[1])
                self._cond.wait(min(deadlines) - now if deadlines else None)
            return None

    def _attempt(self, client: httpx.Client, job: _Job) -> None:
        notice, endpoint = job.notice, self.endpoint  # one endpoint version per attempt
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(notice.payload, endpoint.secret, int(time.time())),
        }
        try:
            response = client.post(endpoint.url, content=notice.payload.encode(), headers=headers)
        except httpx.HTTPError as exc:
            self._failed(job, None, repr(exc))
            return
        if 200 <= response.status_code < 300:
            self._deliveries.record(endpoint, notice, job.attempt, status_code=response.status_code)
        else:
            self._failed(job, response.status_code, None)

    def _failed(self, job: _Job, status_code: int | None, error: str | None) -> None:
        last = job.attempt >= self._config.webhook_max_attempts
        self._deliveries.record(
            self.endpoint,
            job.notice,
            job.attempt,
            status_code=status_code,
            error=error,
            outcome="gave_up" if last else "failed",
        )
        log.info(
            "stripe_emulator.webhook_attempt_failed",
            event_id=job.notice.event_id,
            url=self.endpoint.url,
            attempt=job.attempt,
            status_code=status_code,
        )
        if last:
            return
        delay = min(
            self._config.webhook_retry_base_delay * 2 ** (job.attempt - 1),
            self._config.webhook_retry_max_delay,
        )
        with self._cond:
            retry = _Job(time.monotonic() + delay, next(self._seq), job.notice, job.attempt + 1)
            heapq.heappush(self._queue, retry)
            self._cond.notify()
