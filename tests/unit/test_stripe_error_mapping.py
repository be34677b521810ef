"""StripePaymentGateway against a canned Stripe on 127.0.0.1: what it sends, and how each
of Stripe's answers becomes the port's result or error."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from structlog.testing import capture_logs

from adapters.circuit_breaker import BreakerSettings
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from checkout_saga.ports import (
    CardDeclinedError,
    PaymentOutcomeUnknownError,
    PaymentProviderUnavailableError,
    PaymentRateLimitedError,
    PaymentRequestRejectedError,
    RefundFailedError,
)


def intent(status: str = "requires_capture", **extra) -> dict:
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "status": status,
        "amount": 3998,
        "currency": "usd",
        "metadata": {"checkout_id": "chk_1"},
    } | extra


REFUND = {
    "id": "re_1",
    "object": "refund",
    "payment_intent": "pi_1",
    "amount": 500,
    "currency": "usd",
    "status": "succeeded",
    "metadata": {"refund_id": "rf_1"},
}


def page(*items: dict, has_more=False, kind="list", url="/v1/payment_intents") -> dict:
    return {"object": kind, "url": url, "data": list(items), "has_more": has_more}


def error(**body) -> dict:
    return {"error": {"type": "invalid_request_error"} | body}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class CannedStripe:
    """Answers each request with the next canned (status, body); records every request."""

    answers: queue.Queue = field(default_factory=queue.Queue)
    requests: list[Recorded] = field(default_factory=list)
    delay_seconds: float = 0.0
    base_url: str = ""

    def answer(self, status: int, body: dict) -> None:
        self.answers.put((status, body))


@pytest.fixture
def canned() -> Iterator[CannedStripe]:
    stub = CannedStripe()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            url = urlsplit(self.path)
            form = parse_qs(self.rfile.read(length).decode())
            stub.requests.append(
                Recorded(self.command, url.path, parse_qs(url.query), form, dict(self.headers))
            )
            time.sleep(stub.delay_seconds)
            status, body = stub.answers.get_nowait()
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()


def gateway_for(base_url: str, **config) -> StripePaymentGateway:
    settings = {"timeout_seconds": 5.0, "max_network_retries": 0} | config
    return StripePaymentGateway(
        StripeGatewayConfig(api_key="sk_test_canned", api_base=base_url, **settings)
    )


@pytest.fixture
def gateway(canned: CannedStripe) -> StripePaymentGateway:
    return gateway_for(canned.base_url)


def create(gateway: StripePaymentGateway, **overrides):
    arguments = {
        "amount": 3998,
        "currency": "usd",
        "checkout_id": "chk_1",
        "order_id": "ord_1",
        "idempotency_key": "chk_1:create_payment_intent",
    } | overrides
    return gateway.create_payment_intent(**arguments)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()


# --- what the gateway sends ------------------------------------------------------------------


def test_create_sends_a_manual_capture_card_intent_confirmed_with_the_idempotency_key(
    canned, gateway
):
    canned.answer(200, intent())

    create(gateway, payment_method="pm_card_visa", return_url="https://shop/return")

    sent = canned.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert sent.headers["Idempotency-Key"] == "chk_1:create_payment_intent"
    assert sent.form == {
        "amount": ["3998"],
        "currency": ["usd"],
        "capture_method": ["manual"],
        "payment_method_types[0]": ["card"],
        "metadata[checkout_id]": ["chk_1"],
        "metadata[order_id]": ["ord_1"],
        "payment_method": ["pm_card_visa"],
        "confirm": ["true"],
        "return_url": ["https://shop/return"],
    }


def test_create_without_a_payment_method_neither_confirms_nor_sends_a_return_url(canned, gateway):
    canned.answer(200, intent("requires_payment_method"))

    create(gateway, return_url="https://shop/return")

    assert not {"confirm", "payment_method", "return_url"} & canned.requests[0].form.keys()


def test_capture_sends_the_amount_to_capture_only_when_given(canned, gateway):
    canned.answer(200, intent("succeeded", amount_received=3998))
    canned.answer(200, intent("succeeded", amount_received=1000))

    gateway.capture_payment_intent("pi_1", idempotency_key="k1")
    gateway.capture_payment_intent("pi_1", idempotency_key="k2", amount=1000)

    assert canned.requests[0].form == {}
    assert canned.requests[1].form == {"amount_to_capture": ["1000"]}
    assert [r.headers["Idempotency-Key"] for r in canned.requests] == ["k1", "k2"]


def test_a_capture_reply_without_amount_received_is_read_back_with_its_latest_charge(
    canned, gateway
):
    canned.answer(200, intent("succeeded", latest_charge="ch_1"))  # localstripe's reply
    canned.answer(200, intent("succeeded", latest_charge={"id": "ch_1", "object": "charge",
                                                          "amount": 3998, "amount_captured": 3998}))

    captured = gateway.capture_payment_intent("pi_1", idempotency_key="k1")

    assert canned.requests[1].method == "GET"
    assert canned.requests[1].query == {"expand[0]": ["latest_charge"]}
    assert (captured.charge_amount_captured, captured.latest_charge) == (3998, "ch_1")


def test_cancel_and_refund_send_no_optional_fields_left_unset(canned, gateway):
    canned.answer(200, intent("canceled"))
    canned.answer(200, REFUND)

    gateway.cancel_payment_intent("pi_1", idempotency_key="k1")
    gateway.create_refund(
        payment_intent_id="pi_1", amount=500, refund_key="rf_1", idempotency_key="k2"
    )

    assert canned.requests[0].form == {}
    assert "reason" not in canned.requests[1].form
    assert canned.requests[1].form["metadata[refund_id]"] == ["rf_1"]


def test_find_payment_intents_searches_by_checkout_metadata(canned, gateway):
    canned.answer(200, page(intent(), kind="search_result", url="/v1/payment_intents/search"))

    found = gateway.find_payment_intents("chk_1")

    assert [pi.id for pi in found] == ["pi_1"]
    assert canned.requests[0].path == "/v1/payment_intents/search"
    assert canned.requests[0].query["query"] == ["metadata['checkout_id']:'chk_1'"]


def test_listing_follows_every_page(canned, gateway):
    canned.answer(200, page(intent(id="pi_1"), has_more=True))
    canned.answer(200, page(intent(id="pi_2")))

    listed = gateway.list_payment_intents(created_gte=1_790_000_000)

    assert [pi.id for pi in listed] == ["pi_1", "pi_2"]
    assert canned.requests[0].query["created[gte]"] == ["1790000000"]
    assert canned.requests[1].query["starting_after"] == ["pi_1"]


def test_a_network_retry_by_the_sdk_reuses_the_same_idempotency_key(canned):
    gateway = gateway_for(canned.base_url, max_network_retries=1)
    canned.answer(500, {"error": {"type": "api_error", "message": "boom"}})
    canned.answer(200, intent())

    assert create(gateway).id == "pi_1"

    keys = [r.headers["Idempotency-Key"] for r in canned.requests]
    assert keys == ["chk_1:create_payment_intent"] * 2


# --- what Stripe's answers become -----------------------------------------------------------


def test_a_card_error_becomes_card_declined_with_the_decline_and_the_intent(canned, gateway):
    pi = intent("requires_payment_method")
    canned.answer(
        402,
        error(
            type="card_error",
            code="card_declined",
            decline_code="insufficient_funds",
            payment_intent=pi,
        ),
    )

    with pytest.raises(CardDeclinedError) as raised:
        create(gateway, payment_method="pm_card_chargeDeclinedInsufficientFunds")

    assert (raised.value.code, raised.value.decline_code) == ("card_declined", "insufficient_funds")
    assert raised.value.payment_intent.status == "requires_payment_method"
    assert raised.value.payment_intent.checkout_id == "chk_1"


@pytest.mark.parametrize(
    "status",
    [500, 502, 503, 409],
    ids=["internal_error", "bad_gateway", "unavailable", "concurrent_idempotent_request"],
)
def test_server_errors_and_conflicts_leave_the_outcome_unknown(canned, gateway, status):
    canned.answer(status, {"error": {"type": "api_error", "message": "try again"}})

    with pytest.raises(PaymentOutcomeUnknownError) as raised:
        create(gateway)

    assert type(raised.value) is PaymentOutcomeUnknownError


def test_rate_limiting_becomes_rate_limited(canned, gateway):
    canned.answer(429, {"error": {"type": "invalid_request_error", "code": "rate_limit"}})

    with pytest.raises(PaymentRateLimitedError):
        create(gateway)


def test_a_refused_connection_leaves_the_outcome_unknown():
    gateway = gateway_for(f"http://127.0.0.1:{closed_port()}")

    with pytest.raises(PaymentOutcomeUnknownError):
        create(gateway)


def test_a_reply_slower_than_the_timeout_leaves_the_outcome_unknown(canned):
    gateway = gateway_for(canned.base_url, timeout_seconds=0.2)
    canned.delay_seconds = 1.0
    canned.answer(200, intent())

    with pytest.raises(PaymentOutcomeUnknownError):
        create(gateway)


def test_an_idempotency_error_is_rejected_and_logged_loudly(canned, gateway):
    canned.answer(400, error(type="idempotency_error", message="Keys for idempotent..."))

    with capture_logs() as logs, pytest.raises(PaymentRequestRejectedError) as raised:
        create(gateway)

    assert (raised.value.code, raised.value.http_status) == ("idempotency_error", 400)
    assert [e["log_level"] for e in logs if e["event"] == "stripe_request_rejected"] == ["error"]


def test_an_invalid_request_is_rejected_with_stripes_code_and_the_attached_intent(canned, gateway):
    canned.answer(
        400,
        error(code="payment_intent_unexpected_state", payment_intent=intent("succeeded")),
    )

    with capture_logs() as logs, pytest.raises(PaymentRequestRejectedError) as raised:
        gateway.confirm_payment_intent("pi_1", idempotency_key="k1")

    assert (raised.value.code, raised.value.http_status) == ("payment_intent_unexpected_state", 400)
    assert raised.value.payment_intent.status == "succeeded"
    assert logs[0]["log_level"] == "error" and logs[0]["idempotency_key"] == "k1"


def test_a_bad_api_key_is_rejected(canned, gateway):
    canned.answer(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})

    with pytest.raises(PaymentRequestRejectedError) as raised:
        gateway.retrieve_payment_intent("pi_1")

    assert raised.value.http_status == 401


def test_cancelling_an_already_cancelled_intent_returns_it(canned, gateway):
    canned.answer(
        400,
        error(code="payment_intent_unexpected_state", payment_intent=intent("canceled")),
    )

    cancelled = gateway.cancel_payment_intent("pi_1", idempotency_key="k2")

    assert cancelled.status == "canceled"


def test_cancelling_an_already_cancelled_intent_reads_it_back_when_stripe_attaches_none(
    canned, gateway
):
    canned.answer(400, error(code="payment_intent_unexpected_state"))
    canned.answer(200, intent("canceled"))

    assert gateway.cancel_payment_intent("pi_1", idempotency_key="k2").status == "canceled"
    assert [(r.method, r.path) for r in canned.requests][1] == ("GET", "/v1/payment_intents/pi_1")


def test_cancelling_a_captured_intent_is_rejected(canned, gateway):
    canned.answer(
        400,
        error(code="payment_intent_unexpected_state", payment_intent=intent("succeeded")),
    )

    with pytest.raises(PaymentRequestRejectedError) as raised:
        gateway.cancel_payment_intent("pi_1", idempotency_key="k2")

    assert raised.value.payment_intent.status == "succeeded"


def test_a_refund_above_what_is_refundable_becomes_refund_failed(canned, gateway):
    canned.answer(400, error(code="amount_too_large", param="amount"))

    with pytest.raises(RefundFailedError) as raised:
        gateway.create_refund(
            payment_intent_id="pi_1",
            amount=9999,
            refund_key="rf_1",
            idempotency_key="k3",
            reason="requested_by_customer",
        )

    assert raised.value.code == "amount_too_large"
    assert canned.requests[0].form["reason"] == ["requested_by_customer"]


# --- the breaker around it --------------------------------------------------------------------


def test_the_gateway_fails_fast_once_the_provider_kept_failing(canned):
    gateway = gateway_for(canned.base_url, breaker=BreakerSettings(failure_threshold=2))
    for _ in range(2):
        canned.answer(503, {"error": {"type": "api_error"}})
        with pytest.raises(PaymentOutcomeUnknownError):
            create(gateway)

    with pytest.raises(PaymentProviderUnavailableError):
        create(gateway)

    assert len(canned.requests) == 2
    assert gateway.breaker.state == "open"
