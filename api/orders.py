"""/orders: read (storefront), list (orders projection), refunds (admin)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from api import schemas as s
from api import views as v
from api.auth import admin_guard, storefront_guard
from api.context import idempotency_key, operator_cause, orders_of, read_models_of, strict_query
from api.openapi import BEARER, IdempotencyKey, RequiredIdempotencyKey, problems_for
from api.order_admin import cancel_order
from api.problems import ApiError
from api.writes import idempotent_write, strict_body
from checkout_saga.commands import CartLine, RefundOrder

# RFC 3339 only: a bare number (which litestar would read as a Unix time) or a date without a
# time and offset is a 422, as the document's `format: date-time` says.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
Timestamp = Annotated[str | None, Parameter(
    required=False, schema_extra={"format": "date-time"},
    description="RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z")]


def _rfc3339(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        if not _RFC3339.fullmatch(value):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "validation_error", "the request is not valid", errors=[
            {"field": field, "message": "must be an RFC 3339 timestamp (2026-11-22T10:00:00Z)"}]) from None
    try:
        parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+00:01, before the first UTC instant
        edge = datetime.min if parsed.utcoffset() > timedelta(0) else datetime.max
        return edge.replace(tzinfo=UTC)
    return parsed


class OrderController(Controller):
    path = "/orders"
    tags = ["orders"]
    security = BEARER

    @get("/", guards=[storefront_guard], sync_to_thread=True, responses=problems_for(401, 422, 503))
    def list_orders(
        self, request: Request, customer_id: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
        created_after: Timestamp = None, created_before: Timestamp = None,
        limit: int = Parameter(default=50, ge=1, le=500), cursor: FromQuery[str | None] = None,
        fulfillment_status: FromQuery[Literal["unfulfilled", "processing", "shipped", "delivered"]
                                      | None] = None,
        seller_id: FromQuery[str | None] = None,
    ) -> s.OrderListOut:
        """Orders from the orders projection, newest first."""
        strict_query(request, "customer_id", "status", "created_after", "created_before",
                     "limit", "cursor", "fulfillment_status", "seller_id")
        v2_filters = {k: v for k, v in (("fulfillment_status", fulfillment_status),
                                        ("seller_id", seller_id)) if v is not None}
        read_models = read_models_of(request)
        if read_models is None:
            raise ApiError(503, "service_unavailable", "the orders projection is not available")
        rows, next_cursor = read_models.list_orders(
            customer_id=customer_id, status=status,
            created_after=_rfc3339("created_after", created_after),
            created_before=_rfc3339("created_before", created_before), limit=limit, cursor=cursor,
            **v2_filters)
        return s.OrderListOut(items=rows, next_cursor=next_cursor)

    @get("/{order_id:str}", guards=[storefront_guard], sync_to_thread=True,
         responses=problems_for(401, 404))
    def read(self, request: Request, order_id: FromPath[str]) -> s.OrderOut:
        return v.order_out(orders_of(request).get_order(order_id))

    @delete("/{order_id:str}", guards=[admin_guard], status_code=200,
            responses=problems_for(400, 401, 403, 404, 409, 413, 422))
    async def cancel(self, request: Request, order_id: FromPath[str],
                     data: JSONBody[s.CancelOrderIn | None] = None,
                     idempotency_key_header: IdempotencyKey = None) -> Response[s.OrderOut]:
        """Cancel an unpaid order: its checkout is cancelled and fully compensated (v2). A paid
        order is 409 order_paid (refund it instead)."""
        return await cancel_order(request, order_id, data)

    @get("/{order_id:str}/refunds", guards=[storefront_guard], sync_to_thread=True,
         responses=problems_for(401, 404))
    def refunds(self, request: Request, order_id: FromPath[str]) -> s.RefundListOut:
        order = orders_of(request).get_order(order_id)
        items = sorted(order.refunds.values(), key=lambda r: (r.created_at, r.refund_id))
        return s.RefundListOut(items=[v.refund_out(order.order_id, r) for r in items])

    @post("/{order_id:str}/refunds", guards=[admin_guard], status_code=201,
          responses=problems_for(400, 401, 403, 404, 409, 413, 422, 503))
    async def refund(self, request: Request, order_id: FromPath[str],
                     idempotency_key_header: RequiredIdempotencyKey,
                     data: JSONBody[s.RefundIn | None] = None) -> Response[s.RefundOut]:
        """Refund a paid order (Idempotency-Key required)."""
        await strict_body(request, s.RefundIn | None)
        data = data or s.RefundIn()
        key = idempotency_key(request)
        restock = None if data.restock is None else tuple(
            CartLine(sku=line.sku, quantity=line.quantity) for line in data.restock)

        def run() -> tuple[int, s.RefundOut]:
            cmd = RefundOrder(order_id=order_id, idempotency_key=key, amount=data.amount,
                              reason=data.reason, restock=restock,
                              override_window=data.override_window)
            cause = operator_cause(request)
            refund = orders_of(request).refund(cmd, cause, requested_by=cause.actor)
            return 201, v.refund_out(order_id, refund)

        return await idempotent_write(request, f"refund:{order_id}", run, required=True)
