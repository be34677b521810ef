"""Stripe webhooks, taken in cheaply and applied off the request path.

The route calls ``record``: one insert into the webhook log (``adapters.stripe_webhook_log``),
committed before the route answers ``200``; an id already there is a duplicate. No read,
no Stripe call, no event-store append in the request.

The worker calls ``apply_pending``: it claims the oldest recorded events in a batch and
hands each to ``PaymentEventInbox.receive`` (the one place that decides what an event
means: recorded in the event store, settled at once when it cannot change anything, else
re-read at Stripe and applied, or deferred when the re-read fails — the due-work index then
retries it). Events the inbox has taken are marked applied in one write per batch.

Failure modes: the process dies after the insert and before the answer — Stripe redelivers,
the route answers ``duplicate: true``, the worker applies the recorded copy. A worker dies
mid-batch — its claim's lease lapses and another worker (or itself, restarted) takes the
rows again; the inbox's own deduplication (the event's stream in the event store) makes a
second ``receive`` of an event already applied a no-op. An event that raises in the inbox
stays claimed until its lease lapses (retried then, never in a hot loop)."""

from __future__ import annotations

import json
from collections.abc import Callable

import structlog

from adapters.stripe_webhook_log import StripeWebhookLog
from adapters.stripe_webhooks import notice_from_event
from application.stripe_inbox import PaymentEventInbox
from checkout_saga import ports

log = structlog.get_logger("webhook_intake")

BATCH = 100


class WebhookIntake:
    def __init__(self, webhook_log: StripeWebhookLog, inbox: PaymentEventInbox,
                 clock: ports.Clock, *, batch: int = BATCH, counter=None) -> None:
        self.log = webhook_log
        self.counter = counter  # stripe_webhook_events_total{type, outcome}: what each came to
        self.inbox = inbox
        self.clock = clock
        self.batch = batch
        self.on_recorded: Callable[[], None] | None = None  # an in-process worker's wake-up

    def record(self, notice: ports.PaymentEventNotice, payload: str) -> bool:
        """Record a verified event; True when its id was recorded before (a duplicate)."""
        new = self.log.record(notice.event_id, notice.type, payload, self.clock.now())
        if new and self.on_recorded is not None:
            self.on_recorded()
        return not new

    def apply_pending(self, owner: str) -> int:
        """Apply one batch of recorded events; returns how many were claimed."""
        claimed = self.log.claim(owner, self.clock.now(), self.batch)
        taken: list[str] = []
        for row in claimed:
            try:
                notice = notice_from_event(json.loads(row.payload))
            except ValueError as exc:  # verified at the route, so never expected: logged, dropped
                log.error("stripe_webhook_unreadable", event_id=row.event_id, error=str(exc)[:300])
                taken.append(row.event_id)
                continue
            try:
                duplicate = self.inbox.receive(notice, row.payload)
                taken.append(row.event_id)
                self._count(notice, "duplicate" if duplicate else None)
            except Exception as exc:  # e.g. the database blipped: retried when the lease lapses
                log.warning("stripe_webhook_apply_failed", event_id=row.event_id, type=row.event_type,
                            error_type=type(exc).__name__, error=str(exc)[:300])
        self.log.mark_applied(taken, self.clock.now())
        return len(claimed)

    def _count(self, notice: ports.PaymentEventNotice, outcome: str | None) -> None:
        if self.counter is None:
            return
        if outcome is None:
            came_to = self.inbox.outcome_of(notice.event_id)
            outcome = "deferred" if came_to is None else came_to.split(":", 1)[0].strip()
        self.counter.labels(type=notice.type, outcome=outcome).inc()

    def apply_all_pending(self, owner: str) -> int:
        """Batches until none is left (tests, start-up); returns how many were claimed."""
        total = 0
        while (n := self.apply_pending(owner)) > 0:
            total += n
            if n < self.batch:
                break
        return total
