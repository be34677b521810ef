"""The benchmark's reference service (``bench.reference_pipeline``) does the work the side-by-side
bench credits it with: a paid checkout in three commits with one create+confirm and one
capture, webhooks verified and recorded once, a sold-out SKU refused with the product's code."""

from __future__ import annotations

import os
import sys
import uuid

import httpx
import psycopg
import pytest

from bench.load_rig import ProcessGroup, free_port
from stripe_emulator import EmulatorServer
from tests.e2e.http_helpers import eventually, signed
from tests.plugins.emulator import FAST_CONFIG

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SECRET = "whsec_reference_smoke_0123456789"


@pytest.fixture
def reference(pg_database_url):
    emulator = EmulatorServer(webhook_secret=SECRET, config=FAST_CONFIG).start()
    port = free_port()
    service = ProcessGroup(
        "reference",
        f"{sys.executable} -m bench.reference_pipeline --port {port} "
        f"--database-url {pg_database_url} --stripe-base {emulator.base_url} "
        f"--webhook-secret {SECRET}",
        dict(os.environ), f"http://127.0.0.1:{port}/readyz")
    emulator.register_webhook_endpoint(f"http://127.0.0.1:{port}/webhooks/stripe", SECRET)
    try:
        service.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client, pg_database_url
    finally:
        service.stop()
        emulator.stop()


def _checkout(client: httpx.Client, session: str, sku: str) -> httpx.Response:
    return client.post("/checkouts", json={
        "checkout_session_id": session, "currency": "usd",
        "customer": {"id": "cus_1", "email": "ada@example.com"},
        "items": [{"sku": sku, "quantity": 1}], "payment_method": "pm_card_visa"})


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_checkout_is_paid_in_three_commits_and_its_webhooks_are_recorded_once(reference):
    client, url = reference
    client.put("/stock/TEE", json={"on_hand": 1, "unit_amount": 1500}).raise_for_status()
    session = f"cs_ref_{uuid.uuid4().hex[:12]}"

    first = _checkout(client, session, "TEE")
    again = _checkout(client, session, "TEE")
    sold_out = _checkout(client, f"cs_ref_{uuid.uuid4().hex[:12]}", "TEE")

    assert (first.status_code, first.json()["status"]) == (201, "completed"), first.text
    assert (again.status_code, again.json()["status"]) == (200, "completed")
    assert (sold_out.status_code, sold_out.json()["code"]) == (409, "insufficient_stock")
    streams = _rows(url, "SELECT split_part(stream, ':', 1), count(*) FROM ref_events "
                         "GROUP BY 1 ORDER BY 1")
    assert streams == [("checkout", 6 + 2), ("order", 3), ("stock", 2)]  # 4 + 4 + 3, refusal 2
    assert _rows(url, "SELECT on_hand, reserved, sold FROM ref_stock") == [(0, 0, 1)]
    eventually(lambda: _rows(url, "SELECT count(*) FROM ref_webhook_inbox")[0][0] >= 5,
               what="the emulator's five webhooks recorded")


def test_a_webhook_with_a_wrong_signature_is_refused_and_a_redelivery_is_a_duplicate(reference):
    client, _ = reference
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "customer.updated",
             "data": {"object": {"id": "cus_1", "object": "customer"}}}
    body, headers = signed(event, SECRET)
    _, forged = signed(event, "whsec_someone_else_0123456789")

    first = client.post("/webhooks/stripe", content=body, headers=headers)
    again = client.post("/webhooks/stripe", content=body, headers=headers)
    refused = client.post("/webhooks/stripe", content=body, headers=forged)

    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_signature")
