"""Payments needing customer action (3-D Secure) and the webhook that completes them."""

from __future__ import annotations

import time

from tests.integration.api_support import (
    STORE,
    checkout_body,
    run_webhook_worker,
    signed,
)


def _three_d_secure_checkout(client):
    response = client.post("/checkouts", json=checkout_body(payment_method="pm_card_authenticationRequired"),
                           headers=STORE)
    assert response.status_code == 201, response.text
    return response.json()


def _intent_event(snapshot, event_type, event_id="evt_3ds_1"):
    intent = {"id": snapshot.id, "object": "payment_intent", "status": snapshot.status,
              "amount": snapshot.amount, "currency": snapshot.currency,
              "amount_capturable": snapshot.amount_capturable, "amount_received": snapshot.amount_received,
              "client_secret": snapshot.client_secret, "metadata": {"checkout_id": snapshot.checkout_id},
              "created": snapshot.created}
    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
            "livemode": False, "data": {"object": intent}}


def test_a_card_needing_3ds_leaves_the_checkout_requiring_action_with_a_redirect(shop_client):
    checkout = _three_d_secure_checkout(shop_client)

    assert checkout["status"] == "requires_action"
    assert checkout["payment"]["next_action"]["type"] == "redirect_to_url"
    assert checkout["payment"]["next_action"]["redirect_url"].startswith("https://")


def test_confirming_after_the_customer_authenticates_completes_the_checkout(shop_client, gateway):
    checkout = _three_d_secure_checkout(shop_client)
    gateway.authenticate(checkout["payment"]["payment_intent_id"])

    response = shop_client.post(f"/checkouts/{checkout['checkout_id']}/confirm", headers=STORE)

    assert response.status_code == 200 and response.json()["status"] == "completed"


def test_the_capturable_webhook_after_authentication_completes_the_checkout(shop_client, gateway):
    checkout = _three_d_secure_checkout(shop_client)
    snapshot = gateway.authenticate(checkout["payment"]["payment_intent_id"])
    body, header = signed(_intent_event(snapshot, "payment_intent.amount_capturable_updated"))

    response = shop_client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})

    assert response.json() == {"received": True, "duplicate": False}
    recorded = shop_client.get(f"/checkouts/{checkout['checkout_id']}", headers=STORE).json()
    assert recorded["status"] == "requires_action"  # the route only records it
    assert run_webhook_worker(shop_client) == 1
    after = shop_client.get(f"/checkouts/{checkout['checkout_id']}", headers=STORE).json()
    assert after["status"] == "completed"


def test_webhooks_are_counted_by_type_and_outcome(shop_client, gateway):
    checkout = _three_d_secure_checkout(shop_client)
    snapshot = gateway.authenticate(checkout["payment"]["payment_intent_id"])
    body, header = signed(_intent_event(snapshot, "payment_intent.amount_capturable_updated"))
    shop_client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    shop_client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    run_webhook_worker(shop_client)

    text = shop_client.get("/metrics").text

    assert ('stripe_webhook_events_total{outcome="recorded",'
            'type="payment_intent.amount_capturable_updated"} 1.0') in text
    assert ('stripe_webhook_events_total{outcome="applied",'
            'type="payment_intent.amount_capturable_updated"} 1.0') in text
    assert ('stripe_webhook_events_total{outcome="duplicate",'
            'type="payment_intent.amount_capturable_updated"} 1.0') in text
