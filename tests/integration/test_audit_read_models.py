"""``audit verify``, invariant 7 on the read side: the served projection rows equal the replay
of the events each projection has tracked. Divergences are planted straight into the tables."""

from __future__ import annotations

import argparse

import pytest

from adapters.database import parse_database_url
from adapters.settings import Settings
from bootstrap import build
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from cli import audit
from projections.registry import PROJECTIONS
from projections.runner import Target, run_batch


def start(service, session, payment_method="pm_card_visa", **lines):
    items = tuple(CartLine(sku=s, quantity=q) for s, q in (lines or {"TSHIRT-M": 1}).items())
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=items, customer_id="cus_42",
        payment_method=payment_method)).checkout


VERIFY = argparse.Namespace(audit_command="verify")


@pytest.fixture
def settings(database_url):
    return Settings(database=parse_database_url(database_url))


@pytest.fixture
def projected(shop, read_models):
    paid = start(shop, "cs_rm_0001", MUG=2)
    shop.orders.refund(RefundOrder(order_id=paid.order_id, idempotency_key="rf-1", amount=700))
    shop.checkouts.cancel(start(shop, "cs_rm_0002", payment_method=None).checkout_id)
    read_models.catch_up()
    return paid


def test_verify_passes_when_the_read_models_equal_the_replay(projected, settings, capsys):
    assert audit.run(VERIFY, build(settings)) == 0
    assert "all invariants hold" in capsys.readouterr().out


def test_read_models_behind_the_head_are_not_a_divergence(shop, read_models, settings, capsys):
    start(shop, "cs_rm_0003")
    targets = [Target.served(p) for p in PROJECTIONS.values()]
    run_batch(read_models.db, read_models.event_store, targets, batch=3)

    assert audit.run(VERIFY, build(settings)) == 0
    assert "all invariants hold" in capsys.readouterr().out


def test_verify_catches_a_reserved_count_that_the_events_do_not_give(
        projected, read_models, settings, capsys):
    with read_models.db.write() as tx:
        tx.execute("UPDATE inventory_levels SET reserved = reserved + 1 WHERE sku = 'MUG'")

    assert audit.run(VERIFY, build(settings)) == 1
    out = capsys.readouterr().out
    assert "invariant 7 violated: inventory_levels row differs from the replay" in out
    assert "MUG" in out


def test_verify_catches_an_order_row_lost_from_the_read_model(projected, read_models, settings,
                                                              capsys):
    with read_models.db.write() as tx:
        tx.execute("DELETE FROM orders WHERE order_id = ?", (projected.order_id,))

    assert audit.run(VERIFY, build(settings)) == 1
    out = capsys.readouterr().out
    assert "invariant 7 violated: orders row missing" in out and projected.order_id in out


def test_verify_catches_a_row_no_event_ever_produced(projected, read_models, settings, capsys):
    with read_models.db.write() as tx:
        tx.execute("INSERT INTO ops_checkouts (checkout_id, status, compensating, last_error, "
                   "created_at, updated_at) VALUES ('chk_phantom', 'processing', 0, NULL, "
                   "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')")

    assert audit.run(VERIFY, build(settings)) == 1
    out = capsys.readouterr().out
    assert "invariant 7 violated: ops_checkouts row not in the replay" in out
    assert "chk_phantom" in out
