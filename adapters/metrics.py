"""Prometheus metrics (one registry per app) and the saga observer that feeds them.

Under ``serve`` every process runs with ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus_client's
multi-process mode, see ``cli.supervisor``): each process writes its samples to files there,
and ``render`` in any API process aggregates the files of every process — the API processes'
request counts summed, the worker's saga and timer metrics included. Gauges set at scrape
time (projection lag) keep the most recent value written by any process."""

from __future__ import annotations

import os

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from checkout_saga.ids import order_id_of

TERMINAL_EVENTS = {
    "CheckoutCompleted": "completed", "CheckoutFailed": "failed",
    "CheckoutCancelled": "cancelled", "CheckoutExpired": "expired",
    "CheckoutNeedsAttention": "needs_attention", "CheckoutResolved": "resolved",
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=r)
        self.checkouts = Counter("checkouts_terminal_total", "Checkouts by terminal status",
                                 ["status"], registry=r)
        self.step_latency = Histogram("saga_step_duration_seconds", "Saga step latency",
                                      ["step"], registry=r)
        self.step_failures = Counter("saga_step_failures_total", "Saga step failures",
                                     ["step", "outcome"], registry=r)
        self.compensations = Counter("saga_compensations_total", "Compensations started",
                                     ["reason"], registry=r)
        self.conflicts = Counter("saga_conflict_retries_total", "Optimistic concurrency retries",
                                 ["operation"], registry=r)
        self.webhooks = Counter("stripe_webhook_events_total", "Stripe webhook events",
                                ["type", "outcome"], registry=r)
        self.disputes_opened = Counter("disputes_opened_total", "Chargebacks opened at Stripe",
                                       ["reason"], registry=r)
        self.projection_lag = Gauge("projection_lag_events", "Events a projection is behind",
                                    ["projection"], registry=r, multiprocess_mode="mostrecent")
        self.projection_lag_seconds = Gauge(
            "projection_lag_seconds", "Age of the oldest event a projection has not applied",
            ["projection"], registry=r, multiprocess_mode="mostrecent")
        # issue 13: the notifications outbox
        self.outbox_pending = Gauge("outbox_pending", "Notifications recorded, not yet sent",
                                    ["kind"], registry=r,
                                    multiprocess_mode="mostrecent")
        self.outbox_failed = Gauge("outbox_failed", "Notifications given up (after 3 days)",
                                   ["kind"], registry=r,
                                    multiprocess_mode="mostrecent")
        self.notification_send_seconds = Histogram(
            "notification_send_seconds", "Time to hand one notification over (SMTP, webhook POST)",
            ["kind", "outcome"], registry=r)

    def render(self) -> bytes:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)


FAILED_OUTCOMES = ("Error", "Exception", "Declined", "Unknown", "Unavailable", "Rejected")


class LoggingSagaObserver:
    """Implements ``checkout_saga.ports.SagaObserver``: structured logs plus metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.log = structlog.get_logger("saga")

    def step_finished(self, *, checkout_id: str, step: str, idempotency_key: str, outcome: str,
                      seconds: float) -> None:
        self.metrics.step_latency.labels(step=step).observe(seconds)
        failed = any(outcome.endswith(s) for s in FAILED_OUTCOMES)
        if failed:
            self.metrics.step_failures.labels(step=step, outcome=outcome).inc()
        self.log.bind(checkout_id=checkout_id, step=step, idempotency_key=idempotency_key).info(
            "saga_step_finished", outcome=outcome, seconds=round(seconds, 6))

    def events_recorded(self, events: list) -> None:
        for event in events:
            name = type(event).__name__
            if name in TERMINAL_EVENTS:
                self.metrics.checkouts.labels(status=TERMINAL_EVENTS[name]).inc()
            if name == "DisputeOpened":
                self._dispute_opened(event)
            if name == "CompensationStarted":
                self.metrics.compensations.labels(
                    reason=str(getattr(event, "reason_code", "unknown"))).inc()

    def _dispute_opened(self, event) -> None:
        """An operator must answer a chargeback before Stripe's deadline: a metric and an
        alert line (the alert e-mail is the notifications outbox's job)."""
        self.metrics.disputes_opened.labels(reason=str(event.reason or "unknown")).inc()
        self.log.error("ALERT dispute_opened", alert=True, order_id=order_id_of(event.originator_id),
                       dispute_id=event.dispute_id, amount=event.amount, reason=event.reason)

    def conflict_retried(self, *, operation: str, attempt: int) -> None:
        self.metrics.conflicts.labels(operation=operation).inc()
        self.log.debug("saga_conflict_retried", operation=operation, attempt=attempt)
