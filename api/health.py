"""/healthz, /readyz, /metrics (no key)."""

from __future__ import annotations

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST

from api import schemas as s
from api.openapi import problems_for
from api.problems import problem


@get("/healthz", tags=["health"])
async def healthz() -> s.HealthOut:
    return s.HealthOut(status="ok")


@get("/readyz", tags=["health"], sync_to_thread=True, responses=problems_for(503))
def readyz(request: Request) -> Response:
    store = request.app.state.service.store
    try:
        ping = getattr(store, "max_notification_id", None)
        if ping is not None:
            ping()
    except Exception as exc:  # any failure to answer means not ready; reported, not swallowed
        return problem(503, "not_ready", f"the database does not answer ({type(exc).__name__})")
    return Response(content={"status": "ready"}, status_code=200)


@get("/metrics", tags=["health"], sync_to_thread=True, media_type=CONTENT_TYPE_LATEST)
def metrics(request: Request) -> Response:
    state = request.app.state
    read_models = state.read_models
    if read_models is not None:
        for row in _safe_status(read_models):
            if "name" in row:
                state.metrics.projection_lag.labels(projection=str(row["name"])).set(row.get("lag_events", row.get("lag")) or 0)
    return Response(content=state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _safe_status(read_models) -> list[dict]:
    try:
        return list(read_models.status())
    except Exception:  # projection status is best effort for the scrape
        return []
