"""Webhooks taken in cheaply: the route records (one insert, deduplicated by event id) and
the worker applies recorded events in batches, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.read_database import ReadDatabase
from adapters.stripe_webhook_log import StripeWebhookLog
from adapters.stripe_webhooks import notice_from_event
from application.due_work import DueWork
from application.webhook_intake import WebhookIntake
from application.worker import Worker
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ids import stripe_event_stream
from events.stripe_inbox import StripeEventApplied, StripeEventReceived
from migrations import migrate


@pytest.fixture
def intake(shop, clock):
    webhook_log = StripeWebhookLog(ReadDatabase(shop.settings.database))
    yield WebhookIntake(webhook_log, shop.inbox, clock, batch=3)
    webhook_log.close()


def start(shop, method="pm_card_authenticationRequired", session="cs_intake_0001"):
    return shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), payment_method=method)).checkout


def intent_event(snapshot, event_id, event_type="payment_intent.amount_capturable_updated") -> str:
    intent = {"id": snapshot.id, "object": "payment_intent", "status": snapshot.status,
              "amount": snapshot.amount, "currency": snapshot.currency,
              "amount_capturable": snapshot.amount_capturable,
              "amount_received": snapshot.amount_received, "client_secret": snapshot.client_secret,
              "metadata": {"checkout_id": snapshot.checkout_id}, "created": snapshot.created}
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "created": 1,
                       "livemode": False, "data": {"object": intent}})


def other_event(event_id: str) -> str:
    return json.dumps({"id": event_id, "object": "event", "type": "customer.updated",
                       "created": 1, "livemode": False,
                       "data": {"object": {"id": "cus_1", "object": "customer"}}})


def record(intake, payload: str) -> bool:
    return intake.record(notice_from_event(json.loads(payload)), payload)


def test_a_recorded_webhook_is_a_duplicate_when_it_comes_again_and_nothing_is_applied_yet(
        shop, intake, gateway):
    checkout = start(shop)
    payload = intent_event(gateway.authenticate(checkout.payment_intent_id), "evt_in_1")
    calls = len(gateway.calls)

    assert record(intake, payload) is False
    assert record(intake, payload) is True

    assert shop.checkouts.get(checkout.checkout_id).status == "requires_action"
    assert list(shop.store.stream(stripe_event_stream("evt_in_1"))) == []  # no append
    assert len(gateway.calls) == calls  # no Stripe call in the request
    assert intake.log.pending() == 1


def test_the_worker_applies_recorded_webhooks_in_batches_once_each(shop, intake, gateway):
    checkout = start(shop)
    payload = intent_event(gateway.authenticate(checkout.payment_intent_id), "evt_in_auth")
    for n in range(4):
        record(intake, other_event(f"evt_in_other_{n}"))
    record(intake, payload)

    assert intake.apply_pending("worker-a") == 3  # one batch
    assert intake.apply_all_pending("worker-a") == 2
    assert intake.apply_all_pending("worker-a") == 0

    assert shop.checkouts.get(checkout.checkout_id).status == "completed"
    assert gateway.captures == 1
    assert intake.log.pending() == 0 and intake.log.is_applied("evt_in_auth") is True
    assert [type(e) for e in shop.store.stream(stripe_event_stream("evt_in_other_0"))] == [
        StripeEventReceived, StripeEventApplied]


def test_news_about_a_completed_checkout_is_settled_by_the_worker_without_asking_stripe(
        shop, intake, gateway):
    checkout = start(shop, method="pm_card_visa")
    snapshot = gateway.intents[checkout.payment_intent_id].snapshot()
    record(intake, intent_event(snapshot, "evt_in_late", "payment_intent.succeeded"))
    calls = len(gateway.calls)

    intake.apply_all_pending("worker-a")

    assert len(gateway.calls) == calls
    assert shop.inbox.outcome_of("evt_in_late") == "no_change: checkout already completed"


def test_two_workers_never_claim_the_same_webhook(shop, intake, clock):
    for n in range(5):
        record(intake, other_event(f"evt_in_claim_{n}"))

    first = intake.log.claim("worker-a", clock.now(), 3)
    second = intake.log.claim("worker-b", clock.now(), 3)

    assert len(first) == 3 and len(second) == 2
    assert not {r.event_id for r in first} & {r.event_id for r in second}


def test_a_batch_claimed_by_a_worker_that_died_is_taken_again_once_its_lease_lapses(
        shop, intake, clock):
    record(intake, other_event("evt_in_orphan"))
    assert [r.event_id for r in intake.log.claim("worker-dead", clock.now(), 10)] == ["evt_in_orphan"]

    assert intake.apply_pending("worker-b") == 0  # still leased
    clock.advance(seconds=intake.log.lease.total_seconds() + 1)
    assert intake.apply_pending("worker-b") == 1

    assert shop.inbox.outcome_of("evt_in_orphan") == "ignored"


def test_the_worker_pass_applies_recorded_webhooks(shop, intake, gateway, database_url):
    db = ReadDatabase(shop.settings.database)
    migrate(db)
    try:
        worker = Worker(shop.checkouts, DueWork(db, shop.store), owner="test-worker",
                        inbox=shop.inbox, intake=intake)
        checkout = start(shop)
        record(intake, intent_event(gateway.authenticate(checkout.payment_intent_id), "evt_in_w"))

        worker.run_once()

        assert shop.checkouts.get(checkout.checkout_id).status == "completed"
        assert intake.log.pending() == 0
    finally:
        db.close()


def test_applied_webhooks_are_forgotten_after_the_redelivery_window(shop, intake, clock):
    record(intake, other_event("evt_in_old"))
    intake.apply_all_pending("worker-a")

    assert intake.log.purge(clock.now()) == 0
    assert intake.log.purge(clock.now() + timedelta(days=8)) == 1
    assert intake.log.is_applied("evt_in_old") is None
