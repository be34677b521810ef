"""Rebuilding the projections from the event store, in place and through shadow tables."""

from __future__ import annotations

import argparse

import pytest

from adapters.database import parse_database_url
from adapters.settings import Settings
from bootstrap import build
from checkout_saga import errors
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from cli import projections as cli
from projections import rebuild
from projections.registry import PROJECTIONS


def start(service, session, payment_method="pm_card_visa", **lines):
    items = tuple(CartLine(sku=s, quantity=q) for s, q in (lines or {"TSHIRT-M": 1}).items())
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=items, customer_id="cus_42",
        payment_method=payment_method)).checkout


def workload(shop):
    paid = start(shop, "cs_rebuild_0001", **{"TSHIRT-M": 2, "MUG": 1})
    shop.orders.refund(RefundOrder(order_id=paid.order_id, idempotency_key="rf-1", amount=700))
    cancelled = start(shop, "cs_rebuild_0002", payment_method=None)
    shop.checkouts.cancel(cancelled.checkout_id)
    start(shop, "cs_rebuild_0003", payment_method=None, MUG=2)
    with pytest.raises(errors.InsufficientStockError):
        start(shop, "cs_rebuild_0004", MUG=50)


def snapshot(models) -> dict:
    with models.db.read() as tx:
        return {name: sorted(repr(sorted(r.items())) for r in tx.fetchall(f"SELECT * FROM {name}"))
                for name in PROJECTIONS}


def rebuild_args(*names, shadow=False):
    return argparse.Namespace(projections_command="rebuild", names=list(names), shadow=shadow)


def test_a_rebuild_gives_the_same_rows_as_the_live_catch_up(shop, read_models, database_url):
    workload(shop)
    read_models.catch_up()
    live = snapshot(read_models)

    code = cli.run(rebuild_args(), build(Settings(database=parse_database_url(database_url))))

    assert code == 0
    assert snapshot(read_models) == live
    assert all(s["lag_events"] == 0 for s in read_models.status())


def test_a_shadow_rebuild_swaps_in_rows_equal_to_the_live_ones(shop, read_models, database_url):
    workload(shop)
    read_models.catch_up()
    live = snapshot(read_models)

    code = cli.run(rebuild_args(shadow=True), build(Settings(database=parse_database_url(database_url))))

    assert code == 0
    assert snapshot(read_models) == live
    assert not read_models.db.table_exists("orders__shadow")
    start(shop, "cs_rebuild_0005")
    read_models.catch_up()
    assert len(read_models.list_orders(limit=10)[0]) == 4


def test_the_served_tables_keep_serving_while_the_shadow_is_built(shop, read_models):
    workload(shop)
    read_models.catch_up()
    served_during = []

    def progress(_n):
        served_during.append(len(read_models.list_orders()[0]))

    rebuild.rebuild_shadow(read_models.db, read_models.event_store, ["orders"], progress)

    assert served_during and set(served_during) == {3}


def test_an_interrupted_shadow_rebuild_leaves_the_served_tables_intact(shop, read_models):
    workload(shop)
    read_models.catch_up()
    live = snapshot(read_models)

    def crash(_n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rebuild.rebuild_shadow(read_models.db, read_models.event_store, list(PROJECTIONS), crash)

    assert snapshot(read_models) == live
    rebuild.rebuild_shadow(read_models.db, read_models.event_store, list(PROJECTIONS))
    assert snapshot(read_models) == live


def test_projections_status_reports_every_projection(read_models, database_url, capsys):
    args = argparse.Namespace(projections_command="status", names=[], shadow=False)

    assert cli.run(args, build(Settings(database=parse_database_url(database_url)))) == 0

    out = capsys.readouterr().out
    assert all(name in out for name in PROJECTIONS)


def test_rebuilding_an_unknown_projection_exits_2_and_touches_nothing(read_models, database_url):
    code = cli.run(rebuild_args("nope"), build(Settings(database=parse_database_url(database_url))))

    assert code == 2


def test_a_shadow_rebuild_of_one_projection_leaves_the_others_alone(shop, read_models, database_url):
    workload(shop)
    read_models.catch_up()
    live = snapshot(read_models)

    code = cli.run(rebuild_args("inventory_levels", shadow=True),
                   build(Settings(database=parse_database_url(database_url))))

    assert code == 0 and snapshot(read_models) == live
    assert {s["name"] for s in read_models.status()} == set(PROJECTIONS)
