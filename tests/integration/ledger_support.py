"""Helpers of the payments-ledger and refund-control API tests (their fixtures,
``ledger_settings`` and ``ledger_client``, are in tests/integration/conftest.py)."""

from __future__ import annotations

import time

from tests.integration.api_support import ADMIN, STORE, checkout_body, run_webhook_worker, signed

SECOND_ADMIN_KEY = "sk_admin_second_0123456789"
SECOND_ADMIN = {"Authorization": f"Bearer {SECOND_ADMIN_KEY}"}


def caught_up(client) -> None:
    client.read_models.catch_up()


def pay(client, session, customer="cus_42", payment_method="pm_card_visa", **lines) -> dict:
    body = checkout_body(session, payment_method=payment_method, **lines)
    body["customer"]["id"] = customer
    response = client.post("/checkouts", json=body, headers=STORE)
    assert response.status_code in (201, 402), response.text
    return response.json()


def refund(client, order_id, body, key="refund-1", headers=ADMIN):
    return client.post(f"/orders/{order_id}/refunds", json=body,
                       headers={**headers, "Idempotency-Key": key})


def dispute_webhook(client, payment_intent_id, dispute_id, event_type, amount, status, event_id):
    """The bank opens (or moves) a dispute at Stripe, and Stripe tells us by webhook; the
    worker applies it (the route only records) after reading the dispute back."""
    client.app.state.system.gateway.dispute(payment_intent_id, status=status,
                                            dispute_id=dispute_id, amount=amount)
    dispute = {"id": dispute_id, "object": "dispute", "amount": amount, "currency": "usd",
               "reason": "fraudulent", "status": status, "payment_intent": payment_intent_id,
               "charge": "ch_x"}
    event = {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
             "livemode": False, "data": {"object": dispute}}
    body, header = signed(event)
    response = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    assert response.status_code == 200, response.text
    run_webhook_worker(client)
