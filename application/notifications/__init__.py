"""Notifications through a durable outbox (CONTRACT §3.11): the feeder records what events
cause (``feeder``), the dispatchers send it (``dispatcher``), ``/ops/outbox`` shows it
(``outbox``), the admin API manages webhook endpoints (``endpoints``)."""

from __future__ import annotations

from collections.abc import Callable

from adapters.read_database import ReadDatabase
from application.notifications.dispatcher import Dispatcher, mail_sender, webhook_sender
from application.notifications.endpoints import WebhookEndpoints
from application.notifications.feeder import OutboxFeeder
from application.notifications.outbox import Outbox
from checkout_saga.notification_ports import InvoiceDocuments, Mailer, WebhookSender

FEED_EVERY_SECONDS = 1.0
SEND_EVERY_SECONDS = 1.0


class Notifications:
    def __init__(self, db: ReadDatabase, event_store, *, clock, mailer: Mailer,
                 webhooks: WebhookSender, admin_email: str | None, mail_domain: str,
                 documents: InvoiceDocuments | None = None, metrics=None) -> None:
        self.db = db
        self._webhook_sender = webhooks
        self.outbox = Outbox(db)
        self.endpoints = WebhookEndpoints(db)
        self.feeder = OutboxFeeder(db, event_store, admin_email=admin_email, clock=clock)
        self.metrics = metrics
        self.mail = Dispatcher(self.outbox, "email", clock=clock, admin_email=admin_email,
                               send=mail_sender(mailer, documents, mail_domain), metrics=metrics)
        self.webhooks = Dispatcher(self.outbox, "webhook", clock=clock, admin_email=admin_email,
                                   send=webhook_sender(webhooks, self.endpoints, clock),
                                   metrics=metrics)

    def run_once(self) -> int:
        """Feed, then send whatever is due (tests and one-shot use)."""
        self.feeder.catch_up()
        sent = self.mail.run_once() + self.webhooks.run_once()
        self.refresh_gauges()
        return sent

    def jobs(self) -> dict[str, tuple[float, Callable[[], None]]]:
        """The worker's periodic jobs: feeding, and one sender per kind (so a dead webhook
        endpoint never holds up e-mails, nor e-mails the webhooks)."""
        def feed() -> None:
            self.feeder.catch_up()
            self.refresh_gauges()
        return {"outbox_feed": (FEED_EVERY_SECONDS, feed),
                "outbox_send_email": (SEND_EVERY_SECONDS, self.mail.run_once),
                "outbox_send_webhook": (SEND_EVERY_SECONDS, self.webhooks.run_once)}

    def refresh_gauges(self) -> None:
        if self.metrics is None:
            return
        counts = self.outbox.counts()
        for kind in ("email", "webhook"):
            self.metrics.outbox_pending.labels(kind=kind).set(counts.get((kind, "pending"), 0))
            self.metrics.outbox_failed.labels(kind=kind).set(counts.get((kind, "failed"), 0))

    def close(self) -> None:
        close = getattr(self._webhook_sender, "close", None)
        if close is not None:
            close()
        self.db.close()
