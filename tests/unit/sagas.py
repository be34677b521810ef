"""Builders for pure decision tests: domain states made by the decisions themselves (never by
hand), so a test starts from a state the saga can really be in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checkout_saga import ports
from checkout_saga.catalog import fold_product, fold_seller
from checkout_saga.checkout import fold_checkout
from checkout_saga.checkout_decisions import decide_step_result
from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ids import checkout_stream, inventory_stream, product_stream, seller_stream
from checkout_saga.inventory import fold_inventory
from checkout_saga.order import fold_order
from checkout_saga.saga import decide_start
from events import inventory as inv_ev
from events.catalog import ProductUpserted, SellerUpdated
from events.inventory import StockAdjusted

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)


def product(sku="TSHIRT-M", active=True, seller="acct_1"):
    return fold_product(None, [ProductUpserted(
        originator_id=product_stream(sku), originator_version=1, occurred_at=NOW, sku=sku,
        name=sku, unit_amount=1999, currency="usd", seller_id=seller, active=active)])


def seller(enabled=True):
    return fold_seller(None, [SellerUpdated(originator_id=seller_stream("acct_1"),
                                            originator_version=1, occurred_at=NOW,
                                            seller_id="acct_1", charges_enabled=enabled)])


def stock(sku="TSHIRT-M", units=10):
    return fold_inventory(None, [StockAdjusted(originator_id=inventory_stream(sku),
                                               originator_version=1, occurred_at=NOW, sku=sku,
                                               delta=units, reason="initial")])


def command(quantity=2, payment_method="pm_card_visa", session="cs_unit_0001"):
    return StartCheckout(checkout_session_id=session, currency="usd",
                         items=(CartLine(sku="TSHIRT-M", quantity=quantity),),
                         payment_method=payment_method)


def started(quantity=2, payment_method="pm_card_visa", units=10, enabled=True):
    cmd = command(quantity, payment_method)
    decision = decide_start(cmd, None, {"TSHIRT-M": product()}, {"acct_1": seller(enabled)},
                            {"TSHIRT-M": stock(units=units)}, stream_id=checkout_stream(cmd.checkout_session_id),
                            now=NOW, reservation_ttl=TTL)
    return cmd, decision


def fold_all(decision, kind):
    sid = {e.originator_id for e in decision.events if type(e).__module__ == f"events.{kind}"}
    folds = {"checkout": fold_checkout, "order": fold_order, "inventory": fold_inventory}
    return {s: folds[kind](None, [e for e in decision.events if e.originator_id == s]) for s in sid}


def apply(checkout, decision_events):
    """The checkout after a decision (its own stream's events only)."""
    return fold_checkout(checkout, [e for e in decision_events if e.originator_id == checkout.id])


def snapshot(status, **extra):
    return ports.PaymentIntentSnapshot(id="pi_1", status=status, amount=3998, currency="usd",
                                       **extra)


def after_start(payment_method="pm_card_visa"):
    cmd, decision = started(payment_method=payment_method)
    (checkout,) = fold_all(decision, "checkout").values()
    inventory = {"TSHIRT-M": fold_inventory(stock(), [e for e in decision.events if isinstance(e, inv_ev.UnitsReserved)])}
    (order,) = fold_all(decision, "order").values()
    return checkout, inventory, order



def awaiting_payment():
    """A checkout whose intent waits for a payment method."""
    checkout, inventory, order = after_start(payment_method=None)
    decision = decide_step_result(checkout, "create_intent", checkout.pending.idempotency_key,
                                  snapshot("requires_payment_method"), inventory, order, now=NOW)
    return apply(checkout, decision.events), inventory, order



def paid(payment_method="pm_card_visa"):
    """A completed checkout, its inventory and its paid order (2 × 1999 = 3998 captured)."""
    checkout, inventory, order = after_start(payment_method)
    for step, snap in (("create_intent", snapshot("requires_capture", amount_capturable=3998)),
                       ("capture", snapshot("succeeded", amount_received=3998))):
        decision = decide_step_result(checkout, step, checkout.pending.idempotency_key, snap,
                                      inventory, order, now=NOW)
        checkout = apply(checkout, decision.events)
        order = fold_order(order, [e for e in decision.events if e.originator_id == order.id])
        inventory = {sku: fold_inventory(item, [e for e in decision.events if e.originator_id == item.id])
                     for sku, item in inventory.items()}
    return checkout, inventory, order
