"""Running a write under the request's Idempotency-Key, off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from anyio import to_thread
from litestar import Request, Response
from litestar.exceptions import ValidationException

from api.context import idempotency_key, idempotency_records_of, system_of
from api.idempotency import record_stream, run_idempotent, validate_key
from api.problems import ApiError, validation_errors


async def idempotent_write(request: Request, scope: str, handler: Callable[[], tuple[int, Any]],
                           *, required: bool = False) -> Response:
    key = validate_key(idempotency_key(request), required=required)
    body = await request.body()

    store = system_of(request).store

    def legacy(scope_: str, key_: str):
        """A response kept as an event before keys had their own table (kept 24 h: this read
        can go one day after the upgrade)."""
        return next(iter(store.stream(record_stream(scope_, key_))), None)

    def run() -> Response:
        return run_idempotent(idempotency_records_of(request), system_of(request).clock,
                              scope=scope, key=key, body=body,
                              handler=lambda: _builtins(handler()), legacy=legacy)

    return await to_thread.run_sync(run)


def _builtins(result: tuple[int, Any]) -> tuple[int, Any]:
    status, content = result
    return status, msgspec.to_builtins(content)


async def strict_body(request: Request, model: Any) -> None:
    """Litestar converts bodies leniently (``"5"`` becomes ``5``); the document promises the
    declared JSON types, so the raw body is checked again strictly. As in JSON Schema, ``2.0``
    is an integer. Called first in each write, after litestar has parsed the body."""
    body = await request.body()
    if not body.strip():
        return  # an absent optional body; litestar has already required it where needed
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return  # not JSON at all: the request class has already answered 400 for such a body
    try:
        msgspec.convert(_integral(document), type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "validation_error", "the request is not valid", errors=validation_errors(
            ValidationException(extra=[{"message": str(exc), "key": "data"}]))) from None


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value
