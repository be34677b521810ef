"""GET /ops/outbox and the outbound webhook endpoints API (CONTRACT §3.5 v2, §3.11)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from adapters.database import parse_database_url
from adapters.settings import Settings
from api.app import create_app
from checkout_saga.notification_ports import SendError
from tests.conftest import system_for
from tests.integration.api_support import (
    ADMIN,
    ADMIN_KEY,
    STORE,
    STORE_KEY,
    WEBHOOK_SECRET,
    assert_problem,
    checkout_body,
)


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list = []
        self.failing = False

    def send(self, mail) -> None:
        if self.failing:
            raise SendError("smtp 127.0.0.1:25: SMTPDataError: 451 try later")
        self.sent.append(mail)


class NoWebhooks:
    def deliver(self, url, secret, body, at_unix) -> None:
        raise SendError("HTTP 503")


@pytest.fixture
def mailer():
    return RecordingMailer()


@pytest.fixture
def system(store, gateway, clock, database_url, mailer):
    settings = Settings(database_url=database_url, database=parse_database_url(database_url),
                        api_keys=(STORE_KEY,), admin_keys=(ADMIN_KEY,),
                        stripe_webhook_secret=WEBHOOK_SECRET, admin_email="ops@example.com")
    system = system_for(store, gateway, clock, settings=settings, mailer=mailer,
                        webhook_sender=NoWebhooks())
    system.notifications.feeder.ensure(from_head=False)
    return system


@pytest.fixture
def api(system):
    with TestClient(create_app(system)) as client:
        assert client.put("/sellers/acct_1", json={"charges_enabled": True}, headers=ADMIN).status_code == 200
        product = {"name": "T", "unit_amount": 1999, "currency": "usd", "seller_id": "acct_1",
                   "active": True}
        assert client.put("/products/TSHIRT-M", json=product, headers=ADMIN).status_code == 200
        assert client.post("/inventory/TSHIRT-M/adjustments", json={"delta": 10, "reason": "initial"},
                           headers=ADMIN).status_code == 200
        yield client


ENDPOINT = {"url": "https://erp.example.com/hooks", "secret": "whsec_erp_0123456789",
            "events": ["order.paid", "order.refunded"]}


def test_ops_outbox_lists_sent_and_pending_items_in_the_contract_shape(api, system, mailer):
    assert api.post("/checkouts", json=checkout_body("cs_test_000001"), headers=STORE).status_code == 201
    system.notifications.run_once()
    mailer.failing = True
    assert api.post("/checkouts", json=checkout_body("cs_test_000002"), headers=STORE).status_code == 201
    system.notifications.run_once()

    sent = api.get("/ops/outbox?status=sent", headers=ADMIN).json()["items"]
    pending = api.get("/ops/outbox?status=pending", headers=ADMIN).json()["items"]

    assert len(sent) == 1 and len(pending) == 1
    assert set(sent[0]) == {"id", "kind", "template", "to", "status", "attempts", "last_error",
                            "created_at", "sent_at"}
    assert sent[0]["kind"] == "email" and sent[0]["to"] == "ada@example.com"
    assert sent[0]["template"] == "order_confirmation" and sent[0]["sent_at"].endswith("Z")
    assert pending[0]["attempts"] == 1 and "451" in pending[0]["last_error"]
    assert pending[0]["sent_at"] is None
    assert api.get("/ops/outbox?status=failed", headers=ADMIN).json() == {"items": []}


def test_ops_outbox_is_for_admins_and_refuses_an_unknown_status(api):
    assert_problem(api.get("/ops/outbox", headers=STORE), 403, "forbidden")
    assert_problem(api.get("/ops/outbox?status=lost", headers=ADMIN), 422, "validation_error")
    assert_problem(api.get("/ops/outbox?colour=red", headers=ADMIN), 422, "validation_error")


def test_an_endpoint_is_put_without_echoing_its_secret(api):
    response = api.put("/admin/webhook-endpoints/erp", json=ENDPOINT, headers=ADMIN)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "erp" and body["events"] == ["order.paid", "order.refunded"]
    assert "secret" not in body and ENDPOINT["secret"] not in response.text


@pytest.mark.parametrize("change", [
    {"url": "ftp://erp.example.com"}, {"events": []}, {"events": ["order.exploded"]},
    {"secret": "short"}, {"extra": 1}])
def test_a_bad_endpoint_is_a_validation_error(api, change):
    response = api.put("/admin/webhook-endpoints/erp", json={**ENDPOINT, **change}, headers=ADMIN)
    assert_problem(response, 422, "validation_error")


def test_an_endpoint_name_outside_the_pattern_is_refused(api):
    response = api.put("/admin/webhook-endpoints/" + "x" * 65, json=ENDPOINT, headers=ADMIN)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_deliveries_are_listed_per_endpoint(api, system):
    api.put("/admin/webhook-endpoints/erp", json=ENDPOINT, headers=ADMIN)
    api.put("/admin/webhook-endpoints/crm", json={**ENDPOINT, "events": ["dispute.opened"]},
            headers=ADMIN)
    api.post("/checkouts", json=checkout_body("cs_test_000001"), headers=STORE)
    system.notifications.run_once()

    erp = api.get("/admin/webhook-endpoints/erp/deliveries", headers=ADMIN).json()["items"]
    crm = api.get("/admin/webhook-endpoints/crm/deliveries", headers=ADMIN).json()["items"]

    assert [(d["event_type"], d["endpoint"], d["status"]) for d in erp] == [
        ("order.paid", "erp", "pending")]
    assert erp[0]["last_error"] == "HTTP 503" and crm == []
    assert_problem(api.get("/admin/webhook-endpoints/nope/deliveries", headers=ADMIN), 404, "not_found")


def test_metrics_show_the_outbox_gauges(api, system, mailer):
    mailer.failing = True
    api.post("/checkouts", json=checkout_body("cs_test_000001"), headers=STORE)
    system.notifications.run_once()

    text = api.get("/metrics").text

    assert 'outbox_pending{kind="email"} 1.0' in text
    assert 'outbox_failed{kind="email"} 0.0' in text
    assert "notification_send_seconds_bucket" in text
