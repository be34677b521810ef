"""Disputes (chargebacks): ``charge.dispute.created`` sets the order's dispute, counts in
``disputes_opened_total`` and raises an operator alert line; ``charge.dispute.closed`` ends it
``won`` or ``lost``. Repeated or reordered events change nothing more."""

from __future__ import annotations

import httpx
from structlog.testing import capture_logs

from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ports import PaymentEventNotice
from tests.integration.api_support import STORE, paid_checkout
from tests.integration.test_reconciliation_emulator import start
from tests.integration.test_stripe_made_refunds import deliver_everything
from tests.plugins.emulator import TEST_WEBHOOK_SECRET


def paid(shop):
    return shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_dispute_0001", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), customer_id="cus_42",
        payment_method="pm_card_visa")).checkout


def dispute_event(checkout, event_id, type_="charge.dispute.created", status="needs_response"):
    return PaymentEventNotice(event_id=event_id, type=type_, created=1, dispute_id="dp_0001",
                              dispute_amount=1999, dispute_reason="fraudulent",
                              dispute_status=status, payment_intent_id=checkout.payment_intent_id)


def opened_count(shop) -> float:
    return shop.metrics.disputes_opened.labels(reason="fraudulent")._value.get()


def test_an_opened_dispute_shows_on_the_order_counts_and_alerts_once(shop):
    checkout = paid(shop)

    with capture_logs() as logs:
        shop.inbox.receive(dispute_event(checkout, "evt_dp_open_1"), "{}")
        shop.inbox.receive(dispute_event(checkout, "evt_dp_open_1"), "{}")  # redelivered
        shop.inbox.receive(dispute_event(checkout, "evt_dp_open_2"), "{}")  # same dispute again

    dispute = shop.orders.get_order(checkout.order_id).dispute
    assert (dispute.status, dispute.amount, dispute.reason) == ("needs_response", 1999, "fraudulent")
    assert dispute.opened_at is not None and dispute.closed_at is None
    assert opened_count(shop) == 1
    alerts = [line for line in logs if line.get("alert")]
    assert [a["event"] for a in alerts] == ["ALERT dispute_opened"]
    assert alerts[0]["dispute_id"] == "dp_0001"


def test_a_closed_dispute_ends_won_or_lost_once(shop):
    checkout = paid(shop)
    shop.inbox.receive(dispute_event(checkout, "evt_dp_open_1"), "{}")

    shop.inbox.receive(dispute_event(checkout, "evt_dp_won_1", "charge.dispute.closed", "won"), "{}")
    shop.inbox.receive(dispute_event(checkout, "evt_dp_lost_1", "charge.dispute.closed", "lost"), "{}")

    dispute = shop.orders.get_order(checkout.order_id).dispute
    assert dispute.status == "won" and dispute.closed_at is not None


def test_a_close_that_arrives_before_its_open_opens_then_closes_it(shop):
    checkout = paid(shop)

    shop.inbox.receive(dispute_event(checkout, "evt_dp_lost_1", "charge.dispute.closed", "lost"), "{}")
    shop.inbox.receive(dispute_event(checkout, "evt_dp_open_1"), "{}")  # late

    dispute = shop.orders.get_order(checkout.order_id).dispute
    assert (dispute.status, dispute.amount) == ("lost", 1999)
    assert opened_count(shop) == 1


def test_the_order_resource_carries_its_dispute(shop_client, service):
    body = paid_checkout(shop_client)
    order_id = body["order"]["order_id"]
    assert shop_client.get(f"/orders/{order_id}", headers=STORE).json()["dispute"] is None
    notice = PaymentEventNotice(event_id="evt_dp_api_1", type="charge.dispute.created", created=1,
                                dispute_id="dp_api", dispute_amount=3998, dispute_reason="general",
                                payment_intent_id=body["payment"]["payment_intent_id"])
    service.inbox.receive(notice, "{}")

    dispute = shop_client.get(f"/orders/{order_id}", headers=STORE).json()["dispute"]

    assert set(dispute) == {"status", "reason", "amount", "opened_at", "closed_at"}
    assert (dispute["status"], dispute["reason"], dispute["amount"]) == ("needs_response", "general", 3998)
    assert dispute["opened_at"].endswith("Z") and dispute["closed_at"] is None


def _emulator(emulator, path: str, body: dict) -> dict:
    response = httpx.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def test_a_dispute_opened_and_lost_at_stripe_reaches_the_order_by_webhook(
        stripe_shop, stripe_reconciler, stripe_emulator, webhook_receiver):
    _emulator(stripe_emulator, "webhook_endpoints", {"url": webhook_receiver.url,
                                                     "secret": TEST_WEBHOOK_SECRET})
    checkout = start(stripe_shop, "cs_dispute_emu_01", "pm_card_visa")
    opened = _emulator(stripe_emulator, f"payment_intents/{checkout.payment_intent_id}/dispute",
                       {"reason": "product_not_received"})
    deliver_everything(stripe_shop, webhook_receiver)
    assert stripe_shop.orders.get_order(checkout.order_id).dispute.status == "needs_response"
    [listed] = stripe_reconciler.run()["discrepancies"]  # the operators' entry until it closes
    assert (listed["type"], listed["checkout_id"]) == ("open_dispute", checkout.checkout_id)

    _emulator(stripe_emulator, f"disputes/{opened['id']}/close", {"status": "lost"})
    deliver_everything(stripe_shop, webhook_receiver)

    dispute = stripe_shop.orders.get_order(checkout.order_id).dispute
    assert (dispute.status, dispute.reason, dispute.amount) == ("lost", "product_not_received", 1250)
    assert "open_dispute" not in stripe_reconciler.run()["discrepancies_by_type"]
