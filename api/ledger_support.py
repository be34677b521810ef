"""What the ledger's routes share: the read database behind the projections, and the
query parameters' checks."""

from __future__ import annotations

from litestar import Request

from api.context import read_models_of
from api.problems import ApiError


def ledger_db(request: Request):
    """The read database of the projections; 503 when this process serves none."""
    db = getattr(read_models_of(request), "db", None)
    if db is None:
        raise ApiError(503, "service_unavailable", "the payments ledger is not available")
    return db


def one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise ApiError(422, "validation_error", "the request is not valid", errors=[
            {"field": field, "message": "must be one of " + ", ".join(allowed)}])
    return value
