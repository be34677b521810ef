"""The Stripe webhook endpoint of this service, through the real SDK (``WebhookEndpoints``):
created for a URL, or updated when one exists for it, subscribed to exactly the event types
the product handles (``checkout_saga.stripe_events.HANDLED_EVENT_TYPES``), so Stripe never
sends one it would only acknowledge.

Stripe shows an endpoint's signing secret only in the reply to its creation: when the
endpoint already exists its secret is kept (``secret`` is None) and the one configured
(``STRIPE_WEBHOOK_SECRET``) stays valid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import stripe

from checkout_saga.stripe_events import HANDLED_EVENT_TYPES


@dataclass(frozen=True)
class WebhookEndpointSetup:
    endpoint_id: str
    url: str
    enabled_events: tuple[str, ...]
    created: bool
    secret: str | None  # only when created


def setup_webhook_endpoint(url: str, *, api_key: str, api_base: str | None = None,
                           events: Sequence[str] = HANDLED_EVENT_TYPES,
                           timeout_seconds: float = 10.0) -> WebhookEndpointSetup:
    """Create (or update) the endpoint for ``url``; raises ``stripe.StripeError`` when Stripe
    refuses or cannot be reached."""
    client = stripe.StripeClient(
        api_key, base_addresses={"api": api_base.rstrip("/")} if api_base else None,
        http_client=stripe.RequestsClient(timeout=timeout_seconds), max_network_retries=2)
    endpoints = client.v1.webhook_endpoints
    existing = next((e for e in endpoints.list({"limit": 100}).auto_paging_iter()
                     if e.url == url), None)
    wanted = list(events)
    if existing is None:
        endpoint = endpoints.create({"url": url, "enabled_events": wanted,
                                     "description": "checkout-saga"})
        secret = getattr(endpoint, "secret", None)
    else:
        endpoint = endpoints.update(existing.id, {"enabled_events": wanted, "disabled": False})
        secret = None
    return WebhookEndpointSetup(endpoint_id=endpoint.id, url=endpoint.url,
                                enabled_events=tuple(endpoint.enabled_events),
                                created=existing is None, secret=secret)
