"""/ops (admin): stuck checkouts, operator retry/resolve, reconciliation report."""

from __future__ import annotations

from typing import Literal, get_args

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from api import schemas as s
from api import views as v
from api.auth import admin_guard, caller
from api.context import checkouts_of, read_models_of, strict_query
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.problems import ApiError
from api.writes import idempotent_write, strict_body

OpsStatus = Literal["needs_attention", "processing", "awaiting_payment", "requires_action"]
OPS_STATUSES = get_args(OpsStatus)
MAX_AGE_SECONDS = 10 * 366 * 24 * 3600


class OpsController(Controller):
    path = "/ops"
    tags = ["ops"]
    security = BEARER
    guards = [admin_guard]

    @get("/checkouts", sync_to_thread=True, responses=problems_for(401, 403, 422, 503))
    def checkouts(self, request: Request, status: FromQuery[OpsStatus] = "needs_attention",
                  older_than_seconds: int | None = Parameter(
                      default=None, ge=0, le=MAX_AGE_SECONDS, schema_extra={"minimum": 0})) -> s.CheckoutListOut:
        strict_query(request, "status", "older_than_seconds")
        if status not in OPS_STATUSES:
            raise ApiError(422, "validation_error", "the request is not valid", errors=[
                {"field": "status", "message": f"must be one of {', '.join(OPS_STATUSES)}"}])
        read_models = read_models_of(request)
        if read_models is None:
            raise ApiError(503, "service_unavailable", "the ops projection is not available")
        ids = read_models.list_ops_checkouts(status=status, older_than_seconds=older_than_seconds)
        service = checkouts_of(request)
        return s.CheckoutListOut(items=[v.checkout_out(service.get(i)) for i in ids])

    @post("/checkouts/{checkout_id:str}/retry", status_code=200,
          responses=problems_for(400, 401, 403, 404, 409, 413, 422))
    async def retry(self, request: Request, checkout_id: FromPath[str],
                    data: JSONBody[s.RetryIn | None] = None,
                    idempotency_key_header: IdempotencyKey = None) -> s.CheckoutOut:
        await strict_body(request, s.RetryIn | None)
        note = data.note if data else None
        _, actor = caller(request)
        return await idempotent_write(request, f"retry:{checkout_id}", lambda: (200, v.checkout_out(
            checkouts_of(request).retry(checkout_id, actor=actor, note=note))))

    @post("/checkouts/{checkout_id:str}/resolve", status_code=200,
          responses=problems_for(400, 401, 403, 404, 409, 413, 422))
    async def resolve(self, request: Request, checkout_id: FromPath[str], data: JSONBody[s.ResolveIn],
                      idempotency_key_header: IdempotencyKey = None) -> s.CheckoutOut:
        await strict_body(request, s.ResolveIn)
        _, actor = caller(request)
        return await idempotent_write(request, f"resolve:{checkout_id}", lambda: (200, v.checkout_out(
            checkouts_of(request).resolve(checkout_id, actor=actor, note=data.note))))

    @get("/reconciliation", sync_to_thread=True, responses=problems_for(401, 403))
    def reconciliation(self, request: Request) -> s.ReconciliationOut:
        report = read_models_of(request).latest_reconciliation_report()
        if report is None:
            return s.ReconciliationOut(report=None, detail="no reconciliation has run yet")
        return s.ReconciliationOut(report=report)
