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
    store = request.app.state.system.store
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
    read_models = state.system.read_models
    if read_models is not None:
        for name, (events, seconds) in _safe_lag(read_models).items():
            state.metrics.projection_lag.labels(projection=name).set(events)
            state.metrics.projection_lag_seconds.labels(projection=name).set(seconds)
        _refresh_outbox_gauges(state.system)
    return Response(content=state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _safe_lag(read_models) -> dict[str, tuple[float, float]]:
    try:
        return dict(read_models.lag_metrics())
    except Exception:  # noqa: BLE001 - lag is best effort for a scrape; the scrape still answers
        return {}


def _refresh_outbox_gauges(system) -> None:
    """The outbox gauges as of this scrape (the worker that sends may be another process)."""
    try:
        system.notifications.refresh_gauges()
    except Exception:  # noqa: BLE001 - best effort for a scrape, like the lag above
        pass
