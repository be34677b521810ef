"""The real server over loopback: ``checkout-saga serve`` with SQLite and the built-in
Stripe emulator, driving a paid checkout over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STORE_KEY = "sk_store_e2e_0123456789"
ADMIN_KEY = "sk_admin_e2e_0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "CHECKOUT_SAGA_DATABASE_URL": f"sqlite:///{tmp_path}/e2e.db",
           "CHECKOUT_SAGA_API_KEYS": STORE_KEY, "CHECKOUT_SAGA_ADMIN_KEYS": ADMIN_KEY,
           "CHECKOUT_SAGA_STRIPE_EMULATOR_PORT": str(free_port()), "CHECKOUT_SAGA_LOG_FORMAT": "json"}
    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited {process.returncode}: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("server did not become ready")


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
