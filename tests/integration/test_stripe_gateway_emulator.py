"""StripePaymentGateway against the built-in Stripe emulator: the same contract scenarios as
localstripe (and the ones only the emulator supports), then the faults only it can inject.
"""

from __future__ import annotations

import time

import httpx
import pytest

from adapters.circuit_breaker import BreakerSettings
from adapters.stripe_webhooks import verify_and_parse
from checkout_saga.ports import (
    PaymentOutcomeUnknownError,
    PaymentRateLimitedError,
    PaymentRequestRejectedError,
)

from .stripe_contract_scenarios import (
    AMOUNT,
    WEBHOOK_SECRET,
    ContractServer,
    authorise,
    new_checkout,
    receiving_webhooks,
    scenarios_for,
    wait_for,
)

FEATURES = frozenset(
    {
        "amounts",
        "decline_attaches_intent",
        "idempotency",
        "search",
        "list_objects",
        "confirm_later",
        "authenticate",
        "webhooks",
        "events",
    }
)
_CARDS = {
    "visa": "pm_card_visa",
    "declined": "pm_card_chargeDeclined",
    "authentication_required": "pm_card_authenticationRequired",
}
RESOLVE_SECONDS = 20.0  # upper bound for a held reply to be released, not a latency figure
PATIENT = BreakerSettings(
    failure_threshold=1000
)  # these tests retry; the breaker is not under test


def control(base_url: str, path: str, body: dict) -> dict:
    response = httpx.post(f"{base_url}/_emulator{path}", json=body)
    response.raise_for_status()
    return response.json()


@pytest.fixture
def emulator(stripe_emulator) -> ContractServer:
    base_url = stripe_emulator.base_url
    return ContractServer(
        name="emulator",
        api_base=base_url,
        api_key="sk_test_emulator",
        payment_method=_CARDS.__getitem__,
        register_webhook=lambda url, secret: control(
            base_url, "/webhook_endpoints", {"url": url, "secret": secret}
        ),
        features=FEATURES,
        authenticate=lambda intent_id, outcome: control(
            base_url, f"/payment_intents/{intent_id}/authenticate", {"outcome": outcome}
        ),
    )


def inject(server: ContractServer, fault: str, path: str, **extra) -> None:
    body = {"method": "POST", "path": path, "fault": fault, "times": 1} | extra
    control(server.api_base, "/faults", body)


def create(gateway, checkout_id: str, *, payment_method: str = "pm_card_visa"):
    return gateway.create_payment_intent(
        amount=AMOUNT,
        currency="usd",
        checkout_id=checkout_id,
        order_id=f"ord_{checkout_id}",
        idempotency_key=f"{checkout_id}:create_payment_intent",
        payment_method=payment_method,
    )


def retry_until_resolved(attempt):
    """The saga's recovery: the same call, same key, until the outcome is known."""
    deadline = time.monotonic() + RESOLVE_SECONDS
    while True:
        try:
            return attempt()
        except PaymentOutcomeUnknownError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --- the shared contract ------------------------------------------------------------------


@pytest.mark.parametrize("scenario", scenarios_for(FEATURES))
def test_the_gateway_honours_its_contract_against_the_emulator(emulator, scenario):
    scenario(emulator)


def test_a_signed_dispute_webhook_carries_the_dispute(emulator):
    gateway = emulator.gateway()
    checkout_id = new_checkout()
    intent = authorise(emulator, gateway, checkout_id)
    gateway.capture_payment_intent(intent.id, idempotency_key=f"{checkout_id}:capture")
    with receiving_webhooks() as (url, deliveries):
        emulator.register_webhook(url, WEBHOOK_SECRET)
        control(emulator.api_base, f"/payment_intents/{intent.id}/dispute", {})

        delivery = wait_for(deliveries, lambda e: e["type"] == "charge.dispute.created")

    notice = verify_and_parse(delivery.body, delivery.signature, WEBHOOK_SECRET)
    assert notice.payment_intent_id == intent.id
    assert notice.dispute_id and notice.dispute_amount == AMOUNT


# --- faults only the emulator can inject -------------------------------------------------------


def test_a_500_leaves_the_outcome_unknown(emulator):
    inject(emulator, "error_500", "/v1/payment_intents")

    with pytest.raises(PaymentOutcomeUnknownError):
        create(emulator.gateway(), new_checkout())


