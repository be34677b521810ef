"""The projections on real SQLite and PostgreSQL: catch-up, restart, concurrent writers."""

from __future__ import annotations

import threading

from adapters.database import parse_database_url
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from projections.runtime import ReadModels


def start(service, session, **lines):
    items = tuple(CartLine(sku=s, quantity=q) for s, q in (lines or {"TSHIRT-M": 1}).items())
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=items, customer_id="cus_42",
        payment_method="pm_card_visa")).checkout


def test_migrate_twice_applies_nothing_the_second_time(read_models):
    assert read_models.migrate() == []


def test_catch_up_projects_a_completed_checkout_into_orders_and_inventory(shop, read_models):
    checkout = start(shop, "cs_proj_0001", **{"TSHIRT-M": 2})

    read_models.catch_up()

    orders, cursor = read_models.list_orders(customer_id="cus_42")
    assert cursor is None
    assert [(o["order_id"], o["status"], o["amount_total"]) for o in orders] == [
        (checkout.order_id, "paid", 3998)]
    assert orders[0]["items"] == [{"sku": "TSHIRT-M", "quantity": 2, "unit_amount": 1999}]
    assert read_models.inventory_level("TSHIRT-M") == {
        "sku": "TSHIRT-M", "on_hand": 8, "reserved": 0, "available": 8, "sold": 2}


def test_a_refund_is_projected_into_the_order_and_the_ledger(shop, read_models):
    checkout = start(shop, "cs_proj_0002")
    shop.orders.refund(RefundOrder(order_id=checkout.order_id, idempotency_key="rf-1", amount=500))

    read_models.catch_up()

    (order,), _ = read_models.list_orders()
    assert (order["status"], order["amount_refunded"]) == ("partially_refunded", 500)
    with read_models.db.read() as tx:
        kinds = sorted(r["kind"] for r in tx.fetchall("SELECT kind FROM payments_ledger"))
    assert kinds == ["authorization", "capture", "refund"]


def test_a_new_instance_after_a_restart_applies_only_the_new_events(shop, database_url, read_models):
    start(shop, "cs_proj_0003")
    first = read_models.catch_up()
    start(shop, "cs_proj_0004")
    head = shop.store.max_notification_id()

    restarted = ReadModels(parse_database_url(database_url), event_store=shop.store)
    try:
        applied = restarted.catch_up()
        assert applied == head - first
        assert len(restarted.list_orders()[0]) == 2
        assert all(s["lag_events"] == 0 for s in restarted.status())
    finally:
        restarted.close()


def test_catch_up_beside_a_concurrent_writer_skips_nothing_and_applies_nothing_twice(
        shop, read_models):
    def write():
        for i in range(8):
            start(shop, f"cs_proj_conc_{i:04d}")

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        read_models.catch_up()
    writer.join()
    read_models.catch_up()

    orders, _ = read_models.list_orders(limit=100)
    assert len(orders) == 8 and all(o["status"] == "paid" for o in orders)
    assert read_models.inventory_level("TSHIRT-M")["sold"] == 8
    assert read_models.inventory_level("TSHIRT-M")["on_hand"] == 2


def test_catch_up_without_tracking_rows_creates_them_and_terminates(shop, read_models):
    start(shop, "cs_proj_0005")
    with read_models.db.write() as tx:
        tx.execute("DELETE FROM projection_tracking")

    applied = read_models.catch_up()

    assert applied == shop.store.max_notification_id()
    assert read_models.catch_up() == 0
