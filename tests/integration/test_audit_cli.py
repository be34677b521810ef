"""``audit show`` and ``audit verify`` on real SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

import pytest

from adapters.database import parse_database_url
from adapters.settings import Settings
from bootstrap import build
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.ids import inventory_stream, parse_prefixed
from cli import audit
from events import inventory as inv_ev
from events import order as ord_ev


def start(service, session, payment_method="pm_card_visa", **lines):
    items = tuple(CartLine(sku=s, quantity=q) for s, q in (lines or {"TSHIRT-M": 1}).items())
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=items, customer_id="cus_42",
        payment_method=payment_method)).checkout


def args(command, checkout_id=None, at_version=None, at_time=None, as_json=False):
    return argparse.Namespace(audit_command=command, checkout_id=checkout_id, at_version=at_version,
                              at_time=at_time, json=as_json)


@pytest.fixture
def settings(database_url):
    return Settings(database=parse_database_url(database_url))


def next_version(store, stream):
    return store.stream(stream)[-1].originator_version + 1


def test_verify_passes_on_an_honest_workload(shop, settings, capsys):
    paid = start(shop, "cs_audit_0001")
    shop.orders.refund(RefundOrder(order_id=paid.order_id, idempotency_key="rf-1", amount=999))
    shop.checkouts.cancel(start(shop, "cs_audit_0002", payment_method=None).checkout_id)

    assert audit.run(args("verify"), build(settings)) == 0
    assert "all invariants hold" in capsys.readouterr().out


def test_verify_catches_a_commit_of_units_never_reserved(shop, store, clock, settings, capsys):
    stream = inventory_stream("MUG")
    store.append([inv_ev.ReservationCommitted(
        originator_id=stream, originator_version=next_version(store, stream),
        occurred_at=clock.now(), sku="MUG", checkout_id="chk_forged", quantity=3)])

    assert audit.run(args("verify"), build(settings)) == 1
    out = capsys.readouterr().out
    assert "invariant 1 violated" in out and "MUG" in out


def test_verify_catches_a_refund_beyond_the_captured_amount(shop, store, clock, settings, capsys):
    paid = start(shop, "cs_audit_0003")
    stream = parse_prefixed(paid.order_id, "ord_")
    store.append([ord_ev.RefundRecordedExternally(
        originator_id=stream, originator_version=next_version(store, stream),
        occurred_at=clock.now(), refund_id="rf_forged", provider_refund_id="re_forged", amount=5000)])

    assert audit.run(args("verify"), build(settings)) == 1
    out = capsys.readouterr().out
    assert "invariant 5 violated" in out and paid.order_id in out


def test_show_prints_each_event_with_its_cause_and_the_final_state(shop, settings, capsys):
    checkout = start(shop, "cs_audit_0004")

    assert audit.run(args("show", checkout.checkout_id), build(settings)) == 0

    out = capsys.readouterr().out
    assert "v1" in out and "CheckoutStarted" in out and "CheckoutCompleted" in out
    assert "cause:" in out and '"status": "completed"' in out


def test_show_at_a_version_gives_the_state_as_it_was_then(shop, settings, capsys):
    checkout = start(shop, "cs_audit_0005")

    assert audit.run(args("show", checkout.checkout_id, at_version=1, as_json=True), build(settings)) == 0

    doc = json.loads(capsys.readouterr().out)
    assert [e["type"] for e in doc["events"]] == ["CheckoutStarted"]
    assert doc["state"]["status"] == "processing" and doc["state"]["version"] == 1


def test_show_at_a_time_before_the_checkout_leaves_no_events(shop, clock, settings, capsys):
    checkout = start(shop, "cs_audit_0006")
    before = (clock.now() - timedelta(days=1)).isoformat()

    assert audit.run(args("show", checkout.checkout_id, at_time=before, as_json=True), build(settings)) == 0

    assert json.loads(capsys.readouterr().out)["events"] == []


def test_show_of_an_unknown_checkout_exits_1(shop, settings, capsys):
    assert audit.run(args("show", "chk_" + "0" * 32), build(settings)) == 1
    assert "no checkout" in capsys.readouterr().err
