"""Webhook signature verification (the SDK's verifier on the raw body) and event normalising."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from adapters.stripe_webhooks import (
    InvalidWebhookSignatureError,
    notice_from_event,
    verify_and_parse,
)

SECRET = "whsec_test_secret"


def signed(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8"), secret, timestamp=timestamp
    )


def event(type_: str, obj: dict, *, event_id: str = "evt_1") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": type_,
        "created": 1_790_000_000,
        "livemode": False,
        "data": {"object": obj},
    }


def intent(**overrides) -> dict:
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "requires_capture",
        "amount": 3998,
        "amount_capturable": 3998,
        "amount_received": 0,
        "currency": "usd",
        "client_secret": "pi_1_secret_x",
        "next_action": None,
        "last_payment_error": None,
        "latest_charge": "ch_1",
        "metadata": {"checkout_id": "chk_1", "order_id": "ord_1"},
        "created": 1_790_000_000,
    } | overrides


BODY = json.dumps(event("payment_intent.succeeded", intent(status="succeeded"))).encode()


# --- verification ------------------------------------------------------------------------


def test_a_correctly_signed_event_is_verified_and_normalised():
    notice = verify_and_parse(BODY, signed(BODY), SECRET)

    assert (notice.event_id, notice.type) == ("evt_1", "payment_intent.succeeded")
    assert notice.payment_intent.status == "succeeded"
    assert notice.checkout_id == "chk_1"


@pytest.mark.parametrize("header", [None, ""], ids=["absent", "empty"])
def test_a_missing_signature_is_rejected(header):
    with pytest.raises(InvalidWebhookSignatureError) as raised:
        verify_and_parse(BODY, header, SECRET)

    assert raised.value.reason == "missing_signature"
    assert raised.value.code == "invalid_signature"


def test_a_signature_made_with_another_secret_is_rejected():
    with pytest.raises(InvalidWebhookSignatureError) as raised:
        verify_and_parse(BODY, signed(BODY, secret="whsec_someone_else"), SECRET)

    assert raised.value.reason == "bad_signature"


def test_a_body_changed_after_signing_is_rejected():
    header = signed(BODY)
    tampered = BODY.replace(b"3998", b"1")

    with pytest.raises(InvalidWebhookSignatureError):
        verify_and_parse(tampered, header, SECRET)


def test_a_signature_older_than_the_tolerance_is_rejected_as_stale():
    header = signed(BODY, timestamp=int(time.time()) - 301)

    with pytest.raises(InvalidWebhookSignatureError) as raised:
        verify_and_parse(BODY, header, SECRET, tolerance_seconds=300)

    assert raised.value.reason == "stale"


def test_a_timestamp_beyond_the_tolerance_in_the_future_is_rejected_as_stale():
    header = signed(BODY, timestamp=int(time.time()) + 3600)

    with pytest.raises(InvalidWebhookSignatureError) as raised:
        verify_and_parse(BODY, header, SECRET, tolerance_seconds=300)

    assert raised.value.reason == "stale"


@pytest.mark.parametrize("header", ["garbage", "t=notanumber,v1=abc", "t=123"])
def test_a_garbled_signature_header_is_rejected(header):
    with pytest.raises(InvalidWebhookSignatureError):
        verify_and_parse(BODY, header, SECRET)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"object": "event"}', b'{"object": "charge", "id": "ch_1"}'],
    ids=["not_json", "not_an_object", "no_id_or_type", "not_an_event"],
)
def test_a_correctly_signed_body_that_is_not_a_stripe_event_is_rejected_as_malformed(body):
    with pytest.raises(InvalidWebhookSignatureError) as raised:
        verify_and_parse(body, signed(body), SECRET)

    assert raised.value.reason == "malformed_payload"


@given(payload=st.binary(max_size=200), header=st.one_of(st.none(), st.text(max_size=80)))
def test_arbitrary_input_either_verifies_or_raises_invalid_signature(payload, header):
    try:
        verify_and_parse(payload, header, SECRET)
    except InvalidWebhookSignatureError:
        pass


@given(
    document=st.recursive(
        st.none() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=8), inner),
    )
)
def test_any_signed_json_either_normalises_or_raises_invalid_signature(document):
    body = json.dumps(document).encode()
    try:
        verify_and_parse(body, signed(body), SECRET)
    except InvalidWebhookSignatureError:
        pass


# --- normalising -------------------------------------------------------------------------


def test_a_payment_intent_event_carries_the_intent_and_its_checkout():
    pi = intent(
        status="requires_action",
        latest_charge={"id": "ch_9", "object": "charge"},
        next_action={"type": "redirect_to_url", "redirect_to_url": {"url": "https://3ds/x"}},
    )

    notice = notice_from_event(event("payment_intent.requires_action", pi))

    assert notice.payment_intent_id == "pi_1"
    assert notice.checkout_id == "chk_1"
    assert notice.payment_intent.next_action_url == "https://3ds/x"
    assert notice.payment_intent.latest_charge == "ch_9"
    assert notice.payment_intent.amount_capturable == 3998


def test_a_payment_failed_event_carries_the_decline():
    error = {"code": "card_declined", "decline_code": "insufficient_funds", "message": "No."}
    pi = intent(status="requires_payment_method", last_payment_error=error)

    snapshot = notice_from_event(event("payment_intent.payment_failed", pi)).payment_intent

    assert (snapshot.last_error_code, snapshot.last_decline_code) == (
        "card_declined",
        "insufficient_funds",
    )
    assert snapshot.last_error_message == "No."


def test_a_charge_refunded_event_names_the_payment_intent_of_the_charge():
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_7", "refunded": True}

    notice = notice_from_event(event("charge.refunded", charge))

    assert notice.payment_intent_id == "pi_7"
    assert notice.refund is None


@pytest.mark.parametrize("type_", ["refund.created", "refund.updated", "refund.failed"])
def test_a_refund_event_carries_the_refund_with_our_refund_key(type_):
    refund = {
        "id": "re_1",
        "object": "refund",
        "payment_intent": "pi_7",
        "amount": 500,
        "currency": "usd",
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "metadata": {"refund_id": "rf_1"},
        "created": 1_790_000_000,
    }

    notice = notice_from_event(event(type_, refund))

    assert notice.refund.refund_key == "rf_1"
    assert notice.refund.failure_reason == "expired_or_canceled_card"
    assert notice.payment_intent_id == "pi_7"


@pytest.mark.parametrize("type_", ["charge.dispute.created", "charge.dispute.closed"])
def test_a_dispute_event_carries_the_dispute_and_its_payment_intent(type_):
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 3998,
        "reason": "fraudulent",
        "status": "needs_response",
        "charge": "ch_1",
        "payment_intent": "pi_7",
    }

    notice = notice_from_event(event(type_, dispute))

    assert (notice.dispute_id, notice.dispute_amount) == ("dp_1", 3998)
    assert (notice.dispute_reason, notice.dispute_status) == ("fraudulent", "needs_response")
    assert notice.payment_intent_id == "pi_7"


def test_any_other_event_type_keeps_only_its_type_and_id():
    notice = notice_from_event(event("customer.created", {"id": "cus_1", "object": "customer"}))

    assert (notice.event_id, notice.type) == ("evt_1", "customer.created")
    assert notice.payment_intent is None and notice.payment_intent_id is None
