"""Idempotency-Key semantics (CONTRACT §2). The key is claimed (a row inserted) before the
write runs, so a write is applied at most once per key: a duplicate arriving while the first
runs waits for its answer and replays it, or, if the first takes too long, gets
``409 idempotency_key_in_use``. The same key with another body is ``409 idempotency_conflict``;
bodies are compared as parsed JSON (key order and whitespace do not matter)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

import msgspec
from litestar import Response

from adapters.idempotency_records import IdempotencyRecords, KeyRecord
from api.problems import PROBLEM_JSON, ApiError, domain_problem_body, problem_body
from checkout_saga import errors
from checkout_saga.ids import NAMESPACE

_PRINTABLE = set(range(0x20, 0x7F))
WAIT_SECONDS = 5.0  # how long a duplicate waits for the first request's answer


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
    """Where responses were kept before keys had their own table (``RequestResponded``)."""
    return uuid5(NAMESPACE, f"idempotency:{scope}:{key}")


def fingerprint(body: bytes) -> str:
    """The body as canonical JSON (keys sorted, no whitespace), hashed; raw bytes if not JSON."""
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted") if body.strip() else b""
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _replay(status_code: int, body: str, recorded_fingerprint: str, fp: str) -> Response:
    if recorded_fingerprint != fp:
        raise errors.IdempotencyConflictError(
            "this Idempotency-Key was used with a different request body")
    media = PROBLEM_JSON if status_code >= 400 else "application/json"
    return Response(content=body.encode(), status_code=status_code, media_type=media,
                    headers={"Idempotent-Replayed": "true"})


def _in_use() -> ApiError:
    return ApiError(409, "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still being processed; retry later",
                    headers={"Retry-After": "1"})


def _await_answer(records: IdempotencyRecords, seen: KeyRecord, fp: str, wait_seconds: float,
                  sleep: Callable[[float], None]) -> Response:
    """The first request's answer once it has one (within ``wait_seconds``)."""
    if seen.request_fingerprint != fp:
        raise errors.IdempotencyConflictError(
            "this Idempotency-Key was used with a different request body")
    deadline, pause = time.monotonic() + wait_seconds, 0.02
    while not seen.finished:
        if time.monotonic() >= deadline:
            raise _in_use()
        sleep(pause)
        pause = min(pause * 2, 0.25)
        current = records.find(seen.scope, seen.key)
        if current is None or current.claim_id != seen.claim_id:
            raise _in_use()  # the first request gave the key back (nothing applied): retry
        seen = current
    return _replay(seen.status_code, seen.body, seen.request_fingerprint, fp)


def run_idempotent(records: IdempotencyRecords, clock, *, scope: str, key: str | None, body: bytes,
                   handler: Callable[[], tuple[int, Any]], legacy: Callable[[str, str], Any] | None = None,
                   wait_seconds: float = WAIT_SECONDS,
                   sleep: Callable[[float], None] = time.sleep) -> Response:
    """Run ``handler`` at most once per (scope, key); without a key, just run it.
    ``legacy`` finds a response kept as a ``RequestResponded`` event (before this table)."""
    if key is None:
        status, content = handler()
        return Response(content=content, status_code=status)
    fp = fingerprint(body)
    if legacy is not None and (old := legacy(scope, key)) is not None:
        return _replay(old.status_code, old.body, old.request_fingerprint, fp)
    owned, claim = records.claim(scope, key, fp, clock.now())
    if not owned:
        return _await_answer(records, claim, fp, wait_seconds, sleep)
    status, content, media = _run(records, claim, handler, clock)
    encoded = msgspec.json.encode(content)
    records.complete(claim, status, encoded.decode(), clock.now())
    return Response(content=encoded, status_code=status, media_type=media)


def _run(records: IdempotencyRecords, claim: KeyRecord, handler: Callable[[], tuple[int, Any]],
         clock) -> tuple[int, Any, str]:
    try:
        status, content = handler()
        return status, content, "application/json"
    except errors.DomainError as exc:
        status, content = domain_problem_body(exc)
        if status >= 500:  # e.g. the provider is unavailable: nothing was done, a retry may run
            records.release(claim)
            raise
        return status, content, PROBLEM_JSON
    except ApiError:
        records.release(claim)  # refused before anything was done
        raise
    except Exception:
        # As at Stripe, the first answer is kept even when it is a 500: whether the write
        # happened is unknown, so running it again could apply it twice.
        records.complete(claim, 500, msgspec.json.encode(problem_body(
            500, "internal_error", "an unexpected error occurred; it has been logged")).decode(),
            clock.now())
        raise
