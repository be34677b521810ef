"""The saga worker: applies the Stripe webhooks the API recorded (in batches, see
``application.webhook_intake``), keeps the due-work index caught up with the event store,
claims due checkouts and resumes them (reservation expiry, step and compensation retries,
crash recovery of intentions recorded without an outcome), on APScheduler timers.

Idle, a pass costs a few indexed probes: the notifications after the index's position, one
due row, one pending webhook. The gauges (a ``GROUP BY`` over the due rows) are refreshed
only when a pass did something, or every ``GAUGES_EVERY_SECONDS``.

On start-up it first catches the index up with every event recorded since it last ran (or
builds it from the first event), so deadlines that passed while no worker ran fire at once.
Any number of workers may share one database: see ``application.due_work`` for the claim."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from adapters.scheduler import Timers
from application.checkout_service import CheckoutService
from application.due_work import DueWork
from application.order_service import OrderService
from application.stripe_inbox import PaymentEventInbox
from application.webhook_intake import WebhookIntake
from checkout_saga.ids import CHECKOUT_PREFIX, ORDER_PREFIX
from events import checkout as ev
from events.base import Cause

log = structlog.get_logger("worker")

SWEEP_INTERVAL_SECONDS = 1.0
WEBHOOK_POLL_SECONDS = 0.5  # a webhook recorded by another process waits at most this long
GAUGES_EVERY_SECONDS = 15.0
CLAIM_BATCH = 50


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry or CollectorRegistry()
        self.registry = r
        self.timers_fired = Counter("saga_timers_fired_total", "Due checkouts resumed by the worker",
                                    ["reason"], registry=r)
        self.expiries = Counter("checkout_expiries_total", "Checkouts expired", registry=r)
        self.retries = Counter("saga_retries_total", "Steps or compensations to be retried",
                               ["kind"], registry=r)
        self.escalations = Counter("checkout_escalations_total",
                                   "Checkouts escalated to needs_attention", registry=r)
        # under ``serve`` (multi-process metrics): the value of the live worker, none of a dead one
        self.pending = Gauge("saga_deadlines_pending", "Checkouts waiting on a deadline",
                             ["reason"], registry=r, multiprocess_mode="livemostrecent")
        self.reservations_held = Gauge("reservations_held", "Checkouts holding reserved stock",
                                       registry=r, multiprocess_mode="livemostrecent")
        self.resume_failures = Counter("saga_resume_failures_total", "Resumes that raised",
                                       registry=r)


class Worker:
    def __init__(self, checkouts: CheckoutService, due_work: DueWork, *, metrics: WorkerMetrics | None = None,
                 interval: float = SWEEP_INTERVAL_SECONDS, owner: str | None = None,
                 jobs: dict[str, tuple] | None = None,
                 orders: OrderService | None = None, inbox: PaymentEventInbox | None = None,
                 intake: WebhookIntake | None = None) -> None:
        self.checkouts = checkouts
        self.orders = orders  # resumes refunds whose Stripe outcome never came
        self.inbox = inbox  # applies Stripe events whose re-read failed, when due
        self.intake = intake  # the webhooks the API recorded, applied here in batches
        self.due_work = due_work
        self.metrics = metrics or WorkerMetrics()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.timers = Timers(self._tick, interval=interval)
        self.jobs = jobs or {}
        self._pass = threading.Lock()
        self._stop = threading.Event()
        self._webhooks = threading.Lock()
        self._wake_pending = False
        self._gauges_at = 0.0
        due_work.on_events = self._observe
        if intake is not None:
            intake.on_recorded = self._webhook_recorded

    # --- one pass ---------------------------------------------------------------------

    def run_once(self) -> int:
        """Catch the index up, then resume every due checkout; returns how many resumed."""
        with self._pass:
            applied = self.apply_webhooks()
            indexed = self.due_work.index()
            resumed = 0
            while True:
                claimed = self.due_work.claim(self.owner, self.checkouts.clock.now(), CLAIM_BATCH)
                for checkout_id, reason in claimed:
                    self._resume(checkout_id, reason)
                resumed += len(claimed)
                if len(claimed) < CLAIM_BATCH:
                    break
            if applied or indexed or resumed or time.monotonic() - self._gauges_at >= GAUGES_EVERY_SECONDS:
                self._refresh_gauges()
            return resumed

    def apply_webhooks(self) -> int:
        """Apply every webhook recorded and not applied yet, in batches; returns how many."""
        if self.intake is None:
            return 0
        self._wake_pending = False
        with self._webhooks:
            return self.intake.apply_all_pending(self.owner)

    def _webhook_recorded(self) -> None:
        """A webhook recorded by this process: apply it soon rather than at the next poll."""
        if not self._wake_pending:
            self._wake_pending = True
            self.timers.wake_at(datetime.now(UTC))

    def _resume(self, key: str, reason: str) -> None:
        if key.startswith(CHECKOUT_PREFIX):
            self._resume_checkout(key, reason)
            return
        version = None
        bound = log.bind(due=key, reason=reason, worker=self.owner)
        try:
            state = self.due_work.state_of(key)
            version = state.version if state is not None else None
            cause = Cause(kind="timer", ref=reason)
            if key.startswith(ORDER_PREFIX) and self.orders is not None:
                self.orders.resume_refunds(key, cause)
            elif not key.startswith(ORDER_PREFIX) and self.inbox is not None:
                outcome = self.inbox.retry(key, cause)
                bound = bound.bind(outcome=outcome)
            else:
                bound.warning("due_work_without_handler")
                return
            self.metrics.timers_fired.labels(reason=reason).inc()
            bound.info("due_work_resumed")
        except Exception as exc:  # one bad owner must not stop the others; logged
            self.metrics.resume_failures.inc()
            bound.warning("due_work_resume_failed", error_type=type(exc).__name__,
                          error=str(exc)[:300])
        finally:
            self.due_work.settle(key, self.checkouts.clock.now(), version)

    def _resume_checkout(self, checkout_id: str, reason: str) -> None:
        version = None
        bound = log.bind(checkout_id=checkout_id, reason=reason, worker=self.owner)
        try:
            version = self.checkouts.get(checkout_id).version
            state = self.checkouts.resume(checkout_id, Cause(kind="timer", ref=reason))
            self.metrics.timers_fired.labels(reason=reason).inc()
            bound.info("checkout_resumed", status=state.status, version=state.version)
        except Exception as exc:  # one bad checkout must not stop the others; logged
            self.metrics.resume_failures.inc()
            bound.warning("checkout_resume_failed", error_type=type(exc).__name__,
                          error=str(exc)[:300])
        finally:
            self.due_work.settle(checkout_id, self.checkouts.clock.now(), version)

    def _observe(self, events: list) -> None:
        """Metrics and alert lines for what the index just read (whoever recorded it)."""
        for e in events:
            if isinstance(e, ev.CheckoutExpired):
                self.metrics.expiries.inc()
                log.info("checkout_expired", checkout_id=_checkout_id(e))
            elif isinstance(e, ev.PaymentStepOutcomeUnknown):
                self.metrics.retries.labels(kind="step").inc()
                log.info("saga_step_retry_scheduled", checkout_id=_checkout_id(e), step=e.step,
                         retry_at=_iso(e.retry_at), reason=e.reason)
            elif isinstance(e, ev.CompensationStepFailed):
                self.metrics.retries.labels(kind="compensation").inc()
                log.warning("compensation_retry_scheduled", checkout_id=_checkout_id(e),
                            step=e.step, attempt=e.attempt, retry_at=_iso(e.retry_at),
                            error=e.error)
            elif isinstance(e, ev.CheckoutNeedsAttention):
                self.metrics.escalations.inc()
                log.error("ALERT checkout_needs_attention", alert=True,
                          checkout_id=_checkout_id(e), step=e.step, reason=e.reason)

    def _refresh_gauges(self) -> None:
        self._gauges_at = time.monotonic()
        pending = self.due_work.pending()
        for reason in ("reservation_expiry", "step_retry", "compensation_retry", "recovery",
                       "refund_recovery", "webhook_retry", "webhook_recovery"):
            self.metrics.pending.labels(reason=reason).set(pending.get(reason, 0))
        self.metrics.reservations_held.set(pending.get("reservation_expiry", 0))

    # --- on timers --------------------------------------------------------------------

    def _tick(self) -> None:
        try:
            self.run_once()
            self.timers.wake_at(self.due_work.next_due_at())
        except Exception as exc:  # e.g. the database blipped: logged, the next tick retries
            log.warning("worker_pass_failed", error_type=type(exc).__name__, error=str(exc)[:300])

    def start(self) -> None:
        self.due_work.ensure()
        for job_id, (seconds, fn, *start_now) in self.jobs.items():  # (seconds, fn[, start_now])
            self.timers.every(job_id, seconds, _logged(job_id, fn), start_now=any(start_now))
        if self.intake is not None:
            self.timers.every("stripe_webhooks", WEBHOOK_POLL_SECONDS,
                              _logged("stripe_webhooks", self.apply_webhooks))
        self.timers.start()
        log.info("worker_started", worker=self.owner)

    def run_forever(self) -> None:
        self.start()
        try:
            self._stop.wait()
        finally:
            self.timers.stop()

    def stop(self) -> None:
        self._stop.set()
        self.timers.stop()


def _checkout_id(e) -> str:
    from checkout_saga.ids import checkout_id_of

    return checkout_id_of(e.originator_id)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _logged(job_id: str, fn: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception as exc:  # a failed scheduled job is logged; it runs again next time
            log.warning("scheduled_job_failed", job=job_id, error_type=type(exc).__name__,
                        error=str(exc)[:300])
    return run
