"""The read-side queries the API uses, on real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from adapters.database import parse_database_url
from checkout_saga.commands import CartLine, StartCheckout
from projections.queries import InvalidCursorError
from projections.runtime import ReadModels


def start(service, session, customer="cus_42", payment_method="pm_card_visa"):
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="MUG", quantity=1),),
        customer_id=customer, payment_method=payment_method)).checkout


def test_orders_page_newest_first_with_a_cursor_until_none_is_left(shop, clock, read_models):
    made = []
    for i in range(5):
        made.append(start(shop, f"cs_query_{i:04d}").order_id)
        clock.advance(seconds=1)
    read_models.catch_up()

    first, cursor = read_models.list_orders(limit=2)
    second, cursor2 = read_models.list_orders(limit=2, cursor=cursor)
    third, cursor3 = read_models.list_orders(limit=2, cursor=cursor2)

    seen = [o["order_id"] for o in first + second + third]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 5
    created = [o["created_at"] for o in first + second + third]
    assert created == sorted(created, reverse=True)
    assert cursor3 is None


def test_orders_filter_by_customer_and_status(shop, read_models):
    start(shop, "cs_query_a001", customer="cus_a")
    start(shop, "cs_query_b001", customer="cus_b", payment_method=None)
    read_models.catch_up()

    assert [o["customer_id"] for o in read_models.list_orders(customer_id="cus_a")[0]] == ["cus_a"]
    assert [o["customer_id"] for o in read_models.list_orders(status="pending")[0]] == ["cus_b"]


def test_a_cursor_the_api_never_issued_is_rejected(read_models):
    with pytest.raises(InvalidCursorError):
        read_models.list_orders(cursor="not-a-cursor")


def test_ops_lists_checkouts_awaiting_payment_but_not_completed_ones(shop, read_models):
    waiting = start(shop, "cs_query_ops1", payment_method=None)
    start(shop, "cs_query_ops2")
    read_models.catch_up()

    assert read_models.list_ops_checkouts() == [waiting.checkout_id]
    assert read_models.list_ops_checkouts(status="awaiting_payment") == [waiting.checkout_id]
    assert read_models.list_ops_checkouts(status="needs_attention") == []


def test_the_background_runner_picks_up_new_events_by_itself(shop, read_models):
    read_models.start_background(poll_interval=0.05)
    start(shop, "cs_query_bg01")

    deadline = time.monotonic() + 10
    while not read_models.list_orders()[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    read_models.stop()

    assert len(read_models.list_orders()[0]) == 1


def test_two_runners_catching_up_at_once_apply_each_event_once(shop, database_url, read_models):
    for i in range(5):
        start(shop, f"cs_query_two{i:02d}")
    other = ReadModels(parse_database_url(database_url), event_store=shop.store, batch=7)
    read_models.batch = 5
    try:
        threads = [threading.Thread(target=m.catch_up) for m in (read_models, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()

    level = read_models.inventory_level("MUG")
    assert (level["on_hand"], level["sold"], level["reserved"]) == (0, 5, 0)
    assert len(read_models.list_orders()[0]) == 5


def test_the_background_runner_survives_a_database_error_and_resumes(shop, read_models):
    from migrations import schema

    with read_models.db.write() as tx:
        tx.execute("DROP TABLE orders")
    read_models.start_background(poll_interval=0.05)
    start(shop, "cs_query_err1")
    time.sleep(0.3)
    assert read_models.status()[0]["lag_events"] > 0

    with read_models.db.write() as tx:
        for statement in schema.create_all("orders"):
            tx.execute(statement)
    deadline = time.monotonic() + 10
    while not read_models.list_orders()[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    read_models.stop()

    assert len(read_models.list_orders()[0]) == 1
