"""Bad input that once escaped as a 500 gets a precise 4xx problem (CONTRACT §2): deeply
nested JSON, bodies that are not UTF-8, cursors this API never issued, values that end in a
newline, and signed Stripe events whose fields have the wrong JSON type."""

from __future__ import annotations

import time

import pytest

from tests.integration.api_support import (
    ADMIN,
    STORE,
    FakeReadModels,
    assert_problem,
    checkout_body,
    signed,
)

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
NOT_UTF8 = b'{"reason": "\xff\xfe caf\xe9"}'

WRITES = ["/checkouts", "/checkouts/{checkout_id}/confirm", "/checkouts/{checkout_id}/cancel",
          "/orders/{order_id}/refunds", "/inventory/MUG/adjustments"]


def _post(client, path, body, key="key-bad-input-1"):
    return client.post(path, content=body, headers={
        **ADMIN, "Content-Type": "application/json", "Idempotency-Key": key})


@pytest.fixture
def ids(shop_client):
    response = shop_client.post("/checkouts", json=checkout_body("cs_bad_input_0001"), headers=STORE)
    assert response.status_code == 201, response.text
    checkout = response.json()
    return {"checkout_id": checkout["checkout_id"], "order_id": checkout["order"]["order_id"]}


@pytest.mark.parametrize("route", WRITES)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_is_a_400_problem_not_a_500(shop_client, ids, route, body):
    response = _post(shop_client, route.format(**ids), body)

    assert_problem(response, 400, "malformed_json")


@pytest.mark.parametrize("route", WRITES)
def test_a_body_that_is_not_utf8_is_a_400_problem_not_a_500(shop_client, ids, route):
    response = _post(shop_client, route.format(**ids), NOT_UTF8)

    assert_problem(response, 400, "malformed_json")


class CursorCheckingReadModels(FakeReadModels):
    """The fake read models, decoding the cursor as the real ones do."""

    def list_orders(self, *, cursor=None, **_):
        from projections.queries import decode_cursor

        if cursor:
            decode_cursor(cursor)
        return [], None


@pytest.mark.parametrize("api_read_models", [CursorCheckingReadModels()])
@pytest.mark.parametrize("cursor", ["garbage", "0.5", "W10", "bnVsbA", "%FF%FE", "eyJhIjoxfQ"])
def test_a_cursor_this_api_never_issued_is_a_validation_error_naming_cursor(client, cursor):
    problem = assert_problem(client.get(f"/orders?cursor={cursor}", headers=STORE), 422,
                             "validation_error")

    assert problem["errors"] == [{"field": "cursor", "message": "is not a cursor this API issued"}]
    from projections.queries import InvalidCursorError

    assert issubclass(InvalidCursorError, ValueError)


@pytest.mark.parametrize("field,value", [("checkout_session_id", "cs_trailing_newline\n"),
                                         ("currency", "usd\n")])
def test_a_value_with_a_trailing_newline_does_not_match_its_pattern(shop_client, field, value):
    body = checkout_body("cs_trailing_0001") | {field: value}

    problem = assert_problem(shop_client.post("/checkouts", json=body, headers=STORE), 422,
                             "validation_error")

    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_checkout_id_with_a_trailing_newline_is_not_found(shop_client, ids):
    response = shop_client.get(f"/checkouts/{ids['checkout_id']}%0A", headers=STORE)

    assert_problem(response, 404, "not_found")


def _intent_event(event_id, obj):
    return {"id": event_id, "object": "event", "type": "payment_intent.succeeded",
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


WRONG_TYPES = [
    ("metadata.checkout_id is an integer", {"metadata": {"checkout_id": 42}}),
    ("metadata.checkout_id is an object", {"metadata": {"checkout_id": {"x": 1}}}),
    ("metadata is a list", {"metadata": ["checkout_id"]}),
    ("id is an integer", {"id": 7}),
    ("id is null", {"id": None}),
    ("latest_charge is an integer", {"latest_charge": 9}),
]


@pytest.mark.parametrize("case,data", [("data.object is a list", {"object": [1]}),
                                       ("data is a string", "payment_intent")])
def test_a_signed_event_whose_object_is_unreadable_is_recorded_and_acknowledged(client, case, data):
    event = _intent_event(f"evt_unreadable_{abs(hash(case))}", {}) | {"data": data}
    body, header = signed(event)

    response = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})

    assert (response.status_code, response.json()) == (200, {"received": True, "duplicate": False})


@pytest.mark.parametrize("case,override", WRONG_TYPES, ids=[c for c, _ in WRONG_TYPES])
def test_a_signed_event_with_wrong_typed_fields_is_recorded_and_acknowledged(client, case, override):
    intent = {"id": "pi_wrong_types", "object": "payment_intent", "status": "succeeded",
              "amount": 3998, "currency": "usd", "metadata": {"checkout_id": "chk_unknown"}}
    body, header = signed(_intent_event(f"evt_wrong_{abs(hash(case))}", intent | override))

    first = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    again = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})

    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}


def test_the_document_states_the_patterns_in_ecma_262(client):
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    start = schemas["StartCheckoutIn"]["properties"]

    patterns = [start["currency"]["pattern"], start["checkout_session_id"]["pattern"]]

    assert patterns == ["^[a-z]{3}$", "^[A-Za-z0-9_-]+$"]
