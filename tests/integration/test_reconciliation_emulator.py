"""Reconciliation against the Stripe emulator over HTTP, with discrepancies planted in it:
an intent the ledger does not know, a dropped webhook, an amount changed behind our back."""

from __future__ import annotations

import json

import httpx
import pytest
from litestar.testing import TestClient

from adapters.clock import SystemClock
from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from adapters.stripe_webhooks import notice_from_event
from api.app import create_app
from application.reconciliation import Reconciler
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.invariants import check_invariants
from migrations import migrate
from tests.conftest import system_for
from tests.integration.api_support import ADMIN, api_settings
from tests.plugins.emulator import TEST_API_KEY, TEST_WEBHOOK_SECRET, stripe_client_for


@pytest.fixture
def stripe_service(store, stripe_emulator, database_url):
    gateway = StripePaymentGateway(StripeGatewayConfig(api_key=TEST_API_KEY,
                                                       api_base=stripe_emulator.base_url))
    service = system_for(store, gateway, SystemClock(), settings=api_settings(database_url))
    service.catalog.set_seller("acct_1", charges_enabled=True)
    service.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                           seller_id="acct_1", active=True)
    service.catalog.adjust_stock("MUG", 10, "initial")
    yield service
    gateway.close()


@pytest.fixture
def reconciler(stripe_service, database_url):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield Reconciler(stripe_service.checkouts, stripe_service.inbox, stripe_service.gateway, db)
    db.close()


def control(emulator, path: str, body: dict) -> dict:
    response = httpx.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def start(service, session: str, payment_method: str | None):
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="MUG", quantity=1),),
        customer_id="cus_42", payment_method=payment_method)).checkout


def deliver(service, receiver) -> None:
    """What the webhook route does, for every webhook the endpoint acknowledged."""
    for hook in receiver.acknowledged():
        service.inbox.receive(notice_from_event(json.loads(hook.payload)), hook.payload)


def provider_intents(service) -> dict:
    found: dict = {}
    for intent in service.gateway.list_payment_intents(created_gte=0):
        found.setdefault(intent.checkout_id, []).append(intent)
    return found


def test_an_intent_the_ledger_does_not_know_is_cancelled_and_reported(stripe_service, reconciler,
                                                                      stripe_emulator):
    stray = stripe_client_for(stripe_emulator).v1.payment_intents.create(params={
        "amount": 777, "currency": "usd", "capture_method": "manual",
        "payment_method": "pm_card_visa", "confirm": True})
    assert stray.status == "requires_capture"

    report = reconciler.run()  # (no webhook endpoint here: its events count as missed too)

    [found] = [d for d in report["discrepancies"] if d["type"] == "orphan_intent"]
    assert (found["payment_intent_id"], found["fix"]) == (stray.id, "cancel_intent")
    assert found["outcome"].startswith("cancelled")
    assert stripe_service.gateway.retrieve_payment_intent(stray.id).status == "canceled"
    assert "orphan_intent" not in reconciler.run()["discrepancies_by_type"]


def test_a_dropped_webhook_is_backfilled_from_the_events_list(stripe_service, reconciler,
                                                              stripe_emulator, webhook_receiver):
    control(stripe_emulator, "webhook_endpoints", {"url": webhook_receiver.url,
                                                   "secret": TEST_WEBHOOK_SECRET})
    checkout = start(stripe_service, "cs_recon_3ds_0001", "pm_card_authenticationRequired")
    assert checkout.status == "requires_action"
    so_far = len(stripe_service.gateway.list_events(created_gte=0))
    deliver(stripe_service, webhook_receiver.wait_for_acknowledged(so_far) and webhook_receiver)
    control(stripe_emulator, "faults", {"fault": "drop_webhook", "times": 5})
    control(stripe_emulator, f"payment_intents/{checkout.payment_intent_id}/authenticate",
            {"outcome": "succeed"})
    assert len(webhook_receiver.acknowledged()) == so_far
    assert stripe_service.checkouts.get(checkout.checkout_id).status == "requires_action"  # never told

    report = reconciler.run()

    missed = [d for d in report["discrepancies"] if d["type"] == "missed_webhook"]
    assert missed and {d["outcome"] for d in missed} == {"applied"}
    assert any(d["payment_intent_id"] == checkout.payment_intent_id for d in missed)
    assert stripe_service.checkouts.get(checkout.checkout_id).status == "completed"
    reconciler.run()  # the capture's own events were dropped too (times=5): backfilled now
    assert reconciler.run()["discrepancies"] == []
    assert check_invariants(stripe_service.store.all_events(), provider_intents(stripe_service)) == []


def test_an_amount_changed_at_stripe_sends_the_checkout_to_needs_attention(
        stripe_service, reconciler, stripe_emulator):
    checkout = start(stripe_service, "cs_recon_amt_0001", None)
    stripe_client_for(stripe_emulator).v1.payment_intents.update(
        checkout.payment_intent_id, params={"amount": 99})

    report = reconciler.run()

    [found] = [d for d in report["discrepancies"] if d["type"] == "amount_mismatch"]
    assert (found["fix"], found["outcome"]) == ("needs_attention", "needs_attention")
    flagged = stripe_service.checkouts.get(checkout.checkout_id)
    assert flagged.status == "needs_attention" and "amount_mismatch" in flagged.attention_reason


def test_the_latest_report_is_served_at_ops_reconciliation(stripe_service, reconciler,
                                                           database_url):
    app = create_app(stripe_service)
    with TestClient(app) as client:
        assert client.get("/ops/reconciliation", headers=ADMIN).json()["report"] is None
        report = reconciler.run()
        served = client.get("/ops/reconciliation", headers=ADMIN).json()["report"]

    assert served["report_id"] == report["report_id"]
    assert served["discrepancies_by_type"] == report["discrepancies_by_type"]
