"""Refunds made outside the service (Stripe's dashboard, ``POST /v1/refunds``) are recorded on
the order with ``source: "stripe"`` — from the webhooks and from reconciliation, once per
Stripe refund id — and the order's refunded amount and status follow; nothing is restocked."""

from __future__ import annotations

import json

import pytest

from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from adapters.stripe_webhooks import notice_from_event
from application.reconciliation import Reconciler
from checkout_saga.invariants import check_invariants
from checkout_saga.ports import PaymentEventNotice, RefundSnapshot
from migrations import migrate
from tests.integration.api_support import ADMIN, STORE, paid_checkout
from tests.integration.test_reconciliation_emulator import control, provider_intents, start
from tests.plugins.emulator import TEST_WEBHOOK_SECRET, eventually, stripe_client_for


def dashboard_refund(emulator, payment_intent_id, amount):
    return stripe_client_for(emulator).v1.refunds.create(
        params={"payment_intent": payment_intent_id, "amount": amount})


def deliver_everything(service, receiver):
    """Wait for every event Stripe has to be acknowledged, then do what the route does."""
    total = len(service.gateway.list_events(created_gte=0))
    eventually(lambda: len(receiver.acknowledged()) >= total)
    for hook in receiver.acknowledged():
        service.inbox.receive(notice_from_event(json.loads(hook.payload)), hook.payload)


def test_a_dashboard_refund_is_recorded_from_its_webhooks_once(stripe_shop, stripe_reconciler,
                                                              stripe_emulator, webhook_receiver):
    control(stripe_emulator, "webhook_endpoints", {"url": webhook_receiver.url,
                                                   "secret": TEST_WEBHOOK_SECRET})
    checkout = start(stripe_shop, "cs_dash_refund_01", "pm_card_visa")
    assert checkout.status == "completed"
    made = dashboard_refund(stripe_emulator, checkout.payment_intent_id, 500)

    deliver_everything(stripe_shop, webhook_receiver)  # refund.created and charge.refunded
    deliver_everything(stripe_shop, webhook_receiver)  # and every one of them again

    order = stripe_shop.orders.get_order(checkout.order_id)
    [refund] = order.refunds.values()
    assert (refund.source, refund.provider_refund_id, refund.amount, refund.status) == (
        "stripe", made.id, 500, "succeeded")
    assert (order.amount_refunded, order.status) == (500, "partially_refunded")
    assert refund.restock == () and stripe_shop.catalog.get_inventory("MUG").sold == 1
    report = stripe_reconciler.run()
    assert "unknown_refund" not in report["discrepancies_by_type"]
    assert len(stripe_shop.orders.get_order(checkout.order_id).refunds) == 1
    assert check_invariants(stripe_shop.store.all_events(), provider_intents(stripe_shop)) == []


def test_a_dashboard_refund_whose_webhooks_never_came_is_recorded_by_reconciliation(
        stripe_shop, stripe_reconciler, stripe_emulator):
    checkout = start(stripe_shop, "cs_dash_refund_02", "pm_card_visa")
    made = dashboard_refund(stripe_emulator, checkout.payment_intent_id, 1250)

    stripe_reconciler.run()  # (no webhook endpoint: every event is backfilled from Stripe's list)
    second = stripe_reconciler.run()

    order = stripe_shop.orders.get_order(checkout.order_id)
    assert [(r.source, r.provider_refund_id) for r in order.refunds.values()] == [("stripe", made.id)]
    assert (order.amount_refunded, order.status) == (1250, "refunded")
    assert second["discrepancies"] == []
    assert check_invariants(stripe_shop.store.all_events(), provider_intents(stripe_shop)) == []


@pytest.fixture
def fake_reconciler(shop, database_url):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield Reconciler(shop.checkouts, shop.inbox, shop.gateway, db)
    db.close()


def paid(shop):
    from checkout_saga.commands import CartLine, StartCheckout

    return shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_dash_refund_03", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), customer_id="cus_42",
        payment_method="pm_card_visa")).checkout


def made_at_stripe(gateway, checkout, amount, key="dashboard-1"):
    return gateway.create_refund(payment_intent_id=checkout.payment_intent_id, amount=amount,
                                 refund_key="", idempotency_key=key)


def test_an_unknown_refund_found_by_reconciliation_is_recorded_not_escalated(shop, gateway,
                                                                             fake_reconciler):
    checkout = paid(shop)
    made = made_at_stripe(gateway, checkout, 999)

    report = fake_reconciler.run()

    [found] = report["discrepancies"]
    assert (found["type"], found["fix"], found["outcome"]) == ("unknown_refund", "record_refund",
                                                               "recorded")
    order = shop.orders.get_order(checkout.order_id)
    assert [(r.source, r.provider_refund_id, r.amount) for r in order.refunds.values()] == [
        ("stripe", made.id, 999)]
    assert shop.checkouts.get(checkout.checkout_id).status == "completed"
    assert fake_reconciler.run()["discrepancies"] == []


def test_the_same_stripe_refund_from_a_webhook_and_reconciliation_is_recorded_once(
        shop, gateway, fake_reconciler):
    checkout = paid(shop)
    made = made_at_stripe(gateway, checkout, 500)
    notice = PaymentEventNotice(event_id="evt_refund_created_1", type="refund.created", created=1,
                                refund=made, payment_intent_id=made.payment_intent_id)

    shop.inbox.receive(notice, "{}")
    fake_reconciler.run()
    shop.inbox.receive(PaymentEventNotice(event_id="evt_charge_refunded_1", type="charge.refunded",
                                          created=1, payment_intent_id=made.payment_intent_id),
                       "{}")

    order = shop.orders.get_order(checkout.order_id)
    assert len(order.refunds) == 1 and order.amount_refunded == 500


def test_a_stripe_made_refund_is_listed_with_its_source(shop_client, service, gateway):
    body = paid_checkout(shop_client)
    order_id, intent_id = body["order"]["order_id"], body["payment"]["payment_intent_id"]
    made = gateway.create_refund(payment_intent_id=intent_id, amount=100, refund_key="",
                                 idempotency_key="dashboard-2")
    service.inbox.receive(PaymentEventNotice(event_id="evt_refund_created_2", type="refund.created",
                                             created=1, refund=made, payment_intent_id=intent_id),
                          "{}")

    [listed] = shop_client.get(f"/orders/{order_id}/refunds", headers=STORE).json()["items"]
    order = shop_client.get(f"/orders/{order_id}", headers=ADMIN).json()

    assert (listed["source"], listed["amount"], listed["status"]) == ("stripe", 100, "succeeded")
    assert (order["amount_refunded"], order["status"]) == (100, "partially_refunded")


def test_a_refund_event_stripe_does_not_know_records_nothing(shop, gateway):
    checkout = paid(shop)
    forged = RefundSnapshot(id="re_forged", payment_intent_id=checkout.payment_intent_id,
                            amount=999, currency="usd", status="succeeded")

    shop.inbox.receive(PaymentEventNotice(event_id="evt_forged_refund", type="refund.created",
                                          created=1, refund=forged,
                                          payment_intent_id=checkout.payment_intent_id), "{}")

    assert shop.orders.get_order(checkout.order_id).refunds == {}
    assert shop.inbox.outcome_of("evt_forged_refund") == "unmatched: refund unknown to Stripe"
