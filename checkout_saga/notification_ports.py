"""Ports of the notifications outbox: where e-mails go, how a webhook is delivered, and
where an order's invoice (or a refund's credit note) PDF comes from."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec


class Document(msgspec.Struct, frozen=True, kw_only=True):
    filename: str
    content: bytes
    content_type: str = "application/pdf"


class OutgoingMail(msgspec.Struct, frozen=True, kw_only=True):
    notification_id: str
    template: str
    to: str
    message_id: str  # derived from the causing event: the same on every retry
    context: dict[str, Any]
    attachments: tuple[Document, ...] = ()


class SendError(Exception):
    """A send that did not go through (retried later); its message says why, without secrets."""


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Hands the mail over (SMTP accepted it, or it was written); raises SendError."""


class WebhookSender(Protocol):
    def deliver(self, url: str, secret: str, body: bytes, at_unix: int) -> None:
        """POSTs the body signed for ``at_unix``; returns on a 2xx, else raises SendError."""


class InvoiceDocuments(Protocol):
    """The invoice of a paid order, or the credit note of one of its refunds, as a PDF.
    None while the order has none (the mail then goes without an attachment)."""

    def document_for(self, order_id: str, kind: str, refund_id: str | None = None) -> Document | None:
        """``kind`` is ``"invoice"`` or ``"credit_note"`` (with the refund's id)."""


class NoInvoiceDocuments:
    """Until the invoices work lands: no documents, every mail goes without."""

    def document_for(self, order_id: str, kind: str, refund_id: str | None = None) -> Document | None:
        return None
