"""Sending what the outbox holds: claim due items of one kind, send each (after it was
recorded, never before), then mark it sent, or schedule its retry with backoff and jitter,
or — three days after it was recorded — mark it failed and record an operator alert.

One dispatcher per kind (e-mail, webhook) runs as its own worker job, and every send has a
timeout, so a slow SMTP server or a dead endpoint delays only its own kind of notification,
never a checkout (checkouts never wait on the outbox at all)."""

from __future__ import annotations

import json
import os
import random
import socket
import time
from collections.abc import Callable

import structlog

from application.notifications.endpoints import WebhookEndpoints
from application.notifications.outbox import Outbox, created_at_of
from checkout_saga.notification_ports import (
    InvoiceDocuments,
    Mailer,
    NoInvoiceDocuments,
    OutgoingMail,
    SendError,
    WebhookSender,
)
from checkout_saga.notifications import gave_up_alert, gives_up, retry_delay

log = structlog.get_logger("notifications")

BATCH = 20


def message_id_for(notification_id: str, domain: str) -> str:
    return f"<{notification_id}@{domain}>"


def _attachments(documents: InvoiceDocuments, template: str, context: dict) -> tuple:
    """The invoice with the confirmation, the credit note with the refund mail — when the
    orders side has them (``InvoiceDocuments``); otherwise the mail goes without."""
    order_id = (context.get("order") or {}).get("order_id")
    if not order_id:
        return ()
    if template == "order_confirmation":
        doc = documents.document_for(order_id, "invoice")
    elif template == "refund_issued":
        doc = documents.document_for(order_id, "credit_note",
                                     (context.get("refund") or {}).get("refund_id"))
    else:
        return ()
    return (doc,) if doc is not None else ()


class Dispatcher:
    def __init__(self, outbox: Outbox, kind: str, *, clock, admin_email: str | None,
                 send: Callable[[dict], None], metrics=None, owner: str | None = None,
                 jitter: Callable[[], float] = random.random) -> None:
        self.outbox = outbox
        self.kind = kind
        self.clock = clock
        self.admin_email = admin_email
        self._send = send
        self.metrics = metrics
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.jitter = jitter

    def run_once(self) -> int:
        """Sends every due item of this kind; returns how many were attempted."""
        attempted = 0
        while True:
            rows = self.outbox.claim(self.kind, self.owner, self.clock.now(), BATCH)
            for row in rows:
                self._attempt(row)
            attempted += len(rows)
            if len(rows) < BATCH:
                return attempted

    def _attempt(self, row: dict) -> None:
        bound = log.bind(notification_id=row["id"], kind=self.kind, cause=row["cause"],
                         attempt=int(row["attempts"]) + 1)
        started = time.perf_counter()
        try:
            self._send(row)
        except Exception as exc:  # any failure of a send is retried; recorded on the item
            error = str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"
            self._observe("error", started)
            self._failed(row, error[:500], bound)
            return
        self._observe("sent", started)
        self.outbox.mark_sent(row["id"], self.clock.now())
        bound.info("notification_sent")

    def _failed(self, row: dict, error: str, bound) -> None:
        now = self.clock.now()
        if gives_up(created_at_of(row), now):
            alert = None
            if row["template"] != "outbox_gave_up_alert":
                alert = gave_up_alert(row["id"], row["kind"], row["recipient"], error, self.admin_email)
            self.outbox.mark_failed(row["id"], error, now, alert)
            bound.error("ALERT notification_failed", alert=True, error=error)
            return
        retry_at = now + retry_delay(int(row["attempts"]) + 1, self.jitter())
        self.outbox.mark_retry(row["id"], error, retry_at, now)
        bound.warning("notification_retry_scheduled", error=error, retry_at=retry_at.isoformat())

    def _observe(self, outcome: str, started: float) -> None:
        if self.metrics is not None:
            self.metrics.notification_send_seconds.labels(kind=self.kind, outcome=outcome).observe(
                time.perf_counter() - started)


def mail_sender(mailer: Mailer, documents: InvoiceDocuments | None, domain: str) -> Callable[[dict], None]:
    documents = documents or NoInvoiceDocuments()

    def send(row: dict) -> None:
        context = json.loads(row["payload"])["context"]
        mailer.send(OutgoingMail(
            notification_id=row["id"], template=row["template"], to=row["recipient"],
            message_id=message_id_for(row["id"], domain), context=context,
            attachments=_attachments(documents, row["template"], context)))
    return send


def webhook_sender(sender: WebhookSender, endpoints: WebhookEndpoints, clock) -> Callable[[dict], None]:
    def send(row: dict) -> None:
        endpoint = endpoints.get(row["recipient"])
        if endpoint is None:
            raise SendError(f"endpoint {row['recipient']} no longer exists")
        # the body recorded with the item: the same bytes (and ``evt_`` id) on every retry
        sender.deliver(endpoint.url, endpoint.secret, row["payload"].encode(),
                       int(clock.now().timestamp()))
    return send
