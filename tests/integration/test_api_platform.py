"""Cross-cutting behaviour: keys, problem+json for every kind of bad input, body limits,
health, metrics, OpenAPI, request ids and Stripe webhooks."""

from __future__ import annotations

import json
import time
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from adapters.clock import FakeClock
from api.app import create_app
from tests.integration.api_support import (
    ADMIN,
    STORE,
    api_settings,
    assert_problem,
    checkout_body,
    paid_checkout,
    signed,
)


def test_a_missing_key_is_unauthorized(client):
    assert_problem(client.post("/checkouts", json=checkout_body()), 401, "unauthorized")


def test_a_wrong_key_is_unauthorized(client):
    response = client.get("/inventory/MUG", headers={"Authorization": "Bearer sk_wrong_0123456789"})

    assert_problem(response, 401, "unauthorized")


def test_a_storefront_key_on_an_admin_route_is_forbidden(client):
    assert_problem(client.put("/sellers/a", json={"charges_enabled": True}, headers=STORE), 403, "forbidden")


def test_an_unknown_field_is_rejected_naming_it(client):
    body = {**checkout_body(), "discount": 100}

    problem = assert_problem(client.post("/checkouts", json=body, headers=STORE), 422, "validation_error")
    assert problem["errors"] == [{"field": "discount", "message": "unknown field"}]


def test_a_bad_nested_field_is_named_with_its_path(client):
    body = checkout_body()
    body["items"][0]["quantity"] = 0

    problem = assert_problem(client.post("/checkouts", json=body, headers=STORE), 422, "validation_error")
    assert problem["errors"][0]["field"] == "items[0].quantity"


def test_a_short_session_id_is_a_validation_error(client):
    problem = assert_problem(client.post("/checkouts", json=checkout_body(session="short"), headers=STORE),
                             422, "validation_error")
    assert problem["errors"][0]["field"] == "checkout_session_id"


def test_duplicate_skus_are_a_validation_error(client):
    body = checkout_body()
    body["items"].append({"sku": "TSHIRT-M", "quantity": 1})

    problem = assert_problem(client.post("/checkouts", json=body, headers=STORE), 422, "validation_error")
    assert problem["errors"][0]["field"] == "items[1].sku"


def test_malformed_json_is_400(client):
    response = client.post("/checkouts", content=b'{"items": [', headers={
        **STORE, "Content-Type": "application/json"})

    assert_problem(response, 400, "malformed_json")


def test_a_body_over_one_mebibyte_is_413(client):
    response = client.post("/checkouts", content=b" " * (1024 * 1024 + 1), headers={
        **STORE, "Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_bad_idempotency_key_is_a_validation_error(shop_client):
    checkout = paid_checkout(shop_client)

    response = shop_client.post(f"/checkouts/{checkout['checkout_id']}/confirm", json={},
                                headers={**STORE, "Idempotency-Key": "x" * 256})

    assert_problem(response, 422, "validation_error")


def test_an_unknown_route_is_a_problem_not_html(client):
    assert_problem(client.get("/nowhere"), 404, "not_found")


def test_healthz_is_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_answers(client):
    assert client.get("/readyz").status_code == 200


class _DeadStore:
    def max_notification_id(self):
        raise ConnectionError("database is down")


def test_readyz_is_503_when_the_database_does_not_answer(sqlite_database_url):
    from adapters.fake_payment_gateway import FakePaymentGateway
    from tests.conftest import system_for

    system = system_for(_DeadStore(), FakePaymentGateway(), FakeClock(), sqlite_database_url)
    app = create_app(system)
    with TestClient(app) as test_client:
        response = test_client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")


def test_metrics_count_requests_by_route_and_checkouts_by_status(shop_client):
    paid_checkout(shop_client)

    text = shop_client.get("/metrics").text

    assert 'http_requests_total{method="POST",route="/checkouts",status="201"} 1.0' in text
    assert 'checkouts_terminal_total{status="completed"} 1.0' in text
    assert "saga_step_duration_seconds_count" in text
    assert 'projection_lag_events{projection="orders"} 0.0' in text


def test_the_request_id_is_echoed_or_generated(client):
    given_id = client.get("/healthz", headers={"X-Request-ID": "req-abc-123"})
    generated = client.get("/healthz")

    assert given_id.headers["x-request-id"] == "req-abc-123"
    assert generated.headers["x-request-id"].startswith("req_")


def test_the_openapi_document_is_3_1_and_declares_the_problem_responses(client):
    document = client.get("/schema/openapi.json").json()

    assert document["openapi"].startswith("3.1")
    start = document["paths"]["/checkouts"]["post"]
    assert {"201", "402", "409", "422"} <= set(start["responses"])
    assert "application/problem+json" in start["responses"]["409"]["content"]


def test_the_schema_page_is_served(client):
    assert client.get("/schema").status_code == 200


def _event(event_id="evt_test_1", event_type="customer.created"):
    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
            "livemode": False, "data": {"object": {"id": "cus_1", "object": "customer"}}}


def test_a_webhook_without_a_signature_is_invalid_signature(client):
    assert_problem(client.post("/webhooks/stripe", content=b"{}"), 400, "invalid_signature")


def test_a_webhook_with_a_wrong_signature_is_invalid_signature(client):
    body, header = signed(_event(), secret="whsec_other")

    response = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})

    assert_problem(response, 400, "invalid_signature")


def test_a_webhook_with_a_stale_timestamp_is_invalid_signature(client):
    body, header = signed(_event(), at=int(time.time()) - 3600)

    response = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})

    assert_problem(response, 400, "invalid_signature")


def test_a_valid_webhook_is_received_and_its_repeat_is_a_duplicate(client):
    body, header = signed(_event())

    first = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    again = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})

    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}


ROUTES = [("POST", "/checkouts"), ("POST", "/checkouts/chk_x/confirm"), ("POST", "/checkouts/chk_x/cancel"),
          ("POST", "/orders/ord_x/refunds"), ("POST", "/inventory/MUG/adjustments"),
          ("PUT", "/products/MUG"), ("PUT", "/sellers/acct_1"), ("POST", "/ops/checkouts/chk_x/retry"),
          ("POST", "/ops/checkouts/chk_x/resolve"), ("POST", "/webhooks/stripe")]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from adapters.fake_payment_gateway import FakePaymentGateway

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db"
    from bootstrap import build

    app = create_app(build(api_settings(url), gateway=FakePaymentGateway(), clock=FakeClock()))
    with TestClient(app) as test_client:
        yield test_client


@given(route=st.sampled_from(ROUTES), body=st.binary(max_size=200) | JSON.map(
    lambda value: json.dumps(value).encode()))
def test_garbage_to_any_write_route_never_gets_a_5xx_or_html(fuzz_client, route, body):
    response = fuzz_client.request(route[0], route[1], content=body, headers={
        **ADMIN, "Content-Type": "application/json", "Idempotency-Key": f"fuzz-{zlib.crc32(body)}"})

    assert response.status_code < 500, response.text
    assert "html" not in response.headers.get("content-type", "")
    assert "Traceback" not in response.text


def test_a_bad_query_parameter_is_a_validation_error_naming_it(client):
    problem = assert_problem(client.get("/orders?limit=0", headers=STORE), 422, "validation_error")

    assert problem["errors"][0]["field"] == "limit"
