"""Contract scenarios for StripePaymentGateway, run unchanged against every Stripe-compatible
server we test with (localstripe, the built-in emulator).

A server is described by a ``ContractServer``: where it is, how it names test cards, how it
registers a webhook endpoint, and which ``features`` it has. A scenario that needs a
feature declares it and only runs against servers that have it; a scenario adds assertions
for optional features (e.g. ``amounts``) only where the server has them.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from adapters.stripe_webhooks import verify_and_parse
from checkout_saga.ports import (
    CardDeclinedError,
    PaymentIntentSnapshot,
    PaymentRequestRejectedError,
    captured_amount,
)

WEBHOOK_SECRET = "whsec_contract_tests"
AMOUNT = 3998
WAIT_SECONDS = 20.0  # an upper bound for a webhook to arrive, not a latency requirement


@dataclass(frozen=True)
class ContractServer:
    name: str
    api_base: str
    api_key: str
    payment_method: Callable[[str], str]  # "visa" | "declined" | "authentication_required"
    register_webhook: Callable[[str, str], None]  # (url, secret)
    features: frozenset[str]
    authenticate: Callable[[str, str], None] | None = None  # (intent id, "succeed"|"fail")

    def gateway(self, **config) -> StripePaymentGateway:
        settings = {"timeout_seconds": 5.0, "max_network_retries": 0} | config
        return StripePaymentGateway(
            StripeGatewayConfig(api_key=self.api_key, api_base=self.api_base, **settings)
        )


Scenario = Callable[[ContractServer], None]
_SCENARIOS: list[tuple[Scenario, frozenset[str]]] = []


def scenario(*requires: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        _SCENARIOS.append((fn, frozenset(requires)))
        return fn

    return register


def scenarios_for(features: frozenset[str]) -> list:
    """pytest params (named after the scenario) of every scenario the server can run."""
    return [pytest.param(fn, id=fn.__name__) for fn, needs in _SCENARIOS if needs <= features]


# --- helpers ---------------------------------------------------------------------------


def new_checkout() -> str:
    return f"chk_{uuid.uuid4().hex[:16]}"


def authorise(server: ContractServer, gateway: StripePaymentGateway, checkout_id: str):
    return gateway.create_payment_intent(
        amount=AMOUNT,
        currency="usd",
        checkout_id=checkout_id,
        order_id=f"ord_{checkout_id}",
        idempotency_key=f"{checkout_id}:create_payment_intent",
        payment_method=server.payment_method("visa"),
    )


def captured(server: ContractServer, gateway: StripePaymentGateway) -> PaymentIntentSnapshot:
    checkout_id = new_checkout()
    intent = authorise(server, gateway, checkout_id)
    return gateway.capture_payment_intent(intent.id, idempotency_key=f"{checkout_id}:capture")


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str | None

    def event(self) -> dict:
        return json.loads(self.body)


@contextmanager
def receiving_webhooks() -> Iterator[tuple[str, queue.Queue[Delivery]]]:
    """A tiny HTTP server on 127.0.0.1 that acknowledges and keeps every delivery."""
    deliveries: queue.Queue[Delivery] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            deliveries.put(Delivery(body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhooks/stripe", deliveries
    finally:
        server.shutdown()
        server.server_close()


def wait_for(deliveries: queue.Queue[Delivery], matches: Callable[[dict], bool]) -> Delivery:
    deadline = time.monotonic() + WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            delivery = deliveries.get(timeout=left)
        except queue.Empty:
            break
        if matches(delivery.event()):
            return delivery
    raise AssertionError(f"no matching webhook arrived within {WAIT_SECONDS}s")


# --- scenarios every server runs ------------------------------------------------------------


@scenario()
def a_card_payment_is_authorised_but_not_captured(server: ContractServer) -> None:
    checkout_id = new_checkout()

    intent = authorise(server, server.gateway(), checkout_id)

    assert intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.currency) == ("requires_capture", AMOUNT, "usd")
    assert intent.checkout_id == checkout_id
    assert intent.latest_charge and intent.client_secret
    if "amounts" in server.features:
        assert (intent.amount_capturable, intent.amount_received) == (AMOUNT, 0)


@scenario()
def capturing_an_authorised_intent_takes_the_payment(server: ContractServer) -> None:
    gateway = server.gateway()
    checkout_id = new_checkout()
    intent = authorise(server, gateway, checkout_id)

    done = gateway.capture_payment_intent(intent.id, idempotency_key=f"{checkout_id}:capture")

    assert (done.id, done.status) == (intent.id, "succeeded")
    assert captured_amount(done) == AMOUNT  # every server: never "paid with 0 captured"
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"
    if "amounts" in server.features:
        assert (done.amount_received, done.amount_capturable) == (AMOUNT, 0)


@scenario()
def cancelling_an_authorised_intent_releases_it(server: ContractServer) -> None:
    gateway = server.gateway()
    checkout_id = new_checkout()
    intent = authorise(server, gateway, checkout_id)

    cancelled = gateway.cancel_payment_intent(intent.id, idempotency_key=f"{checkout_id}:cancel")

    assert (cancelled.id, cancelled.status) == (intent.id, "canceled")


@scenario()
def cancelling_an_already_cancelled_intent_returns_it(server: ContractServer) -> None:
    gateway = server.gateway()
    checkout_id = new_checkout()
    intent = authorise(server, gateway, checkout_id)
    gateway.cancel_payment_intent(intent.id, idempotency_key=f"{checkout_id}:cancel")

    again = gateway.cancel_payment_intent(intent.id, idempotency_key=f"{checkout_id}:expire")

    assert (again.id, again.status) == (intent.id, "canceled")


@scenario()
def a_partial_refund_carries_our_refund_key(server: ContractServer) -> None:
    gateway = server.gateway()
    intent = captured(server, gateway)

    refund = gateway.create_refund(
        payment_intent_id=intent.id, amount=1000, refund_key="rf_1", idempotency_key="rf_1:refund"
    )

    assert (refund.payment_intent_id, refund.amount, refund.currency) == (intent.id, 1000, "usd")
    assert refund.refund_key == "rf_1"
    assert refund.status in {"pending", "succeeded"}
    assert gateway.retrieve_refund(refund.id).refund_key == "rf_1"


@scenario()
def a_declined_card_raises_card_declined(server: ContractServer) -> None:
    checkout_id = new_checkout()

    with pytest.raises(CardDeclinedError) as raised:
        server.gateway().create_payment_intent(
            amount=AMOUNT,
            currency="usd",
            checkout_id=checkout_id,
            order_id="ord_1",
            idempotency_key=f"{checkout_id}:create_payment_intent",
            payment_method=server.payment_method("declined"),
        )

    assert raised.value.code == "card_declined"
    if "decline_attaches_intent" in server.features:
        assert raised.value.payment_intent.status == "requires_payment_method"
        assert raised.value.payment_intent.checkout_id == checkout_id


@scenario()
def a_card_needing_authentication_requires_action(server: ContractServer) -> None:
    checkout_id = new_checkout()

    intent = server.gateway().create_payment_intent(
        amount=AMOUNT,
        currency="usd",
        checkout_id=checkout_id,
        order_id="ord_1",
        idempotency_key=f"{checkout_id}:create_payment_intent",
        payment_method=server.payment_method("authentication_required"),
    )

    assert intent.status == "requires_action"


@scenario()
def an_unknown_intent_is_rejected_as_not_found(server: ContractServer) -> None:
    with pytest.raises(PaymentRequestRejectedError) as raised:
        server.gateway().retrieve_payment_intent("pi_doesnotexist")

    assert raised.value.http_status == 404


@scenario("webhooks")
def a_signed_webhook_announces_the_captured_payment(server: ContractServer) -> None:
    gateway = server.gateway()
    with receiving_webhooks() as (url, deliveries):
        server.register_webhook(url, WEBHOOK_SECRET)
        intent = captured(server, gateway)

        delivery = wait_for(
            deliveries,
            lambda e: (
                e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == intent.id
            ),
        )

    notice = verify_and_parse(delivery.body, delivery.signature, WEBHOOK_SECRET)
    assert notice.payment_intent.status == "succeeded"
    assert (notice.payment_intent_id, notice.checkout_id) == (intent.id, intent.checkout_id)


@scenario("events")
def events_read_back_include_the_captured_payment(server: ContractServer) -> None:
    gateway = server.gateway()
    since = int(time.time()) - 1
    intent = captured(server, gateway)

    notices = gateway.list_events(created_gte=since)

    assert any(
        n.type == "payment_intent.succeeded" and n.payment_intent_id == intent.id for n in notices
    )


# --- scenarios for servers with more of Stripe's surface ------------------------------------


@scenario("idempotency", "search")
def repeating_a_create_with_the_same_key_returns_the_same_intent(server: ContractServer) -> None:
    gateway = server.gateway()
    checkout_id = new_checkout()

    first = authorise(server, gateway, checkout_id)
    second = authorise(server, gateway, checkout_id)

    assert second.id == first.id
    assert [pi.id for pi in gateway.find_payment_intents(checkout_id)] == [first.id]


@scenario("search")
def intents_are_found_by_checkout_id(server: ContractServer) -> None:
    gateway = server.gateway()
    checkout_id = new_checkout()
    intent = authorise(server, gateway, checkout_id)

    found = gateway.find_payment_intents(checkout_id)

    assert [(pi.id, pi.checkout_id) for pi in found] == [(intent.id, checkout_id)]


@scenario("list_objects")
def intents_and_refunds_are_listed_since_a_time(server: ContractServer) -> None:
    gateway = server.gateway()
    since = int(time.time()) - 1
    intent = captured(server, gateway)
    refund = gateway.create_refund(
        payment_intent_id=intent.id, amount=500, refund_key="rf_2", idempotency_key="rf_2:refund"
    )

    assert intent.id in {pi.id for pi in gateway.list_payment_intents(created_gte=since)}
    assert refund.id in {r.id for r in gateway.list_refunds(created_gte=since)}


@scenario("confirm_later")
def an_intent_created_without_a_card_is_confirmed_later(server: ContractServer) -> None:
    gateway = server.gateway()
    checkout_id = new_checkout()
    intent = gateway.create_payment_intent(
        amount=AMOUNT,
        currency="usd",
        checkout_id=checkout_id,
        order_id="ord_1",
        idempotency_key=f"{checkout_id}:create_payment_intent",
    )
    assert intent.status == "requires_payment_method"

    confirmed = gateway.confirm_payment_intent(
        intent.id,
        idempotency_key=f"{checkout_id}:confirm",
        payment_method=server.payment_method("visa"),
        return_url="https://shop.example.com/return",
    )

    assert confirmed.status == "requires_capture"


@scenario("authenticate")
def a_completed_authentication_authorises_the_intent(server: ContractServer) -> None:
    assert server.authenticate is not None
    gateway = server.gateway()
    checkout_id = new_checkout()
    intent = gateway.create_payment_intent(
        amount=AMOUNT,
        currency="usd",
        checkout_id=checkout_id,
        order_id="ord_1",
        idempotency_key=f"{checkout_id}:create_payment_intent",
        payment_method=server.payment_method("authentication_required"),
        return_url="https://shop.example.com/return",
    )
    assert intent.next_action_url

    server.authenticate(intent.id, "succeed")

    assert gateway.retrieve_payment_intent(intent.id).status == "requires_capture"
