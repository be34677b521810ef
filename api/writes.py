"""Running a write under the request's Idempotency-Key, off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from anyio import to_thread
from litestar import Request, Response

from api.context import clock_of, idempotency_key, service_of
from api.idempotency import run_idempotent, validate_key


async def idempotent_write(request: Request, scope: str, handler: Callable[[], tuple[int, Any]],
                           *, required: bool = False) -> Response:
    key = validate_key(idempotency_key(request), required=required)
    body = await request.body()

    def run() -> Response:
        return run_idempotent(service_of(request), clock_of(request), scope=scope, key=key,
                              body=body, handler=lambda: _builtins(handler()))

    return await to_thread.run_sync(run)


def _builtins(result: tuple[int, Any]) -> tuple[int, Any]:
    status, content = result
    return status, msgspec.to_builtins(content)
