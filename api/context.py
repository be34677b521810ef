"""What handlers need from the composition root, reached through ``app.state``."""

from __future__ import annotations

from litestar import Request

from api.auth import caller
from application.catalog_service import CatalogService
from application.checkout_service import CheckoutService
from application.order_service import OrderService
from bootstrap import System
from events.base import Cause


def system_of(request: Request) -> System:
    return request.app.state.system


def checkouts_of(request: Request) -> CheckoutService:
    return request.app.state.system.checkouts


def orders_of(request: Request) -> OrderService:
    return request.app.state.system.orders


def catalog_of(request: Request) -> CatalogService:
    return request.app.state.system.catalog


def read_models_of(request: Request):
    """The projections, or None when this process serves none (e.g. a test without them)."""
    return request.app.state.system.read_models


def idempotency_records_of(request: Request):
    return request.app.state.system.idempotency_records


def request_cause(request: Request) -> Cause:
    return Cause(kind="request", ref=request.scope.get("state", {}).get("request_id"))


def operator_cause(request: Request, note: str | None = None) -> Cause:
    _, actor = caller(request)
    return Cause(kind="operator", actor=actor, note=note,
                 ref=request.scope.get("state", {}).get("request_id"))


def idempotency_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


def strict_query(request: Request, *allowed: str) -> None:
    """As with JSON bodies, an unknown query parameter is a 422 naming it (not silently ignored),
    and since every query parameter of this API is a single value, so is a repeated one
    (``?status=a&status=b``) rather than one of the values picked silently."""
    from collections import Counter
    from urllib.parse import parse_qsl

    from api.problems import ApiError

    # the raw query string: litestar's parsed parameters drop a blank name (``?=x``)
    raw = request.scope.get("query_string", b"").decode("latin-1")
    counts = Counter(key for key, _ in parse_qsl(raw, keep_blank_values=True))
    errors = [{"field": key, "message": "unknown parameter"}
              for key in sorted(set(counts) - set(allowed))]
    errors += [{"field": key, "message": "must be given once"}
               for key in sorted(set(counts) & set(allowed)) if counts[key] > 1]
    if errors:
        raise ApiError(422, "validation_error", "the request is not valid", errors=errors)
