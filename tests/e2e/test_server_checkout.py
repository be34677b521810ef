"""The real server over loopback: ``checkout-saga serve`` with SQLite and the built-in
Stripe emulator, driving a paid checkout over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.http_helpers import ADMIN_KEY, STORE_KEY, ServerProcess


@pytest.fixture
def server(tmp_path):
    with ServerProcess(f"sqlite:///{tmp_path}/e2e.db") as running:
        yield running.base_url


def test_a_paid_checkout_completes_over_http_against_the_built_in_emulator(server):
    admin = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
    store = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {STORE_KEY}"}, timeout=30)
    admin.put("/sellers/acct_1", json={"charges_enabled": True}).raise_for_status()
    admin.put("/products/TSHIRT-M", json={"name": "T-shirt M", "unit_amount": 1999, "currency": "usd",
                                          "seller_id": "acct_1", "active": True}).raise_for_status()
    admin.post("/inventory/TSHIRT-M/adjustments", json={"delta": 10, "reason": "initial"}).raise_for_status()

    response = store.post("/checkouts", json={
        "checkout_session_id": "cs_e2e_00000001", "currency": "usd",
        "customer": {"id": "cus_42", "email": "ada@example.com"},
        "items": [{"sku": "TSHIRT-M", "quantity": 2}], "payment_method": "pm_card_visa"})

    assert response.status_code == 201, response.text
    checkout = response.json()
    assert checkout["status"] == "completed"
    assert checkout["payment"]["payment_intent_id"].startswith("pi_")
    order = store.get(f"/orders/{checkout['order']['order_id']}").json()
    assert (order["status"], order["amount_total"]) == ("paid", 3998)
    assert store.get("/inventory/TSHIRT-M").json()["sold"] == 2
