"""Stored events are a contract: old payloads still load through upcasters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec

from events import EVENT_TYPES, codec
from events.base import LineItem
from events.checkout import CheckoutStarted

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_an_event_round_trips_through_the_codec():
    event = CheckoutStarted(
        originator_id=uuid.uuid4(), originator_version=1, occurred_at=NOW,
        checkout_session_id="cs_12345678", request_fingerprint="f", customer_id="cus_1",
        customer_email="a@example.com", currency="usd",
        items=[LineItem(sku="A", quantity=1, unit_amount=100)], amount_subtotal=100,
        amount_total=100, expires_at=NOW)

    assert codec.decode(codec.topic_for(event), codec.encode(event)) == event
    assert codec.topic_for(event) == "CheckoutStarted@2"


def test_a_version_1_checkout_started_payload_still_loads():
    stored_v1 = msgspec.json.encode({
        "originator_id": str(uuid.uuid4()), "originator_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z", "checkout_session_id": "cs_12345678",
        "request_fingerprint": "f", "customer": "cus_old", "currency": "usd",
        "items": [{"sku": "A", "quantity": 1, "unit_amount": 100}], "amount_subtotal": 100,
        "amount_total": 100, "expires_at": "2026-01-01T00:15:00Z"})

    event = codec.decode("CheckoutStarted@1", stored_v1)

    assert event.customer_id == "cus_old" and event.customer_email is None


def test_every_event_type_has_a_unique_stable_name():
    assert len(EVENT_TYPES) == len({cls.__name__ for cls in EVENT_TYPES.values()})
