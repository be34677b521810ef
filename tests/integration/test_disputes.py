"""Disputes (chargebacks): ``charge.dispute.created`` sets the order's dispute, counts in
``disputes_opened_total`` and raises an operator alert line; ``charge.dispute.closed`` ends it
``won`` or ``lost``. Repeated or reordered events change nothing more."""

from __future__ import annotations

import httpx
import msgspec
from structlog.testing import capture_logs

from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ports import DisputeSnapshot, PaymentEventNotice
from tests.integration.api_support import STORE, paid_checkout
from tests.integration.test_reconciliation_emulator import start
from tests.integration.test_stripe_made_refunds import deliver_everything
from tests.plugins.emulator import TEST_WEBHOOK_SECRET


def paid(shop):
    return shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_dispute_0001", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), customer_id="cus_42",
        payment_method="pm_card_visa")).checkout


def dispute_event(dispute, event_id, type_="charge.dispute.created"):
    """The event as a webhook brings it; what counts is the dispute re-read at Stripe."""
    return PaymentEventNotice(event_id=event_id, type=type_, created=1, dispute_id=dispute.id,
                              dispute_amount=dispute.amount, dispute_reason=dispute.reason,
                              dispute_status=dispute.status,
                              payment_intent_id=dispute.payment_intent_id)


def opened_count(shop) -> float:
    return shop.metrics.disputes_opened.labels(reason="fraudulent")._value.get()


def test_an_opened_dispute_shows_on_the_order_counts_and_alerts_once(shop, gateway):
    checkout = paid(shop)
    dispute = gateway.dispute(checkout.payment_intent_id)

    with capture_logs() as logs:
        shop.inbox.receive(dispute_event(dispute, "evt_dp_open_1"), "{}")
        shop.inbox.receive(dispute_event(dispute, "evt_dp_open_1"), "{}")  # redelivered
        shop.inbox.receive(dispute_event(dispute, "evt_dp_open_2"), "{}")  # same dispute again

    shown = shop.orders.get_order(checkout.order_id).dispute
    assert (shown.status, shown.amount, shown.reason) == ("needs_response", 1999, "fraudulent")
    assert shown.opened_at is not None and shown.closed_at is None
    assert opened_count(shop) == 1
    alerts = [line for line in logs if line.get("alert")]
    assert [a["event"] for a in alerts] == ["ALERT dispute_opened"]
    assert alerts[0]["dispute_id"] == dispute.id


def test_a_closed_dispute_ends_won_or_lost_once(shop, gateway):
    checkout = paid(shop)
    opened = gateway.dispute(checkout.payment_intent_id)
    shop.inbox.receive(dispute_event(opened, "evt_dp_open_1"), "{}")

    won = gateway.dispute(checkout.payment_intent_id, status="won")
    shop.inbox.receive(dispute_event(won, "evt_dp_won_1", "charge.dispute.closed"), "{}")
    forged_loss = msgspec.structs.replace(won, status="lost")
    shop.inbox.receive(dispute_event(forged_loss, "evt_dp_lost_1", "charge.dispute.closed"), "{}")

    shown = shop.orders.get_order(checkout.order_id).dispute
    assert shown.status == "won" and shown.closed_at is not None


def test_a_close_that_arrives_before_its_open_opens_then_closes_it(shop, gateway):
    checkout = paid(shop)
    lost = gateway.dispute(checkout.payment_intent_id, status="lost")

    shop.inbox.receive(dispute_event(lost, "evt_dp_lost_1", "charge.dispute.closed"), "{}")
    shop.inbox.receive(dispute_event(lost, "evt_dp_open_1"), "{}")  # late

    shown = shop.orders.get_order(checkout.order_id).dispute
    assert (shown.status, shown.amount) == ("lost", 1999)
    assert opened_count(shop) == 1


def test_a_dispute_stripe_does_not_know_changes_nothing(shop):
    checkout = paid(shop)
    forged = DisputeSnapshot(id="dp_forged", payment_intent_id=checkout.payment_intent_id,
                             amount=1999, reason="fraudulent", status="needs_response")

    shop.inbox.receive(dispute_event(forged, "evt_dp_forged"), "{}")

    assert shop.orders.get_order(checkout.order_id).dispute is None
    assert shop.inbox.outcome_of("evt_dp_forged") == "unmatched: dispute unknown to Stripe"


def test_the_order_resource_carries_its_dispute(shop_client, service, gateway):
    body = paid_checkout(shop_client)
    order_id = body["order"]["order_id"]
    assert shop_client.get(f"/orders/{order_id}", headers=STORE).json()["dispute"] is None
    dispute = gateway.dispute(body["payment"]["payment_intent_id"], reason="general")
    service.inbox.receive(dispute_event(dispute, "evt_dp_api_1"), "{}")

    shown = shop_client.get(f"/orders/{order_id}", headers=STORE).json()["dispute"]

    assert set(shown) == {"status", "reason", "amount", "opened_at", "closed_at"}
    assert (shown["status"], shown["reason"], shown["amount"]) == ("needs_response", "general", 3998)
    assert shown["opened_at"].endswith("Z") and shown["closed_at"] is None


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
