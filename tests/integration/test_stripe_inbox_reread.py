"""A webhook is a hint, never proof: what a signed event says is re-read from Stripe before
anything moves. A failed re-read defers the event (retried by the worker with backoff, then
needs_attention); an intent Stripe does not know is a typed discrepancy, never a payment."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from application.due_work import DueWork
from application.worker import Worker
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ids import stripe_event_stream
from checkout_saga.invariants import check_invariants
from checkout_saga.ports import PaymentEventNotice, PaymentIntentSnapshot
from checkout_saga.stripe_events import MAX_APPLY_ATTEMPTS, fold_inbox
from events.stripe_inbox import StripeEventApplyDeferred, StripeEventReceived
from migrations import migrate
from tests.integration.test_reconciliation_emulator import control, start


@pytest.fixture
def worker(shop, database_url):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield Worker(shop.checkouts, DueWork(db, shop.store), owner="test-worker",
                 orders=shop.orders, inbox=shop.inbox)
    db.close()


def unpaid_checkout(shop, session="cs_reread_0001"):
    return shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="TSHIRT-M", quantity=1),),
        customer_id="cus_42")).checkout


def forged_success(checkout, intent_id=None, event_id="evt_forged_1") -> PaymentEventNotice:
    """A signed payment_intent.succeeded whose object says what Stripe does not: amount 1."""
    intent = PaymentIntentSnapshot(id=intent_id or checkout.payment_intent_id, status="succeeded",
                                   amount=1, amount_received=1, currency="usd",
                                   checkout_id=checkout.checkout_id)
    return PaymentEventNotice(event_id=event_id, type="payment_intent.succeeded", created=1,
                              payment_intent=intent, payment_intent_id=intent.id,
                              checkout_id=checkout.checkout_id)


def entry(shop, event_id):
    return shop.store.get(stripe_event_stream(event_id), fold_inbox)


def assert_nothing_sold(shop, checkout_id):
    checkout = shop.checkouts.get(checkout_id)
    assert checkout.status == "awaiting_payment"
    assert shop.orders.get_order(checkout.order_id).status == "pending"
    level = shop.catalog.get_inventory("TSHIRT-M")
    assert (level.sold, level.reserved) == (0, 1)


def assert_invariants(shop, gateway):
    provider: dict = {}
    for intent in gateway.intents.values():
        provider.setdefault(intent.checkout_id, []).append(intent.snapshot())
    assert check_invariants(shop.store.all_events(), provider) == []


def test_a_signed_success_is_not_applied_while_stripe_cannot_be_read(shop, gateway, worker, clock):
    checkout = unpaid_checkout(shop)
    gateway.inject("retrieve", "error_500", times=3)

    assert shop.inbox.receive(forged_success(checkout), "{}") is False

    assert_nothing_sold(shop, checkout.checkout_id)
    recorded = [type(e) for e in shop.store.stream(stripe_event_stream("evt_forged_1"))]
    assert recorded == [StripeEventReceived, StripeEventApplyDeferred]
    assert entry(shop, "evt_forged_1").outcome is None


def test_a_deferred_event_is_applied_by_the_worker_from_what_stripe_says_when_it_answers(
        shop, gateway, worker, clock):
    checkout = unpaid_checkout(shop)
    gateway.inject("retrieve", "error_500", times=2)
    shop.inbox.receive(forged_success(checkout), "{}")
    worker.due_work.index()
    assert worker.due_work.rows()["evt_forged_1"][1] == "webhook_retry"

    clock.advance(seconds=30)
    worker.run_once()  # the second read fails too: deferred again, with a longer wait
    assert entry(shop, "evt_forged_1").attempts == 2
    clock.advance(seconds=60)
    worker.run_once()

    assert entry(shop, "evt_forged_1").outcome == "applied"  # Stripe: requires_payment_method
    assert_nothing_sold(shop, checkout.checkout_id)
    assert worker.due_work.rows()["evt_forged_1"][0] is None
    assert_invariants(shop, gateway)


def test_a_read_that_keeps_failing_hands_the_checkout_to_an_operator(shop, gateway, worker, clock):
    checkout = unpaid_checkout(shop)
    gateway.inject("retrieve", "error_500", times=100)

    with capture_logs() as logs:
        shop.inbox.receive(forged_success(checkout), "{}")
        for _ in range(MAX_APPLY_ATTEMPTS + 2):
            clock.advance(seconds=600)
            worker.run_once()

    assert entry(shop, "evt_forged_1").outcome.startswith("unmatched: never verified at Stripe")
    flagged = shop.checkouts.get(checkout.checkout_id)
    assert flagged.status == "needs_attention"
    assert shop.catalog.get_inventory("TSHIRT-M").sold == 0
    assert any(line.get("alert") and "stripe_event_never_verified" in line["event"] for line in logs)


def test_an_intent_stripe_does_not_know_is_a_discrepancy_never_a_payment(shop, gateway, worker):
    checkout = unpaid_checkout(shop)

    with capture_logs() as logs:
        shop.inbox.receive(forged_success(checkout, intent_id="pi_never_made_at_stripe"), "{}")

    assert entry(shop, "evt_forged_1").outcome == "unmatched: payment intent unknown to Stripe"
    assert_nothing_sold(shop, checkout.checkout_id)
    assert [line for line in logs if line.get("alert")
            and line["event"] == "ALERT stripe_event_unknown_to_stripe"]
    worker.due_work.index()
    assert worker.due_work.rows()["evt_forged_1"][0] is None  # nothing left to retry


# --- over HTTP, on the Stripe emulator through the real SDK ------------------------------


def test_on_stripe_a_forged_success_is_deferred_while_reads_fail_then_checked(
        stripe_shop, stripe_emulator):
    checkout = start(stripe_shop, "cs_reread_emu_01", None)
    control(stripe_emulator, "faults", {"method": "GET", "path": "/v1/payment_intents/{id}",
                                        "fault": "error_500", "times": 3})

    stripe_shop.inbox.receive(forged_success(checkout, event_id="evt_forged_emu"), "{}")

    assert entry(stripe_shop, "evt_forged_emu").outcome is None
    outcome = None
    for _ in range(3):  # the worker's retries, when due
        outcome = outcome or stripe_shop.inbox.retry("evt_forged_emu")
    assert outcome == "applied"  # applied as Stripe has it: requires_payment_method
    assert stripe_shop.checkouts.get(checkout.checkout_id).status == "awaiting_payment"
    assert stripe_shop.catalog.get_inventory("MUG").sold == 0


def test_on_stripe_an_unknown_intent_naming_a_checkout_is_a_discrepancy(stripe_shop):
    checkout = start(stripe_shop, "cs_reread_emu_02", None)

    stripe_shop.inbox.receive(forged_success(checkout, intent_id="pi_0000forged0000",
                                             event_id="evt_forged_404"), "{}")

    assert entry(stripe_shop, "evt_forged_404").outcome == "unmatched: payment intent unknown to Stripe"
    assert stripe_shop.checkouts.get(checkout.checkout_id).status == "awaiting_payment"
