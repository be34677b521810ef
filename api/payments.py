"""/payments (storefront): the payments ledger, newest first, and one payment with its
refunds and disputes (CONTRACT §3.10)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter

from api.auth import storefront_guard
from api.context import strict_query
from api.ledger_support import ledger_db, one_of
from api.openapi import BEARER, problems_for
from api.orders import Timestamp, _rfc3339
from api.problems import ApiError
from api.schemas import Response
from projections import payment_queries as q


class PaymentListOut(Response):
    items: list[dict]
    next_cursor: str | None


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]
    security = BEARER

    @get("/", guards=[storefront_guard], sync_to_thread=True, responses=problems_for(401, 422, 503))
    def list_payments(
        self, request: Request, order_id: FromQuery[str | None] = None,
        customer_id: FromQuery[str | None] = None,
        status: Annotated[str | None, QueryParameter(required=False,
                                                     enum=list(q.PAYMENT_STATUSES))] = None,
        created_after: Timestamp = None, created_before: Timestamp = None,
        limit: int = Parameter(default=50, ge=1, le=500), cursor: FromQuery[str | None] = None,
    ) -> PaymentListOut:
        """Payments from the payments projection, newest first."""
        strict_query(request, "order_id", "customer_id", "status", "created_after",
                     "created_before", "limit", "cursor")
        query = {"order_id": order_id, "customer_id": customer_id,
                 "status": one_of("status", status, q.PAYMENT_STATUSES),
                 "created_after": _rfc3339("created_after", created_after),
                 "created_before": _rfc3339("created_before", created_before),
                 "limit": limit, "cursor": cursor}
        with ledger_db(request).read() as tx:
            rows, next_cursor = q.list_payments(tx, **query)
        return PaymentListOut(items=rows, next_cursor=next_cursor)

    @get("/{payment_id:str}", guards=[storefront_guard], sync_to_thread=True,
         responses=problems_for(401, 404, 503))
    def read(self, request: Request, payment_id: FromPath[str]) -> dict:
        """One payment, with its refunds and disputes."""
        with ledger_db(request).read() as tx:
            payment = q.get_payment(tx, payment_id)
        if payment is None:
            raise ApiError(404, "not_found", f"no payment {payment_id}")
        return payment
