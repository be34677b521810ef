"""Real threads racing on one checkout, on PostgreSQL, with the real Stripe gateway against
the emulator over HTTP. Each race is run a bounded number of times (fresh checkout each
time); after every run the checkout must have ended one consistent way and CONTRACT §5 must
hold, Stripe's side included."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from adapters.clock import SystemClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from checkout_saga import errors
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.invariants import check_invariants
from events import checkout as ev
from tests.conftest import system_for
from tests.plugins.emulator import TEST_API_KEY

pytestmark = pytest.mark.postgres

RUNS = 12
LIVE = {"requires_payment_method", "requires_confirmation", "requires_action", "requires_capture",
        "processing"}


@pytest.fixture
def racing(pg_database_url, stripe_emulator):
    store = EventsourcingStore(parse_database_url(pg_database_url), pool_size=8)
    gateway = StripePaymentGateway(StripeGatewayConfig(
        api_key=TEST_API_KEY, api_base=stripe_emulator.base_url, max_network_retries=0))
    system = system_for(store, gateway, SystemClock(), pg_database_url)
    system.catalog.set_seller("acct_1", charges_enabled=True)
    system.catalog.upsert_product(sku="HOT", name="Hot item", unit_amount=500, currency="usd",
                                  seller_id="acct_1", active=True)
    system.catalog.adjust_stock("HOT", 100, "initial")
    yield system, stripe_emulator
    gateway.close()
    store.close()


def start(system, session: str, payment_method: str | None = None):
    return system.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="HOT", quantity=1),),
        payment_method=payment_method)).checkout


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls on their own threads released together; each result or its error."""
    gate = threading.Barrier(len(calls))

    def run(call):
        gate.wait(timeout=10)
        try:
            return call()
        except errors.DomainError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result(timeout=60) for f in [pool.submit(run, c) for c in calls]]


def provider_intents(system, checkout_ids) -> dict:
    return {cid: system.gateway.find_payment_intents(cid) for cid in checkout_ids}


def assert_consistent(system, checkout_ids) -> None:
    assert check_invariants(system.store.all_events(), provider_intents(system, checkout_ids)) == []


def test_a_declined_card_racing_a_cancel_ends_cancelled_and_stays_cancelled(racing):
    system, _ = racing
    ids = []
    for run in range(RUNS):
        checkout = start(system, f"cs_decline_cancel_{run:03d}")
        ids.append(checkout.checkout_id)

        confirm, cancel = race(
            lambda c=checkout: system.checkouts.confirm_payment(
                c.checkout_id, payment_method="pm_card_chargeDeclined"),
            lambda c=checkout: system.checkouts.cancel(c.checkout_id))

        assert not isinstance(cancel, Exception), cancel
        final = system.checkouts.get(checkout.checkout_id)
        assert (final.status, final.payment_status) == ("cancelled", "canceled"), run
        history = system.checkouts.history(checkout.checkout_id)
        ended_at = next(i for i, e in enumerate(history) if isinstance(e, ev.CheckoutCancelled))
        after_end = {type(e) for e in history[ended_at + 1:]}
        assert after_end <= {ev.PaymentObservedAfterEnd}, (run, after_end)
        (intent,) = system.gateway.find_payment_intents(checkout.checkout_id)
        assert intent.status == "canceled"
        assert isinstance(confirm, errors.CardDeclinedDomainError | errors.CheckoutNotConfirmableError) \
            or getattr(confirm, "status", None) == "cancelled", confirm
    assert system.catalog.get_inventory("HOT").reserved == 0
    assert_consistent(system, ids)


def test_confirm_racing_cancel_ends_either_paid_or_cancelled_never_both(racing):
    """H6: every command appends at the version it read; the loser re-decides."""
    system, _ = racing
    ids, outcomes = [], set()
    for run in range(RUNS):
        checkout = start(system, f"cs_confirm_cancel_{run:03d}")
        ids.append(checkout.checkout_id)

        confirm, cancel = race(
            lambda c=checkout: system.checkouts.confirm_payment(c.checkout_id,
                                                                payment_method="pm_card_visa"),
            lambda c=checkout: system.checkouts.cancel(c.checkout_id))

        final = system.checkouts.get(checkout.checkout_id)
        (intent,) = system.gateway.find_payment_intents(checkout.checkout_id)
        outcomes.add(final.status)
        if final.status == "completed":
            assert isinstance(cancel, errors.CheckoutNotCancellableError), cancel
            assert (intent.status, intent.amount_received) == ("succeeded", 500)
        else:
            assert final.status == "cancelled", (run, final.status)
            assert intent.status == "canceled"
            assert not isinstance(confirm, errors.CardDeclinedDomainError)
    level = system.catalog.get_inventory("HOT")
    assert level.reserved == 0
    assert level.sold == sum(1 for cid in ids if system.checkouts.get(cid).status == "completed")
    assert_consistent(system, ids)


def test_a_webhook_racing_the_customers_confirm_captures_once_and_commits_stock_once(racing):
    """H7: the customer finished 3-D Secure; the authorization arrives both as the
    webhook's view of the intent and through the customer's confirm (a re-check)."""
    system, emulator = racing
    ids = []
    for run in range(RUNS):
        checkout = start(system, f"cs_webhook_confirm_{run:03d}", "pm_card_authenticationRequired")
        assert checkout.status == "requires_action"
        ids.append(checkout.checkout_id)
        httpx.post(f"{emulator.base_url}/_emulator/payment_intents/{checkout.payment_intent_id}"
                   "/authenticate", json={"outcome": "succeed"}, timeout=5).raise_for_status()
        webhook_view = system.gateway.retrieve_payment_intent(checkout.payment_intent_id)
        assert webhook_view.status == "requires_capture"

        webhook, confirm = race(
            lambda v=webhook_view: system.checkouts.apply_payment_snapshot(v),
            lambda c=checkout: system.checkouts.confirm_payment(c.checkout_id))

        assert not isinstance(webhook, Exception) and not isinstance(confirm, Exception)
        final = system.checkouts.get(checkout.checkout_id)
        assert (final.status, final.amount_captured) == ("completed", 500), run
        history = system.checkouts.history(checkout.checkout_id)
        assert sum(isinstance(e, ev.StockCommitted) for e in history) == 1
        assert sum(isinstance(e, ev.PaymentCaptured) for e in history) == 1
    level = system.catalog.get_inventory("HOT")
    assert (level.sold, level.reserved) == (RUNS, 0)
    assert_consistent(system, ids)


def test_a_good_card_racing_a_declined_one_is_402_only_for_the_declined_card(racing):
    """Two tabs confirm at once: each caller's answer is about its own card. A confirm that
    finds another in flight lets it finish, then tries its own card."""
    system, _ = racing
    ids = []
    for run in range(RUNS):
        checkout = start(system, f"cs_two_cards_{run:03d}")
        ids.append(checkout.checkout_id)

        good, declined = race(
            lambda c=checkout: system.checkouts.confirm_payment(c.checkout_id,
                                                                payment_method="pm_card_visa"),
            lambda c=checkout: system.checkouts.confirm_payment(
                c.checkout_id, payment_method="pm_card_chargeDeclined"))

        final = system.checkouts.get(checkout.checkout_id)
        assert final.status == "completed", (run, final.status)
        assert getattr(good, "status", good) == "completed", (run, good)
        assert isinstance(declined, errors.CardDeclinedDomainError) \
            or getattr(declined, "status", None) == "completed", (run, declined)
    level = system.catalog.get_inventory("HOT")
    assert (level.sold, level.reserved) == (RUNS, 0)
    assert_consistent(system, ids)
