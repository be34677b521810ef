"""Live projection updates: LISTEN/NOTIFY on PostgreSQL (supervised), polling on SQLite."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from adapters.database import parse_database_url
from adapters.event_store import APPLICATION_NAME
from checkout_saga.commands import CartLine, StartCheckout
from projections.listener import PostgresWaker, channel_for

NO_FALLBACK = 30.0  # long enough that only a notification (or a reconnect) can wake the runner


def start(service, session):
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="TSHIRT-M", quantity=1),),
        customer_id="cus_42", payment_method="pm_card_visa")).checkout


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def caught_up(models) -> bool:
    return all(s["lag_events"] == 0 for s in models.status())


def terminate(database_url, pid: int) -> None:
    with psycopg.connect(parse_database_url(database_url).conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_event_store_notifies_its_channel_when_events_are_committed(shop, database_url):
    with psycopg.connect(parse_database_url(database_url).conninfo(), autocommit=True) as conn:
        conn.execute(f"LISTEN {channel_for(APPLICATION_NAME)}")
        start(shop, "cs_live_0001")
        notes = list(conn.notifies(timeout=2, stop_after=1))
    assert notes and {n.channel for n in notes} == {"checkoutsaga_events"}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_notification_wakes_the_runner_without_waiting_for_the_fallback_poll(shop, read_models):
    read_models.start_background(fallback_poll=NO_FALLBACK)
    assert wait_until(lambda: read_models.waker.backend_pid is not None)
    assert wait_until(lambda: caught_up(read_models))

    checkout = start(shop, "cs_live_0002")

    assert wait_until(lambda: [o["order_id"] for o in read_models.list_orders()[0]]
                      == [checkout.order_id])


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_terminated_listener_reconnects_and_catches_up_without_skipping_or_repeating(
        shop, read_models, database_url):
    read_models.start_background(fallback_poll=NO_FALLBACK)
    assert wait_until(lambda: read_models.waker.backend_pid is not None)
    start(shop, "cs_live_0003")
    assert wait_until(lambda: caught_up(read_models))
    first_pid = read_models.waker.backend_pid

    terminate(database_url, first_pid)
    start(shop, "cs_live_0004")  # recorded while the listener is down or reconnecting
    assert wait_until(lambda: read_models.waker.reconnects >= 1)
    start(shop, "cs_live_0005")  # recorded after it is back

    assert wait_until(lambda: caught_up(read_models) and len(read_models.list_orders()[0]) == 3)
    assert read_models.waker.backend_pid not in (None, first_pid)
    assert read_models.inventory_level("TSHIRT-M")["sold"] == 3
    assert read_models.inventory_level("TSHIRT-M")["on_hand"] == 7


def test_the_background_runner_keeps_up_with_a_concurrent_writer(shop, read_models):
    read_models.start_background(poll_interval=0.05, fallback_poll=NO_FALLBACK)

    def write():
        for i in range(6):
            start(shop, f"cs_live_conc_{i:04d}")

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()

    assert wait_until(lambda: caught_up(read_models))
    orders, _ = read_models.list_orders(limit=100)
    assert len(orders) == 6 and all(o["status"] == "paid" for o in orders)
    assert read_models.inventory_level("TSHIRT-M")["sold"] == 6


def test_stop_returns_promptly_and_a_restart_resumes_from_the_tracked_position(shop, read_models):
    read_models.start_background(poll_interval=0.05, fallback_poll=NO_FALLBACK)
    start(shop, "cs_live_0006")
    assert wait_until(lambda: caught_up(read_models))

    began = time.monotonic()
    read_models.stop()
    assert time.monotonic() - began < 2.0

    start(shop, "cs_live_0007")
    read_models.start_background(poll_interval=0.05, fallback_poll=NO_FALLBACK)
    assert wait_until(lambda: caught_up(read_models))
    assert len(read_models.list_orders()[0]) == 2
    assert read_models.inventory_level("TSHIRT-M")["sold"] == 2


def test_lag_metrics_give_events_and_seconds_behind_per_projection(shop, read_models):
    start(shop, "cs_live_0008")

    behind = read_models.lag_metrics()
    read_models.catch_up()
    after = read_models.lag_metrics()

    head = shop.store.max_notification_id()
    assert set(behind) == {"orders", "inventory_levels", "payments_ledger", "ops_checkouts",
                           "payments", "transactions", "refund_index"}
    assert all(events == head and seconds >= 0.0 for events, seconds in behind.values())
    assert all(value == (0, 0.0) for value in after.values())


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_waker_reports_a_dead_connection_as_a_wake_up_and_then_reconnects(database_url):
    waker = PostgresWaker(parse_database_url(database_url).conninfo(),
                          channel_for(APPLICATION_NAME), threading.Event())
    try:
        assert waker.wait(0.05) is True  # connected: catch up now
        assert waker.wait(0.05) is False  # quiet: the liveness probe passed
        first_pid = waker.backend_pid

        terminate(database_url, first_pid)

        assert waker.wait(0.5) is True  # the loss is noticed and reported
        assert waker.wait(0.05) is True  # reconnected: catch up now
        assert waker.reconnects == 1 and waker.backend_pid not in (None, first_pid)
    finally:
        waker.close()
