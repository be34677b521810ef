"""Idempotency-Key records: the key is claimed before the write runs; the first response is
kept and replayed; a duplicate in flight waits for it (or is told the key is in use); keys are
forgotten after 24 hours."""

from __future__ import annotations

import msgspec
import pytest

from adapters.database import parse_database_url
from adapters.idempotency_records import IdempotencyRecords, scheduled_purge
from adapters.read_database import ReadDatabase
from api.idempotency import fingerprint, record_stream, run_idempotent
from api.problems import ApiError
from checkout_saga import errors
from events.api_requests import RequestResponded


@pytest.fixture
def records(database_url):
    kept = IdempotencyRecords(ReadDatabase(parse_database_url(database_url)))
    yield kept
    kept.close()


def _run(records, clock, body=b"{}", handler=lambda: (200, {"ok": True}), scope="adjust:MUG",
         key="k", **options):
    return run_idempotent(records, clock, scope=scope, key=key, body=body, handler=handler, **options)


def test_a_duplicate_of_a_request_in_flight_waits_and_replays_its_answer(records, clock):
    body = b'{"delta": 5}'
    owned, first = records.claim("adjust:MUG", "k", fingerprint(body), clock.now())
    calls = []

    def first_request_finishes(_seconds):  # while the duplicate waits, the first one answers
        records.complete(first, 200, '{"on_hand": 5}', clock.now())

    response = _run(records, clock, body, handler=lambda: calls.append(1) or (200, {}),
                    sleep=first_request_finishes)

    assert owned and calls == []
    assert (response.status_code, msgspec.json.decode(response.content)) == (200, {"on_hand": 5})


def test_a_duplicate_of_a_request_still_running_is_told_the_key_is_in_use(records, clock):
    records.claim("adjust:MUG", "k", fingerprint(b"{}"), clock.now())

    with pytest.raises(ApiError) as raised:
        _run(records, clock, wait_seconds=0, handler=lambda: pytest.fail("ran twice"))

    assert (raised.value.status, raised.value.code) == (409, "idempotency_key_in_use")
    assert raised.value.headers == {"Retry-After": "1"}


def test_a_recorded_response_is_replayed_without_running_the_handler_again(records, clock):
    calls = []

    def handler():
        calls.append(1)
        return 200, {"ok": len(calls)}

    _run(records, clock, b'{"delta": 1}', handler)
    again = _run(records, clock, b'{"delta": 1}', handler)

    assert calls == [1] and msgspec.json.decode(again.content) == {"ok": 1}
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_domain_refusal_is_kept_and_replayed_as_the_same_problem(records, clock):
    def refuse():
        raise errors.InsufficientStockError("not enough stock", checkout_id="chk_1", lines=[])

    first = _run(records, clock, handler=refuse)
    again = _run(records, clock, handler=lambda: pytest.fail("ran twice"))

    assert first.status_code == again.status_code == 409
    assert msgspec.json.decode(first.content) == msgspec.json.decode(again.content)


def test_a_request_refused_because_the_provider_is_down_gives_its_key_back(records, clock):
    def unavailable():
        raise errors.PaymentProviderUnavailableDomainError("down")

    with pytest.raises(errors.PaymentProviderUnavailableDomainError):
        _run(records, clock, handler=unavailable)
    retried = _run(records, clock, handler=lambda: (200, {"ran": True}))

    assert msgspec.json.decode(retried.content) == {"ran": True}


def test_the_same_key_in_another_scope_is_independent(records, clock):
    _run(records, clock, handler=lambda: (200, {"a": 1}))

    other = _run(records, clock, b'{"x": 1}', handler=lambda: (200, {"b": 2}), scope="adjust:HAT")

    assert msgspec.json.decode(other.content) == {"b": 2}


def test_the_same_key_with_another_body_is_a_conflict(records, clock):
    _run(records, clock, b'{"delta": 1}')

    with pytest.raises(errors.IdempotencyConflictError):
        _run(records, clock, b'{"delta": 2}')


def test_the_same_key_with_the_same_json_in_another_key_order_and_spacing_is_a_replay(records, clock):
    _run(records, clock, b'{"delta": 1, "reason": "restock"}', handler=lambda: (200, {"n": 1}))

    again = _run(records, clock, b'{ "reason":"restock",\n  "delta":1 }', handler=lambda: (200, {"n": 2}))

    assert msgspec.json.decode(again.content) == {"n": 1}


def test_whitespace_and_key_order_at_any_depth_do_not_change_the_fingerprint():
    assert fingerprint(b'{"a": 1, "b": {"c": 2, "d": 3}}') == fingerprint(b'{"b":{"d":3,"c":2},"a":1}')
    assert fingerprint(b'{"a": 1}') != fingerprint(b'{"a": 2}')


def test_a_response_kept_as_an_event_before_the_upgrade_is_still_replayed(service, records, clock):
    body = b'{"delta": 1}'
    service.store.append([RequestResponded(
        originator_id=record_stream("adjust:MUG", "k"), originator_version=1, occurred_at=clock.now(),
        scope="adjust:MUG", idempotency_key="k", request_fingerprint=fingerprint(body),
        status_code=200, body='{"old": true}')])

    def legacy(scope, key):
        return next(iter(service.store.stream(record_stream(scope, key))), None)

    again = _run(records, clock, body, handler=lambda: pytest.fail("ran twice"), legacy=legacy)

    assert msgspec.json.decode(again.content) == {"old": True}


def test_keys_are_purged_after_24_hours_and_may_then_be_used_again(records, clock):
    _run(records, clock, handler=lambda: (200, {"n": 1}))
    clock.advance(hours=23)
    _run(records, clock, key="younger", handler=lambda: (200, {"n": 2}))
    clock.advance(hours=1, seconds=1)

    scheduled_purge(records, clock)()

    assert records.find("adjust:MUG", "k") is None
    assert records.find("adjust:MUG", "younger") is not None
    reused = _run(records, clock, b'{"other": "body"}', handler=lambda: (200, {"n": 3}))
    assert msgspec.json.decode(reused.content) == {"n": 3}
