"""Durable Idempotency-Key records in the event store: one stream per (scope, key), whose
only event is the first response. A concurrent duplicate loses the append and replays the
winner's response; the same key with another body is a conflict."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

import msgspec
from litestar import Response

from api.problems import PROBLEM_JSON, ApiError, domain_problem_body
from checkout_saga import errors
from checkout_saga.ids import NAMESPACE
from events.api_requests import RequestResponded

_PRINTABLE = set(range(0x20, 0x7F))


def validate_key(key: str | None, *, required: bool) -> str | None:
    if key is None:
        if required:
            raise ApiError(400, "idempotency_key_required", "this route needs an Idempotency-Key header")
        return None
    if not 1 <= len(key) <= 255 or any(ord(c) not in _PRINTABLE for c in key):
        raise ApiError(422, "validation_error", "the Idempotency-Key is not valid",
                       errors=[{"field": "Idempotency-Key",
                                "message": "must be 1-255 printable ASCII characters"}])
    return key


def record_stream(scope: str, key: str) -> UUID:
    return uuid5(NAMESPACE, f"idempotency:{scope}:{key}")


def fingerprint(body: bytes) -> str:
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body)) if body else b""
    except msgspec.DecodeError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _replay(record: RequestResponded, fp: str) -> Response:
    if record.request_fingerprint != fp:
        raise errors.IdempotencyConflictError(
            "this Idempotency-Key was used with a different request body")
    media = PROBLEM_JSON if record.status_code >= 400 else "application/json"
    return Response(content=record.body.encode(), status_code=record.status_code, media_type=media,
                    headers={"Idempotent-Replayed": "true"})


def run_idempotent(event_store, clock, *, scope: str, key: str | None, body: bytes,
                   handler: Callable[[], tuple[int, Any]]) -> Response:
    """Run ``handler`` once per (scope, key); without a key, just run it."""
    if key is None:
        status, content = handler()
        return Response(content=content, status_code=status)
    store = event_store
    sid = record_stream(scope, key)
    fp = fingerprint(body)
    existing = store.stream(sid)
    if existing:
        return _replay(existing[0], fp)
    try:
        status, content = handler()
        media = "application/json"
    except errors.DomainError as exc:
        status, content = domain_problem_body(exc)
        media = PROBLEM_JSON
        if status >= 500:
            raise
    encoded = msgspec.json.encode(content)
    record = RequestResponded(originator_id=sid, originator_version=1, occurred_at=clock.now(),
                              scope=scope, idempotency_key=key, request_fingerprint=fp,
                              status_code=status, body=encoded.decode())
    try:
        store.append([record])
    except errors.ConcurrencyConflictError:
        return _replay(store.stream(sid)[0], fp)
    return Response(content=encoded, status_code=status, media_type=media)
