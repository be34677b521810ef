"""Customers and saved payment methods over the API (CONTRACT §3.9), against the fake
gateway, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.integration.api_support import STORE, assert_problem


def save(client, customer="cus_42", token="pm_card_visa", **headers):
    return client.post(f"/customers/{customer}/payment-methods", json={"payment_method": token},
                       headers=STORE | headers)


def listed(client, customer="cus_42"):
    response = client.get(f"/customers/{customer}/payment-methods", headers=STORE)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_saved_card_is_listed_with_display_fields_only_and_the_first_is_the_default(client):
    response = save(client)
    assert response.status_code == 201, response.text
    method = response.json()
    assert method["payment_method_id"].startswith("pm_") and method["payment_method_id"] != "pm_card_visa"
    assert method | {"payment_method_id": "x", "created_at": "t"} == {
        "payment_method_id": "x", "type": "card", "brand": "visa", "last4": "4242",
        "exp_month": 12, "exp_year": 2034, "is_default": True, "created_at": "t"}
    assert listed(client) == [method]


def test_a_second_card_is_not_the_default_until_made_so(client):
    first = save(client).json()
    second = save(client, token="pm_card_mastercard").json()
    assert not second["is_default"]
    response = client.patch(f"/customers/cus_42/payment-methods/{second['payment_method_id']}/default",
                            headers=STORE)
    assert response.status_code == 200 and response.json()["is_default"]
    defaults = {m["payment_method_id"]: m["is_default"] for m in listed(client)}
    assert defaults == {first["payment_method_id"]: False, second["payment_method_id"]: True}


def test_an_unknown_customer_has_no_saved_methods(client):
    assert listed(client, "cus_nobody") == []


def test_deleting_a_method_detaches_it_and_the_next_oldest_becomes_the_default(client, gateway):
    first = save(client).json()["payment_method_id"]
    second = save(client, token="pm_card_mastercard").json()["payment_method_id"]
    response = client.delete(f"/customers/cus_42/payment-methods/{first}", headers=STORE)
    assert response.status_code == 204 and response.content == b""
    assert [(m["payment_method_id"], m["is_default"]) for m in listed(client)] == [(second, True)]
    assert gateway.methods[first].customer is None


def test_a_method_of_another_customer_is_not_found_for_every_operation(client):
    theirs = save(client, customer="cus_other").json()["payment_method_id"]
    save(client)
    assert_problem(client.patch(f"/customers/cus_42/payment-methods/{theirs}/default", headers=STORE),
                   404, "not_found")
    assert_problem(client.delete(f"/customers/cus_42/payment-methods/{theirs}", headers=STORE),
                   404, "not_found")
    assert_problem(save(client, token=theirs), 404, "not_found")
    assert [m["payment_method_id"] for m in listed(client, "cus_other")] == [theirs]


def test_the_not_found_answer_does_not_say_whose_the_method_is(client):
    theirs = save(client, customer="cus_other").json()["payment_method_id"]
    save(client)
    foreign = client.delete(f"/customers/cus_42/payment-methods/{theirs}", headers=STORE).json()
    unknown = client.delete("/customers/cus_42/payment-methods/pm_never_seen", headers=STORE).json()
    assert foreign["detail"].replace(theirs, "ID") == unknown["detail"].replace("pm_never_seen", "ID")


def test_an_unknown_payment_method_cannot_be_saved(client):
    assert_problem(save(client, token="pm_does_not_exist"), 404, "not_found")


def test_a_setup_intent_with_a_card_saves_it(client):
    response = client.post("/customers/cus_42/setup-intents", json={"payment_method": "pm_card_visa"},
                           headers=STORE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "succeeded" and body["setup_intent_id"].startswith("seti_")
    assert body["client_secret"]
    assert [m["last4"] for m in listed(client)] == ["4242"]


def test_a_setup_intent_without_a_card_waits_for_one(client):
    response = client.post("/customers/cus_42/setup-intents", headers=STORE)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "requires_payment_method"
    assert listed(client) == []


def test_a_replayed_save_with_the_same_idempotency_key_saves_once(client):
    first = save(client, **{"Idempotency-Key": "save-1"})
    again = save(client, **{"Idempotency-Key": "save-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(listed(client)) == 1


def test_unknown_fields_are_rejected(client):
    response = client.post("/customers/cus_42/payment-methods",
                           json={"payment_method": "pm_card_visa", "number": "4242424242424242"},
                           headers=STORE)
    assert_problem(response, 422, "validation_error")


def test_customers_need_a_key(client):
    assert_problem(client.get("/customers/cus_42/payment-methods"), 401, "unauthorized")


def test_an_unknown_query_parameter_is_a_validation_error(client):
    response = client.get("/customers/cus_42/payment-methods?type=card", headers=STORE)
    assert_problem(response, 422, "validation_error")


def test_a_payment_method_that_is_not_a_pm_id_is_a_validation_error_naming_the_field(client, gateway):
    for token in ("\u0007\u00e3", "card_123", "pm_", "pm_x y"):
        body = assert_problem(save(client, token=token), 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["payment_method"], body
        response = client.post("/customers/cus_42/setup-intents", json={"payment_method": token}, headers=STORE)
        assert_problem(response, 422, "validation_error")
    assert listed(client) == []


def test_a_customer_id_with_a_control_character_is_a_validation_error_naming_it(client):
    for customer in ("%18%C3%B1%C2%8C%13", "cus%0A", "cus%7F"):
        response = client.post(f"/customers/{customer}/setup-intents", headers=STORE)
        body = assert_problem(response, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["customer_id"], body
        assert_problem(save(client, customer=customer), 422, "validation_error")
        assert_problem(client.get(f"/customers/{customer}/payment-methods", headers=STORE),
                       422, "validation_error")


def test_a_setup_intent_body_may_be_left_out_or_null_as_the_document_says(client):
    for body in ({}, {"content": b"null", "headers": {"content-type": "application/json"}}):
        response = client.post("/customers/cus_42/setup-intents", headers=STORE | body.pop("headers", {}),
                               **body)
        assert response.status_code == 201, response.text
    document = client.get("/schema/openapi.json").json()
    operation = document["paths"]["/customers/{customer_id}/setup-intents"]["post"]
    assert operation["requestBody"]["required"] is False


def test_the_document_states_the_id_patterns_and_that_shipped_needs_a_tracking_number(client):
    document = client.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["SavePaymentMethodIn"]["properties"]["payment_method"]["pattern"] == "^pm_[A-Za-z0-9_]+$"
    path = document["paths"]["/customers/{customer_id}/payment-methods"]["post"]["parameters"]
    customer_id = next(p for p in path if p["name"] == "customer_id")["schema"]
    assert customer_id["pattern"] == "^[^\\x00-\\x1f\\x7f-\\x9f]+$" and customer_id["maxLength"] == 255
    fulfilment = schemas["FulfillmentIn"]
    assert fulfilment["if"]["properties"]["status"] == {"const": "shipped"}
    assert fulfilment["then"]["required"] == ["tracking_number"]
