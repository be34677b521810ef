"""Refund decisions: what may be refunded, what a provider's answer records, when stock returns."""

from __future__ import annotations

from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.commands import CartLine, RefundOrder
from checkout_saga.order import fold_order
from checkout_saga.refunds import decide_refund, decide_refund_result
from events import inventory as inv_ev
from events import order as ord_ev
from tests.unit.sagas import NOW, paid


def refund(order, amount=None, key="rf-1", restock=None, reason=None):
    return RefundOrder(order_id=order.order_id, idempotency_key=key, amount=amount, reason=reason,
                       restock=restock)


def requested(order, cmd):
    decision = decide_refund(order, cmd, now=NOW)
    return fold_order(order, decision.events), decision


def provider_refund(status="succeeded", rid="re_1", amount=1999):
    return ports.RefundSnapshot(id=rid, status=status, amount=amount, currency="usd",
                                payment_intent_id="pi_1")


def test_a_partial_refund_is_requested_with_a_key_derived_from_the_order_and_refund():
    _, _, order = paid()

    after, decision = requested(order, refund(order, amount=1000))

    (event,) = decision.events
    assert isinstance(event, ord_ev.RefundRequested) and event.amount == 1000
    assert event.restock == []  # a partial refund restocks nothing unless asked
    (effect,) = decision.effects
    assert isinstance(effect, fx.CreateRefund)
    assert effect.idempotency_key == f"{order.order_id}:{event.refund_id}"
    assert after.refundable == 3998 - 1000


def test_a_refund_without_an_amount_refunds_the_rest_and_restocks_everything():
    _, _, order = paid()

    _, decision = requested(order, refund(order))

    (event,) = decision.events
    assert event.amount == 3998 and [(line.sku, line.quantity) for line in event.restock] == [("TSHIRT-M", 2)]


def test_more_than_the_remaining_amount_is_refused_with_what_is_refundable():
    _, _, order = paid()

    refused_decision = decide_refund(order, refund(order, amount=3999), now=NOW)
    assert isinstance(refused_decision.error, errors.RefundExceedsRemainingError) and not refused_decision.events

    assert refused_decision.error.details["refundable"] == 3998


def test_an_unpaid_order_cannot_be_refunded():
    from tests.unit.sagas import after_start

    _, _, pending_order = after_start()

    refused_decision = decide_refund(pending_order, refund(pending_order, amount=100), now=NOW)
    assert isinstance(refused_decision.error, errors.OrderNotPaidError) and not refused_decision.events


def test_the_same_key_again_records_nothing_and_another_body_conflicts():
    _, _, order = paid()
    after, _ = requested(order, refund(order, amount=1000))

    replay = decide_refund(after, refund(after, amount=1000), now=NOW)

    assert replay.events == [] and len(replay.effects) == 1  # still requested: re-send, same key
    refused_decision = decide_refund(after, refund(after, amount=999), now=NOW)
    assert isinstance(refused_decision.error, errors.IdempotencyConflictError) and not refused_decision.events


def test_a_succeeded_refund_restocks_the_lines_it_names_once():
    _, inventory, order = paid()
    after, decision = requested(order, refund(order))
    refund_id = decision.events[0].refund_id

    result = decide_refund_result(after, refund_id, provider_refund(amount=3998), inventory, now=NOW)

    kinds = [type(e) for e in result.events]
    assert kinds == [ord_ev.RefundSucceeded, inv_ev.UnitsRestocked]
    done = fold_order(after, [e for e in result.events if e.originator_id == after.id])
    assert decide_refund_result(done, refund_id, provider_refund(amount=3998), inventory,
                                now=NOW).events == []


def test_an_unknown_outcome_records_nothing_so_the_refund_is_sent_again_with_its_key():
    _, inventory, order = paid()
    after, decision = requested(order, refund(order, amount=500))

    result = decide_refund_result(after, decision.events[0].refund_id,
                                  ports.PaymentOutcomeUnknownError("timeout"), inventory, now=NOW)

    assert result.events == []


def test_a_declined_refund_fails_and_frees_its_amount():
    _, inventory, order = paid()
    after, decision = requested(order, refund(order, amount=500))

    result = decide_refund_result(after, decision.events[0].refund_id,
                                  ports.RefundFailedError("insufficient funds"), inventory, now=NOW)

    (event,) = result.events
    assert isinstance(event, ord_ev.RefundFailed)
    assert fold_order(after, result.events).refundable == 3998


def test_restocking_more_than_was_bought_is_refused_naming_the_line():
    _, _, order = paid()

    refused_decision = decide_refund(order, refund(order, restock=(CartLine(sku="TSHIRT-M", quantity=5),)), now=NOW)
    assert isinstance(refused_decision.error, errors.ValidationError) and not refused_decision.events

    assert [field for field, _ in refused_decision.error.errors] == ["restock[0].quantity"]
