"""Notifications (admin): ``GET /ops/outbox`` (CONTRACT §3.5 v2) and the outbound webhook
endpoints ``PUT /admin/webhook-endpoints/{name}``, ``GET …/{name}/deliveries`` (§3.11)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.params import FromQuery, JSONBody, Parameter
from msgspec import Meta

from api.auth import admin_guard
from api.context import strict_query, system_of
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.problems import ApiError
from api.schemas import Request as RequestBody
from api.writes import idempotent_write, strict_body

OutboxStatus = Literal["pending", "sent", "failed"]
WebhookEventType = Literal["order.paid", "order.refunded", "order.cancelled", "order.shipped",
                           "order.delivered", "dispute.opened", "checkout.needs_attention"]
EndpointName = Annotated[str, Parameter(
    pattern=r"^[A-Za-z0-9_.-]{1,64}$", min_length=1, max_length=64,
    description="the endpoint's name: 1-64 letters, digits, '.', '_' or '-'")]
_URL = r"\Ahttps?://[^\s/?#]+[^\s]*\Z"


class WebhookEndpointIn(RequestBody):
    url: Annotated[str, Meta(min_length=8, max_length=2048, pattern=_URL)]
    secret: Annotated[str, Meta(min_length=8, max_length=255, pattern=r"\A[\x21-\x7e]+\Z")]
    events: Annotated[list[WebhookEventType], Meta(min_length=1, max_length=7)]


class WebhookEndpointOut(msgspec.Struct, kw_only=True):
    name: str
    url: str
    events: list[str]
    created_at: str | None
    updated_at: str | None


class OutboxItemOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str | None
    sent_at: str | None
    template: str | None = None
    to: str | None = None
    event_type: str | None = None
    endpoint: str | None = None


class OutboxListOut(msgspec.Struct, kw_only=True):
    items: list[OutboxItemOut]


def _items(rows: list[dict]) -> OutboxListOut:
    return OutboxListOut(items=[OutboxItemOut(**row) for row in rows])


Limit = Annotated[int, Parameter(ge=1, le=500, description="at most this many items, newest first")]


class OutboxController(Controller):
    path = "/"
    tags = ["notifications"]
    security = BEARER
    guards = [admin_guard]

    @get("/ops/outbox", sync_to_thread=True, responses=problems_for(401, 403, 422))
    def outbox(self, request: Request, status: FromQuery[OutboxStatus | None] = None,
               limit: Limit = 100) -> OutboxListOut:
        strict_query(request, "status", "limit")
        return _items(system_of(request).notifications.outbox.items(status, limit=limit))

    @put("/admin/webhook-endpoints/{name:str}", status_code=200,
         responses=problems_for(400, 401, 403, 409, 413, 422))
    async def put_endpoint(self, request: Request, name: EndpointName,
                           data: JSONBody[WebhookEndpointIn],
                           idempotency_key_header: IdempotencyKey = None) -> Response[WebhookEndpointOut]:
        await strict_body(request, WebhookEndpointIn)
        system = system_of(request)

        def run() -> tuple[int, WebhookEndpointOut]:
            endpoint = system.notifications.endpoints.put(
                name, data.url, data.secret, list(data.events), system.clock.now())
            return 200, WebhookEndpointOut(name=endpoint.name, url=endpoint.url,
                                           events=list(endpoint.events),
                                           created_at=endpoint.created_at,
                                           updated_at=endpoint.updated_at)

        return await idempotent_write(request, f"webhook-endpoint:{name}", run)

    @get("/admin/webhook-endpoints/{name:str}/deliveries", sync_to_thread=True,
         responses=problems_for(401, 403, 404, 422))
    def deliveries(self, request: Request, name: EndpointName, status: FromQuery[OutboxStatus | None] = None,
                   limit: Limit = 100) -> OutboxListOut:
        strict_query(request, "status", "limit")
        notifications = system_of(request).notifications
        if notifications.endpoints.get(name) is None:
            raise ApiError(404, "not_found", f"no webhook endpoint {name}")
        return _items(notifications.outbox.items(status, kind="webhook", recipient=name, limit=limit))
