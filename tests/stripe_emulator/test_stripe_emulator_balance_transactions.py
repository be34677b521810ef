"""Balance transactions: a captured charge's fee is 2.9 % + 30 (minor units), a refund
takes its amount back without the fee, and each is retrievable by id."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.balance import processing_fee
from tests.plugins.emulator import eventually, stripe_client_for
from tests.stripe_emulator.helpers import paid

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


@pytest.mark.parametrize(
    ("amount", "fee"), [(2000, 88), (1000, 59), (500, 45), (3998, 146), (50, 31), (100000, 2930)]
)
def test_the_fee_is_2_9_percent_rounded_plus_30(amount, fee):
    assert processing_fee(amount) == fee


def test_a_captured_charge_has_a_balance_transaction_with_its_fee(client):
    intent = paid(client, amount=2000)
    charge = client.v1.charges.retrieve(intent.latest_charge)

    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)

    assert txn.id.startswith("txn_")
    assert (txn.object, txn.type, txn.source) == ("balance_transaction", "charge", charge.id)
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (2000, 88, 1912, "usd")
    [detail] = txn.fee_details
    assert (detail.type, detail.amount) == ("stripe_fee", 88)


def test_an_authorised_charge_has_no_balance_transaction_until_captured(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    assert client.v1.charges.retrieve(intent.latest_charge).balance_transaction is None

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1000})

    charge = client.v1.charges.retrieve(captured.latest_charge)
    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert (captured.amount_received, charge.amount_captured) == (1000, 1000)
    assert (txn.amount, txn.fee) == (1000, 59)


def test_the_fee_is_reachable_by_expanding_the_intents_latest_charge(client):
    intent = paid(client, amount=1000)

    expanded = client.v1.payment_intents.retrieve(
        intent.id, params={"expand": ["latest_charge.balance_transaction"]}
    )

    assert expanded.latest_charge.balance_transaction.fee == 59


def test_a_refund_has_a_negative_balance_transaction_and_no_fee_back(client):
    intent = paid(client, amount=2000)

    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})

    txn = client.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (txn.type, txn.source) == ("refund", refund.id)
    assert (txn.amount, txn.fee, txn.net) == (-500, 0, -500)


def test_a_failed_refund_puts_the_money_back_with_a_refund_failure(client):
    intent = paid(client, card="pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    failed = eventually(
        lambda: (r := client.v1.refunds.retrieve(refund.id)).status == "failed" and r
    )

    txn = client.v1.balance_transactions.retrieve(failed.failure_balance_transaction)
    assert (txn.type, txn.amount) == ("refund_failure", 2000)


def test_an_unknown_balance_transaction_is_a_missing_resource(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.balance_transactions.retrieve("txn_nope")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_balance_transactions_are_listed_by_type(client):
    intent = paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})

    charges = client.v1.balance_transactions.list(params={"type": "charge"}).data

    assert [t.type for t in charges] == ["charge"]
