"""A real ``serve`` process killed with SIGKILL while its refund call to Stripe is in flight
(Stripe made the refund; the reply never came back). After a restart on the same database
the worker resumes the refund with the same idempotency key within CONTRACT §3.2's 60 s:
one refund at Stripe, recorded succeeded, the books balance."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.e2e.test_kill_and_restart import (
    ADMIN_KEY,
    STORE_KEY,
    STRIPE_KEY,
    Emulator,
    Server,
    assert_books_balance,
    base_env,
    checkout_body,
    client,
    free_port,
    stock_the_shop,
    timer_resumes,
    wait_until,
)

RESUME_BOUND_SECONDS = 60.0


def refunds_at_stripe(emulator: Emulator, payment_intent_id: str) -> list[dict]:
    response = httpx.get(f"{emulator.base}/v1/refunds", params={"payment_intent": payment_intent_id},
                         headers={"Authorization": f"Bearer {STRIPE_KEY}"}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]


def ask_for_a_refund(base: str, order_id: str) -> None:
    try:
        with client(base, ADMIN_KEY) as admin:
            admin.post(f"/orders/{order_id}/refunds", json={"amount": 500},
                       headers={"Idempotency-Key": "refund-killed-1"})
    except httpx.HTTPError:
        pass  # the server died under us: expected


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_kill_9_mid_refund_then_restart_refunds_once_with_the_same_key(tmp_path):
    emulator = Emulator()
    database_url = f"sqlite:///{tmp_path / 'kill-refund.db'}"
    env, port = base_env(database_url, emulator.base), free_port()
    server = Server(env, port)
    try:
        stock_the_shop(server.base, units=10)
        with client(server.base, STORE_KEY) as store:
            body = store.post("/checkouts", json=checkout_body("cs_kill_refund_01", "pm_card_visa")).json()
        assert body["status"] == "completed", body
        order_id, intent_id = body["order"]["order_id"], body["payment"]["payment_intent_id"]
        httpx.post(f"{emulator.base}/_emulator/faults", timeout=5, json={
            "method": "POST", "path": "/v1/refunds", "fault": "timeout", "times": 1,
            "delay_seconds": 8}).raise_for_status()

        threading.Thread(target=ask_for_a_refund, args=(server.base, order_id), daemon=True).start()
        wait_until(lambda: refunds_at_stripe(emulator, intent_id), 10, "refund made at Stripe")
        server.kill9()  # Stripe refunded; the reply is held, the process is gone

        server = Server(env, port)
        with client(server.base, STORE_KEY) as store:
            def refunded():
                items = store.get(f"/orders/{order_id}/refunds").json()["items"]
                return items if items and items[0]["status"] == "succeeded" else None

            [refund] = wait_until(refunded, RESUME_BOUND_SECONDS, "refund resumed by the worker")
            order = store.get(f"/orders/{order_id}").json()
        assert (refund["amount"], refund["source"]) == (500, "api")
        assert (order["amount_refunded"], order["status"]) == (500, "partially_refunded")
        assert len(refunds_at_stripe(emulator, intent_id)) == 1
        assert timer_resumes(database_url).get("refund_recovery", 0) >= 1
        assert_books_balance(database_url, emulator)
    finally:
        server.stop()
        emulator.stop()
