"""/refunds/{refund_id} (admin): read a refund, and the four-eyes approval of refunds above
``CHECKOUT_SAGA_REFUND_APPROVAL_ABOVE`` (CONTRACT §3.2 v2)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from api import views as v
from api.auth import admin_guard
from api.context import operator_cause, orders_of, read_models_of
from api.ledger_support import ledger_db
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.problems import ApiError
from api.schemas import RefundOut
from api.schemas import Request as Body
from api.writes import idempotent_write, strict_body
from projections.payment_queries import order_of_refund


class ApproveRefundIn(Body):
    note: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None


class RejectRefundIn(Body):
    note: Annotated[str, Meta(min_length=1, max_length=2000)]


def order_id_of_refund(request: Request, refund_id: str) -> str:
    """The refund's order, from the refund index; a refund asked for a moment ago may not be
    projected yet, so the projections catch up once before the answer is 404."""
    db = ledger_db(request)
    for attempt in range(2):
        with db.read() as tx:
            order_id = order_of_refund(tx, refund_id)
        if order_id is not None:
            return order_id
        if attempt == 0:
            read_models_of(request).catch_up()
    raise ApiError(404, "not_found", f"no refund {refund_id}")


class RefundController(Controller):
    path = "/refunds"
    tags = ["orders"]
    security = BEARER
    guards = [admin_guard]

    @get("/{refund_id:str}", sync_to_thread=True, responses=problems_for(401, 403, 404, 503))
    def read(self, request: Request, refund_id: FromPath[str]) -> RefundOut:
        order_id = order_id_of_refund(request, refund_id)
        order = orders_of(request).get_order(order_id)
        return v.refund_out(order_id, order.refunds[refund_id])

    @post("/{refund_id:str}/approve", status_code=200,
          responses=problems_for(400, 401, 403, 404, 409, 413, 422, 503))
    async def approve(self, request: Request, refund_id: FromPath[str],
                      data: JSONBody[ApproveRefundIn | None] = None,
                      idempotency_key_header: IdempotencyKey = None) -> RefundOut:
        """Approve a refund waiting for approval (by an admin key other than the one that
        asked: else 403 approval_requires_second_admin); only now is it sent to Stripe."""
        await strict_body(request, ApproveRefundIn | None)
        note = data.note if data else None

        def run() -> tuple[int, RefundOut]:
            order_id = order_id_of_refund(request, refund_id)
            cause = operator_cause(request, note)
            refund = orders_of(request).approve_refund(order_id, refund_id,
                                                       approved_by=cause.actor, cause=cause)
            return 200, v.refund_out(order_id, refund)

        return await idempotent_write(request, f"refund_approval:{refund_id}", run)

    @post("/{refund_id:str}/reject", status_code=200,
          responses=problems_for(400, 401, 403, 404, 409, 413, 422, 503))
    async def reject(self, request: Request, refund_id: FromPath[str], data: JSONBody[RejectRefundIn],
                     idempotency_key_header: IdempotencyKey = None) -> RefundOut:
        """Reject a refund waiting for approval: it ends as ``rejected``, nothing is sent."""
        await strict_body(request, RejectRefundIn)

        def run() -> tuple[int, RefundOut]:
            order_id = order_id_of_refund(request, refund_id)
            cause = operator_cause(request, data.note)
            refund = orders_of(request).reject_refund(order_id, refund_id, rejected_by=cause.actor,
                                                      note=data.note, cause=cause)
            return 200, v.refund_out(order_id, refund)

        return await idempotent_write(request, f"refund_rejection:{refund_id}", run)
