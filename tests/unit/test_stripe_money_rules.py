"""Pure rules for money learnt from Stripe: refunds made outside the service, disputes, and
when an order or a deferred Stripe event next needs the worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from checkout_saga.discrepancies import compare_refunds
from checkout_saga.disputes import decide_dispute
from checkout_saga.order import fold_order
from checkout_saga.ports import PaymentEventNotice, RefundSnapshot
from checkout_saga.stripe_events import fold_inbox
from checkout_saga.stripe_refunds import decide_stripe_refund
from checkout_saga.timers import due_for_inbox, due_for_order
from events import codec
from events import order as ev
from events.base import LineItem
from events.stripe_inbox import StripeEventApplied, StripeEventApplyDeferred, StripeEventReceived

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ORDER = uuid.uuid4()


def paid_order(*more):
    events = [
        ev.OrderPlaced(originator_id=ORDER, originator_version=1, occurred_at=NOW,
                       order_id=f"ord_{ORDER.hex}", order_number="ORD-1", checkout_id="chk_1",
                       customer_id="cus_1", currency="usd",
                       items=[LineItem(sku="A", quantity=2, unit_amount=500)], amount_total=1000),
        ev.OrderPaid(originator_id=ORDER, originator_version=2, occurred_at=NOW,
                     payment_intent_id="pi_1", amount_captured=1000, charge_id="ch_1"),
    ]
    return fold_order(None, events + list(more))


def stripe_refund(amount=300, status="succeeded", rid="re_dash_1", key=None):
    return RefundSnapshot(id=rid, payment_intent_id="pi_1", amount=amount, currency="usd",
                          status=status, refund_key=key)


def recorded(order, snap):
    return fold_order(order, decide_stripe_refund(order, snap, now=NOW).events)


def test_a_refund_made_at_stripe_is_recorded_once_with_source_stripe_and_no_restock():
    order = recorded(paid_order(), stripe_refund())

    [refund] = order.refunds.values()
    assert (refund.source, refund.status, refund.restock) == ("stripe", "succeeded", ())
    assert (order.amount_refunded, order.status) == (300, "partially_refunded")
    assert decide_stripe_refund(order, stripe_refund(), now=NOW).events == []


def test_a_pending_stripe_refund_holds_the_refundable_until_it_succeeds():
    order = recorded(paid_order(), stripe_refund(status="pending"))

    assert (order.amount_refunded, order.refundable, order.status) == (0, 700, "paid")


def test_a_failed_or_excessive_stripe_refund_is_not_recorded():
    assert decide_stripe_refund(paid_order(), stripe_refund(status="failed"), now=NOW).events == []
    assert decide_stripe_refund(paid_order(), stripe_refund(amount=1001), now=NOW).events == []


def test_an_external_refund_stored_before_it_had_a_status_loads_as_succeeded():
    stored = msgspec.json.encode({
        "originator_id": str(ORDER), "originator_version": 3, "occurred_at": "2026-01-01T00:00:00Z",
        "refund_id": "rf_old", "provider_refund_id": "re_old", "amount": 400})

    event = codec.decode("RefundRecordedExternally@1", stored)

    assert event.status == "succeeded"
    assert paid_order(event).amount_refunded == 400


def test_an_unknown_refund_of_one_of_our_orders_is_a_safe_fix_to_record():
    [found] = compare_refunds([stripe_refund()], {"pi_1": paid_order()})
    assert (found.type, found.fix) == ("unknown_refund", "record_refund")
    [stray] = compare_refunds([stripe_refund()], {})
    assert stray.fix == "needs_attention"


def dispute(type_, status=None):
    return PaymentEventNotice(event_id="evt_1", type=type_, created=1, dispute_id="dp_1",
                              dispute_amount=1000, dispute_reason="fraudulent",
                              dispute_status=status, payment_intent_id="pi_1")


def test_a_dispute_opens_once_and_closes_once():
    order = paid_order()
    opened = fold_order(order, decide_dispute(order, dispute("charge.dispute.created"),
                                              now=NOW).events)
    assert opened.dispute.status == "needs_response"
    assert decide_dispute(opened, dispute("charge.dispute.created"), now=NOW).events == []
    closed = fold_order(opened, decide_dispute(opened, dispute("charge.dispute.closed", "won"),
                                               now=NOW).events)
    assert (closed.dispute.status, closed.dispute.closed_at) == ("won", NOW)
    assert decide_dispute(closed, dispute("charge.dispute.closed", "lost"), now=NOW).events == []


def test_a_requested_refund_is_due_for_recovery_after_the_grace():
    requested = ev.RefundRequested(originator_id=ORDER, originator_version=3, occurred_at=NOW,
                                   refund_id="rf_1", amount=100, reason=None, restock=[],
                                   idempotency_key="k", request_fingerprint="f")
    due = due_for_order(paid_order(requested), recovery_grace=timedelta(seconds=5))
    assert (due.at, due.reason) == (NOW + timedelta(seconds=5), "refund_recovery")
    assert due_for_order(paid_order()) is None


def test_a_deferred_stripe_event_is_due_at_its_retry_time_and_never_once_applied():
    sid = uuid.uuid4()
    received = StripeEventReceived(originator_id=sid, originator_version=1, occurred_at=NOW,
                                   event_id="evt_1", type="payment_intent.succeeded", created=1,
                                   payment_intent_id="pi_1", checkout_id=None, payload="{}")
    deferred = StripeEventApplyDeferred(originator_id=sid, originator_version=2, occurred_at=NOW,
                                        attempt=1, retry_at=NOW + timedelta(seconds=7),
                                        reason="500")
    applied = StripeEventApplied(originator_id=sid, originator_version=3, occurred_at=NOW,
                                 outcome="applied")

    assert due_for_inbox(fold_inbox(None, [received])).reason == "webhook_recovery"
    due = due_for_inbox(fold_inbox(None, [received, deferred]))
    assert (due.at, due.reason) == (NOW + timedelta(seconds=7), "webhook_retry")
    assert due_for_inbox(fold_inbox(None, [received, deferred, applied])) is None
