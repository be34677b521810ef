"""Refund controls over HTTP (CONTRACT §3.2 v2), on SQLite and PostgreSQL: the refund window
and its recorded override; refunds above the threshold wait for a second admin (four-eyes),
nothing reaching Stripe before approval; who asked and who approved on every refund."""

from __future__ import annotations

import dataclasses

import pytest

from api.auth import key_id
from tests.integration.api_support import ADMIN, ADMIN_KEY, STORE, assert_problem
from tests.integration.ledger_support import (
    SECOND_ADMIN,
    SECOND_ADMIN_KEY,
    caught_up,
    pay,
    refund,
)


@pytest.fixture
def ledger_settings(ledger_settings):  # narrowed for these tests
    return dataclasses.replace(ledger_settings, refund_approval_above=2000, refund_window_days=90)


def paid_order(client) -> str:
    return pay(client, "cs_controls_0001")["order"]["order_id"]  # 3998 captured


def test_every_refund_records_the_admin_key_that_asked(ledger_client):
    order_id = paid_order(ledger_client)

    body = refund(ledger_client, order_id, {"amount": 1000}).json()

    assert (body["status"], body["requested_by"], body["approved_by"]) == (
        "succeeded", key_id(ADMIN_KEY), None)
    assert body["source"] == "api" and body["override_window"] is False


def test_a_refund_above_the_threshold_waits_and_nothing_reaches_stripe(ledger_client, gateway):
    order_id = paid_order(ledger_client)

    response = refund(ledger_client, order_id, {"amount": 2500})

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending_approval"
    assert gateway.refunds == {}
    order = ledger_client.get(f"/orders/{order_id}", headers=STORE).json()
    assert (order["status"], order["amount_refunded"]) == ("paid", 0)


def test_a_pending_approval_counts_against_the_refundable_amount(ledger_client):
    order_id = paid_order(ledger_client)
    assert refund(ledger_client, order_id, {"amount": 2500}).status_code == 201

    response = refund(ledger_client, order_id, {"amount": 1499}, key="refund-2")

    assert assert_problem(response, 409, "refund_exceeds_remaining")["refundable"] == 1498


def test_the_admin_who_asked_cannot_approve_their_own_refund(ledger_client, gateway):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]

    response = ledger_client.post(f"/refunds/{refund_id}/approve", headers=ADMIN)

    assert_problem(response, 403, "approval_requires_second_admin")
    assert gateway.refunds == {}


def test_a_second_admin_approves_and_the_refund_is_sent(ledger_client, gateway):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]

    response = ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["requested_by"], body["approved_by"]) == (
        "succeeded", key_id(ADMIN_KEY), key_id(SECOND_ADMIN_KEY))
    assert len(gateway.refunds) == 1
    assert ledger_client.get(f"/orders/{order_id}", headers=STORE).json()["amount_refunded"] == 2500


def test_approving_twice_sends_the_refund_once(ledger_client, gateway):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]

    first = ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN)
    again = ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN)

    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "succeeded" and len(gateway.refunds) == 1


def test_a_rejected_refund_ends_rejected_and_frees_the_amount(ledger_client, gateway):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]

    response = ledger_client.post(f"/refunds/{refund_id}/reject", json={"note": "not agreed"},
                                  headers=SECOND_ADMIN)

    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert response.json()["rejection_note"] == "not agreed"
    assert_problem(ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN),
                   409, "refund_not_awaiting_approval")
    assert refund(ledger_client, order_id, {"amount": 1999}, key="refund-2").status_code == 201
    assert len(gateway.refunds) == 1


def test_a_rejection_needs_a_note(ledger_client):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]

    assert_problem(ledger_client.post(f"/refunds/{refund_id}/reject", json={}, headers=ADMIN),
                   422, "validation_error")


def test_a_refund_is_read_by_its_id(ledger_client):
    order_id = paid_order(ledger_client)
    asked = refund(ledger_client, order_id, {"amount": 2500}).json()

    response = ledger_client.get(f"/refunds/{asked['refund_id']}", headers=ADMIN)

    assert response.status_code == 200 and response.json() == asked


def test_an_unknown_refund_is_404_and_refunds_need_an_admin_key(ledger_client):
    assert_problem(ledger_client.get("/refunds/rf_nope", headers=ADMIN), 404, "not_found")
    assert_problem(ledger_client.get("/refunds/rf_nope", headers=STORE), 403, "forbidden")


def test_after_the_window_a_refund_is_refused(ledger_client, clock):
    order_id = paid_order(ledger_client)
    clock.advance(days=90)

    body = assert_problem(refund(ledger_client, order_id, {"amount": 1000}), 409,
                          "refund_window_expired")

    assert body["window_days"] == 90


def test_after_the_window_an_explicit_override_refunds_and_is_recorded(ledger_client, clock):
    order_id = paid_order(ledger_client)
    clock.advance(days=120)

    response = refund(ledger_client, order_id, {"amount": 1000, "override_window": True})

    assert response.status_code == 201, response.text
    assert response.json()["override_window"] is True and response.json()["status"] == "succeeded"
    listed = ledger_client.get(f"/orders/{order_id}/refunds", headers=STORE).json()["items"]
    assert listed[0]["override_window"] is True


def test_the_payment_lists_who_asked_and_who_approved(ledger_client):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]
    ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN)
    caught_up(ledger_client)

    (payment,) = ledger_client.get(f"/payments?order_id={order_id}", headers=STORE).json()["items"]
    (listed,) = ledger_client.get(f"/payments/{payment['payment_id']}", headers=STORE).json()["refunds"]

    assert (listed["requested_by"], listed["approved_by"], listed["status"]) == (
        key_id(ADMIN_KEY), key_id(SECOND_ADMIN_KEY), "succeeded")


def test_an_approved_refund_whose_reply_was_lost_is_sent_again_with_its_key_once(ledger_client, gateway):
    order_id = paid_order(ledger_client)
    refund_id = refund(ledger_client, order_id, {"amount": 2500}).json()["refund_id"]
    gateway.inject("refund", "drop_response")  # Stripe refunds; the reply never arrives

    lost = ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN).json()
    again = ledger_client.post(f"/refunds/{refund_id}/approve", headers=SECOND_ADMIN).json()

    assert lost["status"] == "pending" and again["status"] == "succeeded"
    assert len(gateway.refunds) == 1 and again["approved_by"] == key_id(SECOND_ADMIN_KEY)
