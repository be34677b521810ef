"""Events of idempotent API writes: the first response to an Idempotency-Key, kept so a
replay returns it (same status, same body) and a changed body is refused."""

from __future__ import annotations

from events.base import DomainEvent


class RequestResponded(DomainEvent, frozen=True, kw_only=True):
    scope: str  # e.g. "POST /orders/{order_id}/refunds"
    idempotency_key: str
    request_fingerprint: str
    status_code: int
    body: str  # the JSON response body as sent
