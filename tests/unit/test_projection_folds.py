"""Each projection's fold, pure: events in, rows out."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from checkout_saga.ids import checkout_id_of, order_id_of
from events import checkout as chk
from events import inventory as inv
from events import order as ord_
from events.base import LineItem
from projections.base import fold_rows
from projections.inventory import INVENTORY_LEVELS
from projections.ledger import PAYMENTS_LEDGER
from projections.ops import OPS_CHECKOUTS
from projections.orders import ORDERS

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ORDER = uuid4()
CHECKOUT = uuid4()
SKU_STREAM = uuid4()


def order_events():
    placed = ord_.OrderPlaced(originator_id=ORDER, originator_version=1, occurred_at=AT,
                              order_id=order_id_of(ORDER), order_number="ORD-2026-1",
                              checkout_id="chk_1", customer_id="cus_42", currency="usd",
                              items=[LineItem(sku="MUG", quantity=2, unit_amount=1250)],
                              amount_total=2500)
    paid = ord_.OrderPaid(originator_id=ORDER, originator_version=2, occurred_at=AT,
                          payment_intent_id="pi_1", amount_captured=2500, charge_id="ch_1")
    return [placed, paid]


def refund(version, refund_id, amount):
    return ord_.RefundSucceeded(originator_id=ORDER, originator_version=version, occurred_at=AT,
                                refund_id=refund_id, provider_refund_id="re_1", amount=amount)


def fold(projection, events):
    rows: dict = {}
    fold_rows(projection, rows, events)
    return rows


def test_a_placed_and_paid_order_is_one_paid_row():
    rows = fold(ORDERS, order_events())

    row = rows[order_id_of(ORDER)]
    assert (row["status"], row["amount_total"], row["amount_refunded"]) == ("paid", 2500, 0)
    assert row["paid_at"] == "2026-11-22T10:00:00.000000Z"


def test_a_partial_then_remaining_refund_moves_the_order_to_refunded():
    partial = fold(ORDERS, [*order_events(), refund(3, "rf_1", 1000)])[order_id_of(ORDER)]
    full = fold(ORDERS, [*order_events(), refund(3, "rf_1", 1000), refund(4, "rf_2", 1500)])

    assert (partial["status"], partial["amount_refunded"]) == ("partially_refunded", 1000)
    assert (full[order_id_of(ORDER)]["status"], full[order_id_of(ORDER)]["amount_refunded"]) == (
        "refunded", 2500)


def test_the_same_refund_seen_twice_is_counted_once():
    rows = fold(ORDERS, [*order_events(), refund(3, "rf_1", 1000), refund(4, "rf_1", 1000)])

    assert rows[order_id_of(ORDER)]["amount_refunded"] == 1000


def inventory(kind, version, quantity, **extra):
    fields = {"delta": quantity, "reason": "initial"} if kind is inv.StockAdjusted else {
        "checkout_id": "chk_1", "quantity": quantity, **extra}
    return kind(originator_id=SKU_STREAM, originator_version=version, occurred_at=AT, sku="MUG", **fields)


def test_reserve_then_commit_moves_units_from_on_hand_to_sold():
    rows = fold(INVENTORY_LEVELS, [inventory(inv.StockAdjusted, 1, 5),
                                   inventory(inv.UnitsReserved, 2, 2, expires_at=AT),
                                   inventory(inv.ReservationCommitted, 3, 2)])

    row = rows["MUG"]
    assert (row["on_hand"], row["reserved"], row["available"], row["sold"]) == (3, 0, 3, 2)


def test_a_released_reservation_makes_the_units_available_again():
    rows = fold(INVENTORY_LEVELS, [inventory(inv.StockAdjusted, 1, 5),
                                   inventory(inv.UnitsReserved, 2, 2, expires_at=AT),
                                   inventory(inv.ReservationReleased, 3, 2)])

    assert (rows["MUG"]["reserved"], rows["MUG"]["available"]) == (0, 5)


def test_a_restock_on_refund_moves_units_from_sold_back_on_hand():
    rows = fold(INVENTORY_LEVELS, [inventory(inv.StockAdjusted, 1, 5),
                                   inventory(inv.UnitsReserved, 2, 2, expires_at=AT),
                                   inventory(inv.ReservationCommitted, 3, 2),
                                   inventory(inv.UnitsRestocked, 4, 1, refund_id="rf_1")])

    assert (rows["MUG"]["on_hand"], rows["MUG"]["sold"]) == (4, 1)


def test_authorization_capture_and_refund_are_one_ledger_row_each():
    events = [chk.PaymentAuthorized(originator_id=CHECKOUT, originator_version=5, occurred_at=AT,
                                    payment_intent_id="pi_1", amount_capturable=2500),
              chk.PaymentCaptured(originator_id=CHECKOUT, originator_version=7, occurred_at=AT,
                                  payment_intent_id="pi_1", amount_received=2500, charge_id="ch_1"),
              refund(3, "rf_1", 1000)]

    rows = sorted(fold(PAYMENTS_LEDGER, events + events).values(), key=lambda r: r["kind"])

    assert [(r["kind"], r["amount"]) for r in rows] == [
        ("authorization", 2500), ("capture", 2500), ("refund", 1000)]
    assert rows[1]["checkout_id"] == checkout_id_of(CHECKOUT) and rows[1]["charge_id"] == "ch_1"
    assert rows[2]["order_id"] == order_id_of(ORDER)


def started():
    return chk.CheckoutStarted(
        originator_id=CHECKOUT, originator_version=1, occurred_at=AT, checkout_session_id="cs_1",
        request_fingerprint="f", customer_id="cus_42", customer_email=None, currency="usd",
        items=[LineItem(sku="MUG", quantity=1, unit_amount=1250)], amount_subtotal=1250,
        amount_total=1250, expires_at=AT)


def test_a_declined_card_shows_the_checkout_awaiting_payment_with_its_error():
    declined = chk.PaymentDeclined(originator_id=CHECKOUT, originator_version=2, occurred_at=AT,
                                   payment_intent_id="pi_1", code="card_declined",
                                   decline_code="insufficient_funds", message="declined")

    row = fold(OPS_CHECKOUTS, [started(), declined])[checkout_id_of(CHECKOUT)]

    assert (row["status"], row["last_error"]) == ("awaiting_payment", "card_declined: declined")


def test_a_late_payment_observation_does_not_move_a_compensating_checkout():
    compensating = chk.CompensationStarted(
        originator_id=CHECKOUT, originator_version=2, occurred_at=AT, target_status="expired",
        reason_code="expired", reason="reservation expired", steps=["release_stock"])
    late = chk.PaymentActionRequired(originator_id=CHECKOUT, originator_version=3, occurred_at=AT,
                                     payment_intent_id="pi_1", next_action_url=None)
    attention = chk.CheckoutNeedsAttention(originator_id=CHECKOUT, originator_version=4,
                                           occurred_at=AT, step="cancel_intent", reason="5xx")

    rows = fold(OPS_CHECKOUTS, [started(), compensating, late])
    assert rows[checkout_id_of(CHECKOUT)]["status"] == "processing"
    rows = fold(OPS_CHECKOUTS, [started(), compensating, late, attention])
    assert rows[checkout_id_of(CHECKOUT)]["status"] == "needs_attention"
