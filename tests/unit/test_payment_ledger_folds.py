"""The payments ledger's folds, pure: the events the saga really decides (a checkout paid with
its fee, refunds, a dispute) in, payment and transaction rows out."""

from __future__ import annotations

from checkout_saga.checkout_decisions import decide_step_result
from checkout_saga.ids import order_id_of
from checkout_saga.inventory import fold_inventory
from checkout_saga.order import fold_order
from events import checkout as chk
from events import inventory as inv_ev
from events import order as ord_
from projections.base import fold_rows
from projections.payments import PAYMENTS
from projections.refund_index import REFUND_INDEX
from projections.transactions import TRANSACTIONS
from tests.unit.sagas import NOW, apply, fold_all, snapshot, started, stock

CAPTURE = snapshot("succeeded", amount_received=3998, latest_charge="ch_1", fee=146,
                   balance_transaction_id="txn_1")


def paid_events(capture=CAPTURE):
    """Every event of a checkout paid by card (2 x 1999), and its order."""
    _, decision = started()
    events = list(decision.events)
    (checkout,) = fold_all(decision, "checkout").values()
    (order,) = fold_all(decision, "order").values()
    inventory = {"TSHIRT-M": fold_inventory(stock(), [e for e in events
                                                      if isinstance(e, inv_ev.UnitsReserved)])}
    intent = snapshot("requires_capture", amount_capturable=3998, latest_charge="ch_1")
    for step, snap in (("create_intent", intent), ("capture", capture)):
        step_decision = decide_step_result(checkout, step, checkout.pending.idempotency_key, snap,
                                           inventory, order, now=NOW)
        events += step_decision.events
        checkout = apply(checkout, step_decision.events)
        order = fold_order(order, [e for e in step_decision.events if e.originator_id == order.id])
        inventory = {sku: fold_inventory(item, [e for e in step_decision.events
                                                if e.originator_id == item.id])
                     for sku, item in inventory.items()}
    return events, order


def order_event(order, cls, version, **fields):
    return cls(originator_id=order.id, originator_version=version, occurred_at=NOW, **fields)


def fold(projection, events):
    rows: dict = {}
    fold_rows(projection, rows, events)
    return rows


def test_a_capture_with_a_known_fee_records_the_fee_as_an_event():
    events, _ = paid_events()

    (fee,) = [e for e in events if isinstance(e, chk.PaymentFeeRecorded)]

    assert (fee.fee, fee.currency, fee.charge_id, fee.balance_transaction_id) == (
        146, "usd", "ch_1", "txn_1")


def test_a_capture_whose_fee_is_unknown_records_no_fee():
    events, _ = paid_events(snapshot("succeeded", amount_received=3998, latest_charge="ch_1"))

    assert not [e for e in events if isinstance(e, chk.PaymentFeeRecorded)]


def test_a_paid_checkout_is_one_succeeded_payment_of_its_order():
    events, order = paid_events()

    (payment,) = fold(PAYMENTS, events).values()

    assert payment["payment_id"] == "pay_" + order.id.hex
    assert payment["order_id"] == order.order_id and payment["checkout_id"] == order.checkout_id
    assert (payment["status"], payment["amount"], payment["amount_captured"]) == ("succeeded", 3998, 3998)
    assert payment["payment_intent_id"] == "pi_1" and payment["card"] is None
    assert payment["created_at"] is not None and payment["completed_at"] is not None


def test_refunds_and_an_open_dispute_show_on_the_payment():
    events, order = paid_events()
    v = order.version
    events += [order_event(order, ord_.RefundRequested, v + 1, refund_id="rf_1", amount=1000,
                           reason=None, restock=[], idempotency_key="k", request_fingerprint="f",
                           requested_by="key_a"),
               order_event(order, ord_.RefundSucceeded, v + 2, refund_id="rf_1",
                           provider_refund_id="re_1", amount=1000)]
    refunded = fold(PAYMENTS, events)["pay_" + order.id.hex]
    events.append(order_event(order, ord_.DisputeOpened, v + 3, dispute_id="dp_1", amount=2998,
                              reason="fraudulent"))
    disputed = fold(PAYMENTS, events)["pay_" + order.id.hex]

    assert (refunded["status"], refunded["amount_refunded"]) == ("partially_refunded", 1000)
    assert refunded["refunds"]["rf_1"]["requested_by"] == "key_a"
    assert disputed["status"] == "disputed"
    assert disputed["disputes"]["dp_1"]["status"] == "needs_response"