def test_rate_limiting_is_reported_as_rate_limited(emulator):
    inject(emulator, "rate_limit", "/v1/payment_intents")

    with pytest.raises(PaymentRateLimitedError):
        create(emulator.gateway(), new_checkout())


def test_an_id_that_is_not_http_is_a_rejection_the_breaker_does_not_count(emulator):
    # given a breaker that would open on the first transient failure
    gateway = emulator.gateway(breaker=BreakerSettings(failure_threshold=1))
    customer = gateway.ensure_customer(customer_id="cus_not_http", idempotency_key="cus_not_http:create")

    # when a payment method id with a control character is attached (the server refuses the
    # request line, with a body that is not Stripe's JSON)
    with pytest.raises(PaymentRequestRejectedError):
        gateway.attach_payment_method("\u0007\u00e3", stripe_customer_id=customer,
                                      idempotency_key="cus_not_http:attach")

    # then it is the caller's error, not an outage: the breaker stays closed
    assert gateway.is_available()
    assert gateway.list_payment_methods(customer) == []


def test_a_reply_that_comes_after_the_client_gave_up_leaves_the_outcome_unknown(emulator):
    inject(emulator, "timeout", "/v1/payment_intents", delay_seconds=1.5)

    with pytest.raises(PaymentOutcomeUnknownError):
        create(emulator.gateway(timeout_seconds=0.3), new_checkout())


def test_a_lost_reply_leaves_the_outcome_unknown(emulator):
    inject(emulator, "drop_response", "/v1/payment_intents")

    with pytest.raises(PaymentOutcomeUnknownError):
        create(emulator.gateway(), new_checkout())


@pytest.mark.parametrize("fault", ["drop_response", "timeout", "error_500"])
def test_retrying_a_create_with_the_same_key_makes_exactly_one_intent(emulator, fault):
    gateway = emulator.gateway(timeout_seconds=0.3, breaker=PATIENT)
    checkout_id = new_checkout()
    inject(emulator, fault, "/v1/payment_intents", delay_seconds=1.0)
    with pytest.raises(PaymentOutcomeUnknownError):
        create(gateway, checkout_id)

    intent = retry_until_resolved(lambda: create(gateway, checkout_id))

    assert intent.status == "requires_capture"
    assert [pi.id for pi in gateway.find_payment_intents(checkout_id)] == [intent.id]


def test_the_sdk_retries_a_500_itself_with_the_same_key_and_makes_exactly_one_intent(emulator):
    gateway = emulator.gateway(max_network_retries=2)
    checkout_id = new_checkout()
    inject(emulator, "error_500", "/v1/payment_intents")

    intent = create(gateway, checkout_id)

    assert [pi.id for pi in gateway.find_payment_intents(checkout_id)] == [intent.id]


def test_the_sdk_does_not_retry_a_reply_cut_mid_body_so_the_saga_must(emulator):
    gateway = emulator.gateway(max_network_retries=2)
    checkout_id = new_checkout()
    inject(emulator, "drop_response", "/v1/payment_intents")

    with pytest.raises(PaymentOutcomeUnknownError):
        create(gateway, checkout_id)

    assert len(gateway.find_payment_intents(checkout_id)) == 1


@pytest.mark.parametrize("fault", ["drop_response", "timeout"])
def test_retrying_a_capture_with_the_same_key_captures_once(emulator, fault):
    gateway = emulator.gateway(timeout_seconds=0.3, breaker=PATIENT)
    checkout_id = new_checkout()
    intent = create(gateway, checkout_id)
    key = f"{checkout_id}:capture"
    inject(emulator, fault, "/v1/payment_intents/{id}/capture", delay_seconds=1.0)
    with pytest.raises(PaymentOutcomeUnknownError):
        gateway.capture_payment_intent(intent.id, idempotency_key=key)

    done = retry_until_resolved(
        lambda: gateway.capture_payment_intent(intent.id, idempotency_key=key)
    )

    assert (done.status, done.amount_received) == ("succeeded", AMOUNT)
    since = done.created - 1
    captures = [
        n
        for n in gateway.list_events(created_gte=since)
        if n.type == "payment_intent.succeeded" and n.payment_intent_id == intent.id
    ]
    assert len(captures) == 1
