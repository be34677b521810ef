"""Disputes, opened and closed by the test bench as a cardholder's bank would, and seen
by the product through `/v1/disputes` and `charge.dispute.*` events."""

from __future__ import annotations

import pytest
import stripe

from tests.plugins.emulator import stripe_client_for
from tests.stripe_emulator.helpers import control, control_error, paid

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


def _dispute(emulator, charge_id: str, **body) -> dict:
    return control(emulator, f"charges/{charge_id}/dispute", {"reason": "fraudulent", **body})


def test_opening_a_dispute_answers_the_dispute_needing_a_response(client, stripe_emulator):
    intent = paid(client, amount=2000)

    dispute = _dispute(stripe_emulator, intent.latest_charge, reason="product_not_received")

    assert dispute["id"].startswith("dp_")
    assert dispute["object"] == "dispute"
    assert (dispute["charge"], dispute["payment_intent"]) == (intent.latest_charge, intent.id)
    assert (dispute["amount"], dispute["currency"]) == (2000, "usd")
    assert (dispute["reason"], dispute["status"]) == ("product_not_received", "needs_response")
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True


def test_a_dispute_is_found_by_charge_and_by_id(client, stripe_emulator):
    mine, other = paid(client), paid(client)
    dispute = _dispute(stripe_emulator, mine.latest_charge)
    _dispute(stripe_emulator, other.latest_charge)

    listed = client.v1.disputes.list(params={"charge": mine.latest_charge})
    retrieved = client.v1.disputes.retrieve(dispute["id"])

    assert [d.id for d in listed.data] == [dispute["id"]]
    assert retrieved.status == "needs_response"


def test_opening_records_created_then_funds_withdrawn(client, stripe_emulator):
    intent = paid(client)
    dispute = _dispute(stripe_emulator, intent.latest_charge)

    types = [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]

    assert types[-2:] == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    created = client.v1.events.list(params={"type": "charge.dispute.created"}).data[0]
    assert created.data.object.id == dispute["id"]


def test_a_dispute_withdraws_its_amount_from_the_balance(client, stripe_emulator):
    intent = paid(client, amount=2000)

    dispute = _dispute(stripe_emulator, intent.latest_charge, amount=1200)

    [withdrawal] = dispute["balance_transactions"]
    assert (withdrawal["type"], withdrawal["amount"]) == ("adjustment", -1200)
    assert withdrawal["reporting_category"] == "dispute"


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_closing_a_dispute_records_the_outcome(client, stripe_emulator, outcome):
    intent = paid(client)
    dispute = _dispute(stripe_emulator, intent.latest_charge)

    closed = control(stripe_emulator, f"disputes/{dispute['id']}/close", {"outcome": outcome})

    assert closed["status"] == outcome
    event = client.v1.events.list(params={"type": "charge.dispute.closed"}).data[0]
    assert event.data.object.status == outcome
    assert event.data.previous_attributes["status"] == "needs_response"


def test_a_won_dispute_reinstates_the_funds(client, stripe_emulator):
    intent = paid(client, amount=2000)
    dispute = _dispute(stripe_emulator, intent.latest_charge)

    closed = control(stripe_emulator, f"disputes/{dispute['id']}/close", {"outcome": "won"})

    assert [t["amount"] for t in closed["balance_transactions"]] == [-2000, 2000]
    assert client.v1.events.list(params={"type": "charge.dispute.funds_reinstated"}).data


def test_a_closed_dispute_cannot_be_closed_again(client, stripe_emulator):
    dispute = _dispute(stripe_emulator, paid(client).latest_charge)
    control(stripe_emulator, f"disputes/{dispute['id']}/close", {"outcome": "lost"})

    response = control_error(stripe_emulator, f"disputes/{dispute['id']}/close", {"outcome": "won"})

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_charge_is_disputed_once(client, stripe_emulator):
    intent = paid(client)
    _dispute(stripe_emulator, intent.latest_charge)

    response = control_error(
        stripe_emulator, f"charges/{intent.latest_charge}/dispute", {"reason": "duplicate"}
    )

    assert response.status_code == 400


def test_an_uncaptured_charge_cannot_be_disputed(client, stripe_emulator):
    intent = paid(client, capture_method="manual")

    response = control_error(
        stripe_emulator, f"charges/{intent.latest_charge}/dispute", {"reason": "fraudulent"}
    )

    assert response.status_code == 400


def test_an_unknown_charge_or_reason_is_refused(client, stripe_emulator):
    intent = paid(client)

    unknown = control_error(stripe_emulator, "charges/ch_nope/dispute", {"reason": "fraudulent"})
    bad_reason = control_error(
        stripe_emulator, f"charges/{intent.latest_charge}/dispute", {"reason": "boredom"}
    )

    assert unknown.status_code == 404
    assert bad_reason.status_code == 400
    assert bad_reason.json()["error"]["param"] == "reason"


def test_a_disputed_charge_cannot_be_refunded(client, stripe_emulator):
    intent = paid(client)
    _dispute(stripe_emulator, intent.latest_charge)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id})

    assert raised.value.code == "charge_disputed"


def test_the_merchant_accepting_a_dispute_loses_it(client, stripe_emulator):
    dispute = _dispute(stripe_emulator, paid(client).latest_charge)

    closed = client.v1.disputes.close(dispute["id"])

    assert closed.status == "lost"


def test_submitting_evidence_puts_the_dispute_under_review(client, stripe_emulator):
    dispute = _dispute(stripe_emulator, paid(client).latest_charge)

    updated = client.v1.disputes.update(
        dispute["id"], params={"evidence": {"uncategorized_text": "delivered"}}
    )

    assert updated.status == "under_review"
    assert updated.evidence["uncategorized_text"] == "delivered"
    assert client.v1.events.list(params={"type": "charge.dispute.updated"}).data