def test_a_won_dispute_gives_the_payment_back_its_refund_status():
    events, order = paid_events()
    v = order.version
    events += [order_event(order, ord_.DisputeOpened, v + 1, dispute_id="dp_1", amount=3998,
                           reason=None),
               order_event(order, ord_.DisputeClosed, v + 2, dispute_id="dp_1", status="won")]

    (payment,) = fold(PAYMENTS, events).values()

    assert payment["status"] == "succeeded" and payment["disputes"]["dp_1"]["status"] == "won"


def test_the_transaction_log_has_a_charge_a_fee_a_refund_a_chargeback_and_its_reversal():
    events, order = paid_events()
    v = order.version
    events += [order_event(order, ord_.RefundSucceeded, v + 1, refund_id="rf_1",
                           provider_refund_id="re_1", amount=1000),
               order_event(order, ord_.DisputeOpened, v + 2, dispute_id="dp_1", amount=2998,
                           reason=None),
               order_event(order, ord_.DisputeClosed, v + 3, dispute_id="dp_1", status="won")]

    rows = fold(TRANSACTIONS, events + events)  # a replay adds nothing

    by_type = {r["type"]: r for r in rows.values()}
    assert sorted(r["type"] for r in rows.values()) == [
        "charge", "chargeback", "chargeback_reversal", "fee", "refund"]
    assert (by_type["charge"]["amount"], by_type["charge"]["stripe_id"]) == (3998, "ch_1")
    assert (by_type["fee"]["amount"], by_type["fee"]["stripe_id"]) == (146, "txn_1")
    assert (by_type["refund"]["amount"], by_type["refund"]["stripe_id"]) == (1000, "re_1")
    assert by_type["chargeback"]["amount"] == 2998
    assert by_type["chargeback_reversal"]["amount"] is None  # read from the chargeback
    assert {r["order_id"] for r in rows.values()} == {order_id_of(order.id)}


def test_a_lost_dispute_moves_no_more_money():
    events, order = paid_events()
    v = order.version
    events += [order_event(order, ord_.DisputeOpened, v + 1, dispute_id="dp_1", amount=3998,
                           reason=None),
               order_event(order, ord_.DisputeClosed, v + 2, dispute_id="dp_1", status="lost")]

    types = sorted(r["type"] for r in fold(TRANSACTIONS, events).values())

    assert types == ["charge", "chargeback", "fee"]


def test_a_refund_is_indexed_by_its_id_to_its_order():
    events, order = paid_events()
    events.append(order_event(order, ord_.RefundRequested, order.version + 1, refund_id="rf_9",
                              amount=10, reason=None, restock=[], idempotency_key="k",
                              request_fingerprint="f"))

    assert fold(REFUND_INDEX, events)["rf_9"]["order_id"] == order.order_id


def test_a_fee_learnt_after_the_capture_was_recorded_is_recorded_once():
    from checkout_saga.checkout import fold_checkout

    events, order = paid_events(snapshot("succeeded", amount_received=3998, latest_charge="ch_1"))
    checkout_sid = next(e.originator_id for e in events if isinstance(e, chk.CheckoutStarted))
    checkout = fold_checkout(None, [e for e in events if e.originator_id == checkout_sid])
    assert checkout.status == "completed" and not checkout.fee_recorded

    late = decide_step_result(checkout, "capture", "late-reply", CAPTURE, {}, order, now=NOW)
    after = fold_checkout(checkout, late.events)
    again = decide_step_result(after, "capture", "late-reply", CAPTURE, {}, order, now=NOW)

    assert [type(e) for e in late.events] == [chk.PaymentFeeRecorded]
    assert after.status == "completed" and after.fee_recorded and again.events == []
