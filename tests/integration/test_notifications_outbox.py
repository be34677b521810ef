"""The notifications outbox (CONTRACT §3.11, invariant 10) on real SQLite and PostgreSQL,
with a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from adapters.database import parse_database_url
from adapters.settings import Settings
from application.notifications.audit import verify
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.ids import parse_prefixed
from checkout_saga.notification_ports import Document
from events import checkout as checkout_events
from events import order as order_events
from tests.conftest import system_for
from tests.integration.notification_receivers import SmtpSink, WebhookReceiver

ADMIN_EMAIL = "ops@example.com"


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture
def system(store, gateway, clock, database_url, smtp):
    settings = Settings(database_url=database_url, database=parse_database_url(database_url),
                        smtp_url=smtp.url, mail_from="shop@example.com", admin_email=ADMIN_EMAIL)
    system = system_for(store, gateway, clock, settings=settings)
    system.catalog.set_seller("acct_1", charges_enabled=True)
    system.catalog.upsert_product(sku="TSHIRT-M", name="T-shirt M", unit_amount=1999,
                                  currency="usd", seller_id="acct_1", active=True)
    system.catalog.adjust_stock("TSHIRT-M", 10, "initial")
    system.notifications.feeder.ensure(from_head=False)
    yield system
    system.notifications.close()


def paid_order(system, session="cs_test_0001", email="ada@example.com") -> str:
    result = system.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="TSHIRT-M", quantity=2),),
        customer_id="cus_42", customer_email=email, payment_method="pm_card_visa"))
    assert result.checkout.status == "completed"
    return result.checkout.order_id


def items(system, **query):
    return system.notifications.outbox.items(**query)


def test_a_paid_order_sends_one_multipart_confirmation_with_a_message_id_from_its_event(system, smtp):
    order_id = paid_order(system)

    system.notifications.run_once()

    [mail] = smtp.messages
    assert mail["To"] == "ada@example.com" and mail["From"] == "shop@example.com"
    body, invoice = mail.get_payload()  # text + HTML, then the invoice issued when it was paid
    assert [p.get_content_type() for p in body.get_payload()] == ["text/plain", "text/html"]
    invoice_number = system.orders.get_order(order_id).invoice.invoice_number
    assert (invoice.get_content_type(), invoice.get_filename()) == (
        "application/pdf", f"{invoice_number}.pdf")
    [item] = items(system, kind="email")
    assert item["template"] == "order_confirmation" and item["status"] == "sent"
    assert mail["Message-ID"] == f"<{item['id']}@example.com>"
    order_number = system.orders.get_order(order_id).order_number
    assert order_number in mail["Subject"]


def test_nothing_secret_is_in_the_confirmation_mail(system, smtp):
    order_id = paid_order(system)
    checkout = system.checkouts.get(system.orders.get_order(order_id).checkout_id)

    system.notifications.run_once()

    raw = smtp.raw[0].decode(errors="replace")
    assert checkout.client_secret and checkout.client_secret not in raw
    assert "pm_card" not in raw and "sk_" not in raw and checkout.payment_intent_id not in raw


def test_a_replayed_causing_event_makes_no_second_notification(system, smtp):
    paid_order(system)
    system.notifications.run_once()

    # the feeder reads every event again (a restart that lost its position, a replay)
    with system.notifications.db.write() as tx:
        tx.execute("UPDATE projection_tracking SET position = 0 WHERE name = 'notifications'")
    system.notifications.run_once()
    system.checkouts.start_checkout(StartCheckout(  # the same session again: the same checkout
        checkout_session_id="cs_test_0001", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=2),), customer_id="cus_42",
        customer_email="ada@example.com", payment_method="pm_card_visa"))
    system.notifications.run_once()

    assert len(smtp.messages) == 1
    assert len(items(system)) == 1
    assert verify(system.notifications, system.store, ADMIN_EMAIL) == []


def test_a_failing_smtp_server_leaves_the_mail_pending_then_it_is_sent_once_when_back(
        system, smtp, clock):
    smtp.stop()
    paid_order(system)

    system.notifications.run_once()

    [item] = items(system)
    assert item["status"] == "pending" and item["attempts"] == 1
    assert "smtp 127.0.0.1" in item["last_error"]
    assert verify(system.notifications, system.store, ADMIN_EMAIL) == []  # pending counts

    smtp.start()
    system.notifications.run_once()  # not due yet: the retry waits its backoff
    assert smtp.messages == []
    clock.advance(seconds=10)  # the first retry comes within 10 s
    system.notifications.run_once()
    system.notifications.run_once()

    assert len(smtp.messages) == 1
    [item] = items(system)
    assert item["status"] == "sent" and item["attempts"] == 2 and item["sent_at"]


def test_a_succeeded_refund_mails_the_customer(system, smtp):
    order_id = paid_order(system)
    system.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=1000))

    system.notifications.run_once()

    templates = sorted(i["template"] for i in items(system))
    assert templates == ["order_confirmation", "refund_issued"]
    refund_mail = next(m for m in smtp.messages if "Refund" in m["Subject"])
    body, credit_note = refund_mail.get_payload()  # the text, then the refund's credit note
    assert "10.00 USD" in body.get_payload()[0].get_content()
    assert credit_note.get_filename().startswith("CN-") and credit_note.get_filename().endswith(".pdf")


def test_a_dispute_and_a_checkout_needing_attention_alert_the_operator(system, smtp, clock):
    order_id = paid_order(system)
    order = system.orders.get_order(order_id)
    order_stream = parse_prefixed(order_id, "ord_")
    checkout_stream = parse_prefixed(order.checkout_id, "chk_")
    checkout = system.checkouts.get(order.checkout_id)
    system.store.append([order_events.DisputeOpened(
        originator_id=order_stream, originator_version=order.version + 1, occurred_at=clock.now(),
        dispute_id="dp_1", amount=3998, reason="fraudulent")])
    system.store.append([checkout_events.CheckoutNeedsAttention(
        originator_id=checkout_stream, originator_version=checkout.version + 1,
        occurred_at=clock.now(), step="cancel_payment", reason="cancel kept failing")])

    system.notifications.run_once()

    alerts = [m for m in smtp.messages if m["To"] == ADMIN_EMAIL]
    assert sorted(m["Subject"].split()[1] for m in alerts) == ["Checkout", "Dispute"]
    assert len(smtp.messages) == 3


def test_a_webhook_is_signed_and_retried_after_a_500_with_the_same_id(system, receiver, clock):
    receiver.statuses = [500]
    system.notifications.endpoints.put("erp", receiver.url, "whsec_erp_secret", ["order.paid"],
                                       clock.now())
    paid_order(system)

    system.notifications.run_once()
    [delivery] = items(system, kind="webhook")
    assert delivery["status"] == "pending" and delivery["last_error"] == "HTTP 500"
    clock.advance(seconds=10)
    system.notifications.run_once()

    assert len(receiver.requests) == 2
    bodies = [json.loads(body) for _, body in receiver.requests]
    assert bodies[0]["id"] == bodies[1]["id"] and bodies[0]["id"].startswith("evt_")
    assert bodies[0]["type"] == "order.paid" and bodies[0]["data"]["order"]["status"] == "paid"
    for headers, body in receiver.requests:
        t, v1 = (part.split("=", 1)[1] for part in headers["checkoutsaga-signature"].split(","))
        expected = hmac.new(b"whsec_erp_secret", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(v1, expected)
    [delivery] = items(system, kind="webhook")
    assert delivery["status"] == "sent" and delivery["attempts"] == 2


def test_events_an_endpoint_did_not_subscribe_to_are_not_delivered(system, receiver, clock):
    system.notifications.endpoints.put("erp", receiver.url, "whsec_erp_secret",
                                       ["order.refunded"], clock.now())
    order_id = paid_order(system)
    system.orders.refund(RefundOrder(order_id=order_id, idempotency_key="r1", amount=500))

    system.notifications.run_once()

    assert [json.loads(b)["type"] for _, b in receiver.requests] == ["order.refunded"]


def test_an_item_failing_for_three_days_is_failed_and_alerts_the_operator(system, smtp, clock):
    smtp.stop()
    paid_order(system)
    system.notifications.run_once()

    for _ in range(80):  # retries at most an hour apart, for three days
        clock.advance(hours=1)
        system.notifications.run_once()

    failed = items(system, status="failed")
    assert [i["template"] for i in failed] == ["order_confirmation"]
    assert failed[0]["attempts"] > 10
    [alert] = [i for i in items(system) if i["template"] == "outbox_gave_up_alert"]
    assert alert["to"] == ADMIN_EMAIL
    assert verify(system.notifications, system.store, ADMIN_EMAIL) == [f"{failed[0]['id']}: failed"]
    assert system.metrics.outbox_failed.labels(kind="email")._value.get() == 1


def test_a_delivery_for_a_dead_endpoint_keeps_its_retries_bounded(system, clock):
    system.notifications.endpoints.put("dead", "http://127.0.0.1:9/hooks", "whsec_dead_secret",
                                       ["order.paid"], clock.now())
    paid_order(system)

    system.notifications.run_once()
    system.notifications.run_once()  # not due again yet

    [delivery] = items(system, kind="webhook")
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_error"].startswith("ConnectError")


class Invoices:
    def document_for(self, order_id, kind, refund_id=None):
        return Document(filename=f"{kind}-{order_id}.pdf", content=b"%PDF-1.7 test")


def test_the_confirmation_carries_the_invoice_pdf_when_the_orders_side_has_one(
        store, gateway, clock, database_url, smtp):
    settings = Settings(database_url=database_url, database=parse_database_url(database_url),
                        smtp_url=smtp.url, mail_from="shop@example.com")
    system = system_for(store, gateway, clock, settings=settings, invoice_documents=Invoices())
    system.catalog.set_seller("acct_1", charges_enabled=True)
    system.catalog.upsert_product(sku="TSHIRT-M", name="T-shirt M", unit_amount=1999,
                                  currency="usd", seller_id="acct_1", active=True)
    system.catalog.adjust_stock("TSHIRT-M", 10, "initial")
    system.notifications.feeder.ensure(from_head=False)
    order_id = paid_order(system)

    system.notifications.run_once()
    system.notifications.close()

    [mail] = smtp.messages
    [pdf] = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == f"invoice-{order_id}.pdf"


def test_a_second_process_reading_the_same_events_makes_no_second_notification(
        system, store, gateway, clock, database_url, smtp):
    paid_order(system)
    other = system_for(store, gateway, clock, settings=system.settings)  # another worker, a restart

    other.notifications.run_once()
    system.notifications.run_once()
    other.notifications.close()

    assert len(smtp.messages) == 1 and len(items(system)) == 1


def test_the_worker_runs_the_outbox_jobs(system, smtp):
    worker = system.worker()
    paid_order(system)

    assert {"outbox_feed", "outbox_send_email", "outbox_send_webhook"} <= set(worker.jobs)
    for job in ("outbox_feed", "outbox_send_email", "outbox_send_webhook"):
        worker.jobs[job][1]()

    assert len(smtp.messages) == 1
