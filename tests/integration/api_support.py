"""Helpers of the API tests: keys, settings, request bodies, webhook signing, problem checks,
and a fake of the read models. The fixtures are in tests/integration/conftest.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from adapters.database import parse_database_url
from adapters.settings import Settings

STORE_KEY = "sk_store_test_0123456789"
ADMIN_KEY = "sk_admin_test_0123456789"
WEBHOOK_SECRET = "whsec_test_secret"
STORE = {"Authorization": f"Bearer {STORE_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


class FakeReadModels:
    """Stands in for projections.runtime.ReadModels in route tests."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.ops: list[str] = []
        self.calls: list[dict] = []

    def list_orders(self, **query):
        self.calls.append(query)
        return self.orders, None

    def list_ops_checkouts(self, *, status, older_than_seconds):
        self.calls.append({"status": status, "older_than_seconds": older_than_seconds})
        return list(self.ops)

    def latest_reconciliation_report(self):
        return None

    def status(self):
        return [{"name": "orders", "lag_events": 0, "lag_seconds": 0.0}]

    def lag_metrics(self):
        return {"orders": (0, 0.0)}


def api_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, database=parse_database_url(database_url),
                    api_keys=(STORE_KEY,), admin_keys=(ADMIN_KEY,),
                    stripe_webhook_secret=WEBHOOK_SECRET)


def checkout_body(session="cs_test_000001", payment_method="pm_card_visa", **lines):
    body = {"checkout_session_id": session, "currency": "usd",
            "customer": {"id": "cus_42", "email": "ada@example.com"},
            "items": [{"sku": s, "quantity": q} for s, q in (lines or {"TSHIRT-M": 2}).items()]}
    if payment_method:
        body["payment_method"] = payment_method
    return body


def paid_checkout(client, session="cs_test_000001"):
    response = client.post("/checkouts", json=checkout_body(session), headers=STORE)
    assert response.status_code == 201, response.text
    return response.json()


def signed(payload: dict, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    timestamp = at if at is not None else int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={mac}"


def run_webhook_worker(client) -> int:
    """What the saga worker does with the webhooks the route recorded: apply them (the route
    only records). Returns how many it took."""
    return client.app.state.system.webhook_intake.apply_all_pending("test-worker")


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body
