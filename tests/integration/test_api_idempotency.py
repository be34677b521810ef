"""Durable Idempotency-Key records: first response kept, replayed, and races settled by the
event store's optimistic concurrency."""

from __future__ import annotations

import msgspec
import pytest

from api.idempotency import fingerprint, record_stream, run_idempotent
from checkout_saga import errors
from events.api_requests import RequestResponded


def _record(store, clock, scope, key, body, status, content):
    store.append([RequestResponded(
        originator_id=record_stream(scope, key), originator_version=1, occurred_at=clock.now(),
        scope=scope, idempotency_key=key, request_fingerprint=fingerprint(body), status_code=status,
        body=msgspec.json.encode(content).decode())])


def test_a_racing_duplicate_loses_the_append_and_replays_the_winner(service, clock):
    body = b'{"amount": 1}'

    def handler():  # the winner records its response while this request is still running
        _record(service.store, clock, "refund:ord_1", "k", body, 201, {"winner": True})
        return 201, {"winner": False}

    response = run_idempotent(service.store, clock, scope="refund:ord_1", key="k", body=body, handler=handler)

    assert (response.status_code, msgspec.json.decode(response.content)) == (201, {"winner": True})


def test_a_recorded_response_is_replayed_without_running_the_handler_again(service, clock):
    calls = []
    body = b'{"delta": 1}'

    def handler():
        calls.append(1)
        return 200, {"ok": len(calls)}

    run_idempotent(service.store, clock, scope="adjust:MUG", key="k", body=body, handler=handler)
    again = run_idempotent(service.store, clock, scope="adjust:MUG", key="k", body=body, handler=handler)

    assert calls == [1] and msgspec.json.decode(again.content) == {"ok": 1}


def test_the_same_key_in_another_scope_is_independent(service, clock):
    run_idempotent(service.store, clock, scope="adjust:MUG", key="k", body=b"{}", handler=lambda: (200, {"a": 1}))

    other = run_idempotent(service.store, clock, scope="adjust:HAT", key="k", body=b'{"x": 1}',
                           handler=lambda: (200, {"b": 2}))

    assert msgspec.json.decode(other.content) == {"b": 2}


def test_the_same_key_with_another_body_is_a_conflict(service, clock):
    run_idempotent(service.store, clock, scope="adjust:MUG", key="k", body=b'{"delta": 1}',
                   handler=lambda: (200, {}))

    with pytest.raises(errors.IdempotencyConflictError):
        run_idempotent(service.store, clock, scope="adjust:MUG", key="k", body=b'{"delta": 2}',
                       handler=lambda: (200, {}))


def test_whitespace_and_key_order_do_not_change_the_fingerprint():
    assert fingerprint(b'{"a": 1, "b": 2}') == fingerprint(b'{"a":1,"b":2}')
