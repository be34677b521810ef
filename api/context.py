"""What handlers need from the composition root, reached through ``app.state``."""

from __future__ import annotations

from litestar import Request

from api.auth import caller
from events.base import Cause


def service_of(request: Request):
    return request.app.state.service


def clock_of(request: Request):
    return request.app.state.clock


def request_cause(request: Request) -> Cause:
    return Cause(kind="request", ref=request.scope.get("state", {}).get("request_id"))


def operator_cause(request: Request, note: str | None = None) -> Cause:
    _, actor = caller(request)
    return Cause(kind="operator", actor=actor, note=note,
                 ref=request.scope.get("state", {}).get("request_id"))


def idempotency_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")
