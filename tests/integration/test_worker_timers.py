"""The worker's timers on real SQLite and PostgreSQL with a fake clock: deadlines come from
the checkout streams through the due-work index; the worker claims and resumes them."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from application.due_work import DueWork
from application.worker import Worker
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ids import step_key
from checkout_saga.invariants import check_invariants
from migrations import migrate
from tests.conftest import system_for


@pytest.fixture
def due_work(database_url, store):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield DueWork(db, store)
    db.close()


@pytest.fixture
def worker(shop, due_work):
    return Worker(shop.checkouts, due_work, owner="test-worker")


def start(service, session="cs_timer_0001", payment_method=None):
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="TSHIRT-M", quantity=2),),
        customer_id="cus_42", payment_method=payment_method)).checkout


def assert_invariants(service, gateway):
    provider: dict = {}
    for intent in gateway.intents.values():
        provider.setdefault(intent.checkout_id, []).append(intent.snapshot())
    assert check_invariants(service.store.all_events(), provider) == []


def test_a_reservation_is_not_expired_before_its_deadline(shop, worker, clock):
    checkout = start(shop)
    clock.advance(seconds=899)

    assert worker.run_once() == 0
    assert shop.checkouts.get(checkout.checkout_id).status == "awaiting_payment"
    assert worker.due_work.rows()[checkout.checkout_id][1] == "reservation_expiry"


def test_an_unpaid_reservation_expires_cancelling_the_intent_before_releasing_stock(
        shop, worker, gateway, clock):
    checkout = start(shop)
    clock.advance(seconds=901)

    assert worker.run_once() == 1

    expired = shop.checkouts.get(checkout.checkout_id)
    assert expired.status == "expired"
    assert gateway.intents[checkout.payment_intent_id].status == "canceled"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert worker.due_work.rows()[checkout.checkout_id][0] is None
    assert worker.run_once() == 0
    assert worker.metrics.expiries._value.get() == 1
    assert_invariants(shop, gateway)


def test_expiry_after_3ds_authorized_but_before_its_webhook_completes_the_checkout(
        shop, worker, gateway, clock):
    checkout = start(shop, payment_method="pm_card_authenticationRequired")
    assert checkout.status == "requires_action"
    gateway.authenticate(checkout.payment_intent_id)  # the customer finished; no webhook yet
    clock.advance(seconds=901)

    worker.run_once()

    done = shop.checkouts.get(checkout.checkout_id)
    assert done.status == "completed"
    assert gateway.captures == 1
    assert shop.catalog.get_inventory("TSHIRT-M").sold == 2
    assert_invariants(shop, gateway)


def test_a_3ds_authorization_arriving_after_expiry_is_never_captured(shop, worker, gateway, clock):
    checkout = start(shop, payment_method="pm_card_authenticationRequired")
    clock.advance(seconds=901)
    worker.run_once()
    assert shop.checkouts.get(checkout.checkout_id).status == "expired"

    gateway.authenticate(checkout.payment_intent_id)  # too late: the intent is cancelled
    late = shop.checkouts.apply_payment_snapshot(gateway.retrieve_payment_intent(checkout.payment_intent_id))

    assert late.status == "expired"
    assert gateway.captures == 0
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert_invariants(shop, gateway)


def test_expiry_whose_cancel_fails_keeps_stock_reserved_and_retries_until_it_succeeds(
        shop, worker, gateway, clock):
    checkout = start(shop)
    gateway.inject("cancel", "error_500", times=2)
    clock.advance(seconds=901)

    worker.run_once()
    held = shop.checkouts.get(checkout.checkout_id)
    assert held.status != "expired" and held.compensation.retry_at is not None
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 2
    assert worker.due_work.rows()[checkout.checkout_id][1] == "compensation_retry"

    for _ in range(3):
        clock.advance(seconds=60)
        worker.run_once()

    assert shop.checkouts.get(checkout.checkout_id).status == "expired"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 0
    assert worker.metrics.retries.labels(kind="compensation")._value.get() == 2
    assert_invariants(shop, gateway)


def test_a_cancel_that_keeps_failing_escalates_to_needs_attention_with_an_alert(
        shop, worker, gateway, clock):
    checkout = start(shop)
    gateway.inject("cancel", "error_500", times=50)
    clock.advance(seconds=901)

    with capture_logs() as logs:
        for _ in range(8):
            worker.run_once()
            clock.advance(seconds=400)

    stuck = shop.checkouts.get(checkout.checkout_id)
    assert stuck.status == "needs_attention"
    assert shop.catalog.get_inventory("TSHIRT-M").reserved == 2  # never released without the cancel
    assert worker.metrics.escalations._value.get() == 1
    alerts = [x for x in logs if x.get("alert")]
    assert [(a["event"], a["checkout_id"]) for a in alerts] == [
        ("ALERT checkout_needs_attention", checkout.checkout_id)]
    assert worker.due_work.rows()[checkout.checkout_id][0] is None
    assert worker.run_once() == 0


class CrashingGateway:
    """The real fake, except that one call performs its effect and then the process 'dies'
    before the outcome is recorded."""

    def __init__(self, inner, operation: str) -> None:
        self._inner = inner
        self._crash_on = operation

    def __getattr__(self, name):
        method = getattr(self._inner, name)
        if name != self._crash_on:
            return method

        def crash(*args, **kwargs):
            self._crash_on = None
            method(*args, **kwargs)
            raise SystemExit("killed between the call and its outcome")
        return crash


def test_an_intention_without_outcome_is_resumed_with_the_same_key(shop, due_work, gateway, clock):
    crashing_process = system_for(shop.store, CrashingGateway(gateway, "create_payment_intent"), clock)
    with pytest.raises(SystemExit):
        start(crashing_process, payment_method="pm_card_visa")
    last = shop.checkouts.history(_checkout_id(shop, "cs_timer_0001"))[-1]
    assert type(last).__name__ == "PaymentStepRequested"
    assert len(gateway.intents) == 1  # the provider acted; the saga does not know yet

    worker = Worker(shop.checkouts, due_work, owner="after-restart")  # the restarted process
    assert worker.run_once() == 0  # within the grace a live process may still be calling
    clock.advance(seconds=6)
    assert worker.run_once() == 1

    recovered = shop.checkouts.get(_checkout_id(shop, "cs_timer_0001"))
    assert recovered.status == "completed"
    assert len(gateway.intents) == 1
    create_keys = [k for k in gateway._idempotency if k.endswith(":create_intent")]  # noqa: SLF001
    assert create_keys == [step_key(recovered.checkout_id, "create_intent")]
    assert_invariants(shop, gateway)


def test_a_lost_index_is_rebuilt_from_the_events(shop, worker, clock):
    first = start(shop, session="cs_timer_0001")
    second = start(shop, session="cs_timer_0002")
    worker.run_once()
    before = worker.due_work.rows()

    worker.due_work.rebuild()

    after = worker.due_work.rows()
    assert after == before
    clock.advance(seconds=901)
    assert worker.run_once() == 2
    assert {shop.checkouts.get(c.checkout_id).status for c in (first, second)} == {"expired"}


def _checkout_id(service, session: str) -> str:
    from checkout_saga.ids import checkout_id_of, checkout_stream

    return checkout_id_of(checkout_stream(session))


def test_a_checkout_mid_step_is_due_for_recovery_not_expiry(shop, due_work, gateway, clock):
    crashing_process = system_for(shop.store, CrashingGateway(gateway, "create_payment_intent"), clock)
    with pytest.raises(SystemExit):
        start(crashing_process, payment_method=None)
    checkout_id = _checkout_id(shop, "cs_timer_0001")
    clock.advance(seconds=901)  # past the reservation's deadline too

    worker = Worker(shop.checkouts, due_work, owner="after-restart")
    worker.due_work.index()
    assert worker.due_work.rows()[checkout_id][1] == "recovery"
    worker.run_once()  # the intention is finished first ...
    assert shop.checkouts.get(checkout_id).status == "awaiting_payment"
    assert worker.due_work.rows()[checkout_id][1] == "reservation_expiry"
    worker.run_once()  # ... then the reservation, already past its time, expires
    assert shop.checkouts.get(checkout_id).status == "expired"
    assert len(gateway.intents) == 1
