"""Stripe's fee, learnt at capture: the gateway reads the charge's balance transaction (the
emulator charges 2.9 % + 30, as Stripe's standard pricing) and the saga records it, so the
transaction log's fee rows are the balance transactions' fees."""

from __future__ import annotations

import httpx

from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway

from .stripe_contract_scenarios import AMOUNT, new_checkout


def gateway_on(emulator) -> StripePaymentGateway:
    return StripePaymentGateway(StripeGatewayConfig(
        api_key="sk_test_emulator", api_base=emulator.base_url, timeout_seconds=5.0,
        max_network_retries=0))


def test_a_capture_reports_the_fee_of_its_charges_balance_transaction(stripe_emulator):
    gateway = gateway_on(stripe_emulator)
    checkout_id = new_checkout()
    intent = gateway.create_payment_intent(
        amount=AMOUNT, currency="usd", checkout_id=checkout_id, order_id=f"ord_{checkout_id}",
        idempotency_key=f"{checkout_id}:create_payment_intent", payment_method="pm_card_visa")

    captured = gateway.capture_payment_intent(intent.id, idempotency_key=f"{checkout_id}:capture")

    txn = httpx.get(f"{stripe_emulator.base_url}/v1/balance_transactions/{captured.balance_transaction_id}",
                    headers={"Authorization": "Bearer sk_test_emulator"}).json()
    assert captured.fee == txn["fee"] == (AMOUNT * 29 + 500) // 1000 + 30
    assert txn["source"] == captured.latest_charge


def test_a_capture_replayed_with_its_key_reports_the_same_fee(stripe_emulator):
    gateway = gateway_on(stripe_emulator)
    checkout_id = new_checkout()
    intent = gateway.create_payment_intent(
        amount=AMOUNT, currency="usd", checkout_id=checkout_id, order_id=f"ord_{checkout_id}",
        idempotency_key=f"{checkout_id}:create_payment_intent", payment_method="pm_card_visa")
    first = gateway.capture_payment_intent(intent.id, idempotency_key=f"{checkout_id}:capture")

    again = gateway.capture_payment_intent(intent.id, idempotency_key=f"{checkout_id}:capture")

    assert (again.fee, again.balance_transaction_id) == (first.fee, first.balance_transaction_id)
