"""POST /webhooks/stripe: authenticated by its signature only; recorded before 200 with one
insert (``application.webhook_intake``); the worker applies it. No Stripe call here."""

from __future__ import annotations

from typing import Annotated

import structlog
from litestar import Controller, Request, post
from litestar.params import HeaderParameter

from api import schemas as s
from api.openapi import STRIPE_SIGNATURE_PATTERN, StripeEventOperation, problems_for
from api.problems import ApiError

log = structlog.get_logger("webhooks")


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/stripe", status_code=200, responses=problems_for(400, 413, 503),
          operation_class=StripeEventOperation)
    async def stripe(
        self, request: Request,
        stripe_signature: Annotated[str, HeaderParameter(
            name="Stripe-Signature", schema_extra={"pattern": STRIPE_SIGNATURE_PATTERN},
            description="t=...,v1=...; missing or wrong is 400 invalid_signature")],
    ) -> s.WebhookAck:
        from anyio import to_thread

        payload = await request.body()
        secret = request.app.state.webhook_secret
        if not secret:
            raise ApiError(503, "service_unavailable", "no webhook secret is configured")
        notice = _verified(payload, stripe_signature, secret)
        metrics = request.app.state.metrics
        try:
            duplicate = await to_thread.run_sync(lambda: _record(request, notice, payload))
        except Exception:
            metrics.webhooks.labels(type=notice.type, outcome="error").inc()
            raise
        metrics.webhooks.labels(type=notice.type,
                                outcome="duplicate" if duplicate else "recorded").inc()
        log.info("stripe_webhook", event_id=notice.event_id, type=notice.type, duplicate=duplicate)
        return s.WebhookAck(received=True, duplicate=duplicate)


def _verified(payload: bytes, header: str | None, secret: str):
    from adapters.stripe_webhooks import InvalidWebhookSignatureError, verify_and_parse

    if not header:
        raise ApiError(400, "invalid_signature", "the Stripe-Signature header is missing")
    try:
        return verify_and_parse(payload, header, secret)
    except InvalidWebhookSignatureError:
        raise ApiError(400, "invalid_signature", "the webhook signature is not valid") from None
    except ValueError:
        raise ApiError(400, "invalid_signature", "the webhook payload is not a Stripe event") from None


def _record(request: Request, notice, payload: bytes) -> bool:
    """Record (committed before we answer 200); True for an event id recorded before."""
    intake = request.app.state.system.webhook_intake
    return intake.record(notice, payload.decode("utf-8", "replace"))
