"""The OpenAPI document leads from one response to the next operation (links), and says what
the live fuzzing (tests/e2e/test_live_fuzz.py) found the server does: a replayed start is a
200, a 405 names the allowed methods, a Stripe event has a ``created`` time."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from api.app import create_app
from api.openapi import LINKS
from tests.conftest import system_for
from tests.integration.api_support import FakeReadModels, api_settings


@pytest.fixture
def client(sqlite_database_url):
    store = EventsourcingStore(parse_database_url(sqlite_database_url), pool_size=2)
    system = system_for(store, FakePaymentGateway(), FakeClock(),
                        settings=api_settings(sqlite_database_url), read_models=FakeReadModels())
    with TestClient(create_app(system)) as test_client:
        yield test_client
    store.close()


@pytest.fixture
def document(client) -> dict:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def _operation_ids(document: dict) -> dict[str, tuple[str, str]]:
    return {op["operationId"]: (method.upper(), path) for path, item in document["paths"].items()
            for method, op in item.items()}


def test_a_created_checkout_links_to_its_reads_writes_and_order(document):
    links = document["paths"]["/checkouts"]["post"]["responses"]["201"]["links"]
    targets = {name: _operation_ids(document)[link["operationId"]] for name, link in links.items()}
    assert targets["read"] == ("GET", "/checkouts/{checkout_id}")
    assert targets["confirm"] == ("POST", "/checkouts/{checkout_id}/confirm")
    assert targets["cancel"] == ("POST", "/checkouts/{checkout_id}/cancel")
    assert targets["events"] == ("GET", "/checkouts/{checkout_id}/events")
    assert links["read"]["parameters"] == {"checkout_id": "$response.body#/checkout_id"}
    assert targets["order"] == ("GET", "/orders/{order_id}")
    assert links["order"]["parameters"] == {"order_id": "$response.body#/order/order_id"}


def test_a_product_links_to_its_stock_and_to_a_cart_with_it(document):
    links = document["paths"]["/products/{sku}"]["put"]["responses"]["200"]["links"]
    targets = {name: _operation_ids(document)[link["operationId"]] for name, link in links.items()}
    assert targets["adjust"] == ("POST", "/inventory/{sku}/adjustments")
    assert targets["inventory"] == ("GET", "/inventory/{sku}")
    assert targets["buy"] == ("POST", "/checkouts")
    assert links["buy"]["requestBody"]["items"] == [{"sku": "$response.body#/sku", "quantity": 1}]


def test_every_declared_link_is_in_the_document(document):
    declared = sum(len(links) for links in LINKS.values())
    found = sum(len(response.get("links", {})) for item in document["paths"].values()
                for op in item.values() for response in op["responses"].values())
    assert found == declared


def test_a_replayed_start_is_a_declared_200(document):
    responses = document["paths"]["/checkouts"]["post"]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckoutOut"}


def test_a_stripe_event_is_documented_as_verified(document):
    operation = document["paths"]["/webhooks/stripe"]["post"]
    event = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(event["required"]) == {"id", "type", "created", "data"}
    assert event["properties"]["object"]["enum"] == ["event"]
    signature = next(p for p in operation["parameters"] if p["name"] == "Stripe-Signature")
    assert signature["schema"]["pattern"].startswith("^t=")


def test_a_method_the_resource_does_not_have_is_a_405_naming_those_it_has(client):
    response = client.request("TRACE", "/checkouts/chk_x")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET"}
