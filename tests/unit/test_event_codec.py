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


def test_a_checkout_started_recorded_before_addresses_and_tax_loads_without_them():
    stored = msgspec.json.encode({
        "originator_id": str(uuid.uuid4()), "originator_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z", "checkout_session_id": "cs_12345678",
        "request_fingerprint": "f", "customer_id": "cus_1", "customer_email": None,
        "currency": "usd", "items": [{"sku": "A", "quantity": 1, "unit_amount": 100}],
        "amount_subtotal": 100, "amount_total": 100, "expires_at": "2026-01-01T00:15:00Z"})

    event = codec.decode("CheckoutStarted@2", stored)

    assert (event.amount_tax, event.amount_shipping, event.shipping_address,
            event.billing_address, event.tax_rate) == (0, 0, None, None, None)


def test_an_order_placed_before_v2_loads_with_subtotal_equal_to_total():
    from checkout_saga.order import fold_order

    stored = msgspec.json.encode({
        "originator_id": str(uuid.uuid4()), "originator_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z", "order_id": "ord_1", "order_number": "ORD-1",
        "checkout_id": "chk_1", "customer_id": None, "currency": "usd",
        "items": [{"sku": "A", "quantity": 1, "unit_amount": 100}], "amount_total": 100})

    order = fold_order(None, [codec.decode("OrderPlaced@1", stored)])

    assert (order.amount_subtotal, order.amount_tax, order.amount_shipping) == (100, 0, 0)
    assert order.fulfillment.status == "unfulfilled" and order.invoice is None


def test_a_seller_recorded_before_invoice_fields_loads_without_them():
    stored = msgspec.json.encode({
        "originator_id": str(uuid.uuid4()), "originator_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z", "seller_id": "acct_1", "charges_enabled": True})

    event = codec.decode("SellerUpdated@1", stored)

    assert (event.name, event.address, event.tax_id, event.email) == (None, None, None, None)


def test_a_start_fingerprint_is_unchanged_for_requests_without_the_new_fields():
    from checkout_saga.commands import CartLine, StartCheckout

    cmd = StartCheckout(checkout_session_id="cs_12345678", currency="usd",
                        items=(CartLine(sku="A", quantity=1),))
    legacy = msgspec.json.encode({"checkout_session_id": "cs_12345678", "currency": "usd",
                                  "items": [{"sku": "A", "quantity": 1}], "customer_id": None,
                                  "customer_email": None, "payment_method": None,
                                  "return_url": None})
    import hashlib

    assert cmd.fingerprint() == hashlib.sha256(legacy).hexdigest()
