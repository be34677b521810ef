"""The request middleware: logs method, route, status and duration, counts the request in
the metrics, and echoes the request id in ``X-Request-ID``. (Logging itself is set up by
``adapters.logging_setup``.)"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
    return f"req_{uuid.uuid4().hex}"


def _route(scope: Scope) -> str:
    handler = scope.get("route_handler")
    template = scope.get("path_template")
    if template:
        return template
    if handler is not None:
        paths = sorted(getattr(handler, "paths", ()) or ())
        if paths:
            return paths[0]
    return "unmatched"


def request_logging_middleware(app: ASGIApp) -> ASGIApp:
    log = structlog.get_logger("http")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = _route(scope)
                metrics = getattr(scope["app"].state, "metrics", None) if "app" in scope else None
                if metrics is not None:
                    metrics.requests.labels(method=scope["method"], route=route,
                                            status=str(status_holder["status"])).inc()
                    metrics.latency.labels(method=scope["method"], route=route).observe(seconds)
                log.info("request", method=scope["method"], route=route,
                         status=status_holder["status"], duration_ms=round(seconds * 1000, 2))

    return middleware
