"""Refund controls (CONTRACT §3.2 v2): the refund window with a recorded override, and the
four-eyes approval of refunds above the threshold, as pure decisions."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import msgspec

from checkout_saga import effects as fx
from checkout_saga import errors
from checkout_saga.commands import RefundOrder
from checkout_saga.order import fold_order
from checkout_saga.refund_approvals import decide_refund_approval, decide_refund_rejection
from checkout_saga.refunds import RefundPolicy, decide_refund
from events import order as ord_ev
from tests.unit.sagas import NOW, paid

WINDOW = RefundPolicy(window_days=90)
FOUR_EYES = RefundPolicy(window_days=90, approval_above=2000)


def ask(order, amount=None, key="rf-1", policy=WINDOW, now=NOW, override=False, by="key_alice"):
    cmd = RefundOrder(order_id=order.order_id, idempotency_key=key, amount=amount,
                      override_window=override)
    decision = decide_refund(order, cmd, now=now, policy=policy, requested_by=by)
    return fold_order(order, decision.events), decision


def refusal(result):
    """The refusal a decision came back with (``Decision.error``), having recorded nothing."""
    decision = result[1] if isinstance(result, tuple) else result
    assert decision.error is not None and not decision.events
    return decision.error


def test_a_refund_inside_the_window_is_sent_and_records_who_asked():
    _, _, order = paid()

    after, decision = ask(order, 1000, now=NOW + timedelta(days=89))

    (event,) = decision.events
    assert event.requested_by == "key_alice" and event.override_window is False
    assert [type(e) for e in decision.effects] == [fx.CreateRefund]
    assert next(iter(after.refunds.values())).requested_by == "key_alice"


def test_a_refund_once_the_window_has_ended_is_refused():
    _, _, order = paid()

    refused_error = refusal(ask(order, 1000, now=order.paid_at + timedelta(days=90)))
    assert isinstance(refused_error, errors.RefundWindowExpiredError)

    assert refused_error.details["window_days"] == 90


def test_a_window_of_zero_days_allows_no_refund():
    _, _, order = paid()

    refused_error = refusal(ask(order, 1000, policy=RefundPolicy(window_days=0), now=order.paid_at))
    assert isinstance(refused_error, errors.RefundWindowExpiredError)


def test_an_explicit_override_refunds_after_the_window_and_is_recorded_on_the_refund():
    _, _, order = paid()

    after, decision = ask(order, 1000, now=NOW + timedelta(days=120), override=True)

    assert decision.events[0].override_window is True
    assert next(iter(after.refunds.values())).override_window is True
    assert decision.effects


def test_an_override_inside_the_window_is_not_recorded_as_one():
    _, _, order = paid()

    _, decision = ask(order, 1000, override=True)

    assert decision.events[0].override_window is False


def test_a_refund_above_the_threshold_waits_for_approval_and_sends_nothing():
    _, _, order = paid()

    after, decision = ask(order, 2001, policy=FOUR_EYES)

    assert decision.events[0].awaiting_approval is True and decision.effects == []
    (refund,) = after.refunds.values()
    assert refund.status == "pending_approval"
    assert after.refundable == 3998 - 2001  # held against the refundable amount


def test_a_refund_at_the_threshold_does_not_wait():
    _, _, order = paid()

    _, decision = ask(order, 2000, policy=FOUR_EYES)

    assert decision.effects


def test_asking_again_with_the_same_key_while_it_waits_sends_nothing():
    _, _, order = paid()
    after, _ = ask(order, 2500, policy=FOUR_EYES)

    again = decide_refund(after, RefundOrder(order_id=order.order_id, idempotency_key="rf-1",
                                             amount=2500), now=NOW, policy=FOUR_EYES)

    assert again.events == [] and again.effects == []


def test_the_admin_who_asked_cannot_approve():
    _, _, order = paid()
    after, _ = ask(order, 2500, policy=FOUR_EYES, by="key_alice")
    (refund_id,) = after.refunds

    refused_error = refusal(decide_refund_approval(after, refund_id, approved_by="key_alice", now=NOW))
    assert isinstance(refused_error, errors.ApprovalRequiresSecondAdminError)


def test_a_second_admin_approves_and_only_then_the_refund_is_sent_with_its_key():
    _, _, order = paid()
    after, _ = ask(order, 2500, policy=FOUR_EYES, by="key_alice")
    (refund_id,) = after.refunds

    decision = decide_refund_approval(after, refund_id, approved_by="key_bob", now=NOW)

    (event,) = decision.events
    assert isinstance(event, ord_ev.RefundApproved) and event.approved_by == "key_bob"
    (effect,) = decision.effects
    assert effect.refund_id == refund_id and effect.amount == 2500
    approved = fold_order(after, decision.events).refunds[refund_id]
    assert (approved.status, approved.requested_by, approved.approved_by) == (
        "requested", "key_alice", "key_bob")


def test_approving_an_approved_refund_again_records_nothing_more():
    _, _, order = paid()
    after, _ = ask(order, 2500, policy=FOUR_EYES)
    (refund_id,) = after.refunds
    after = fold_order(after, decide_refund_approval(after, refund_id, approved_by="key_bob",
                                                     now=NOW).events)

    again = decide_refund_approval(after, refund_id, approved_by="key_bob", now=NOW)

    assert again.events == []
    assert len(again.effects) == 1  # still requested: re-sent with the same key


def test_a_rejected_refund_ends_and_gives_its_amount_back_to_the_refundable():
    _, _, order = paid()
    after, _ = ask(order, 2500, policy=FOUR_EYES)
    (refund_id,) = after.refunds

    decision = decide_refund_rejection(after, refund_id, rejected_by="key_bob", note="too much",
                                       now=NOW)
    rejected = fold_order(after, decision.events)

    assert rejected.refunds[refund_id].status == "rejected"
    assert rejected.refunds[refund_id].rejection_note == "too much"
    assert rejected.refundable == 3998 and decision.effects == []
    refused_error = refusal(decide_refund_approval(rejected, refund_id, approved_by="key_bob", now=NOW))
    assert isinstance(refused_error, errors.RefundNotAwaitingApprovalError)


def test_a_refund_that_never_waited_cannot_be_approved_or_rejected():
    _, _, order = paid()
    after, _ = ask(order, 1000, policy=FOUR_EYES)
    (refund_id,) = after.refunds

    refused_error = refusal(decide_refund_approval(after, refund_id, approved_by="key_bob", now=NOW))
    assert isinstance(refused_error, errors.RefundNotAwaitingApprovalError)
    refused_error = refusal(decide_refund_rejection(after, refund_id, rejected_by="key_bob", note="no", now=NOW))
    assert isinstance(refused_error, errors.RefundNotAwaitingApprovalError)


def test_an_unknown_refund_is_not_found():
    _, _, order = paid()

    refused_error = refusal(decide_refund_approval(order, "rf_nope", approved_by="key_bob", now=NOW))
    assert isinstance(refused_error, errors.NotFoundError)


def test_a_refund_fingerprint_from_before_the_override_field_still_matches():
    cmd = RefundOrder(order_id="ord_1", idempotency_key="k", amount=5)
    old_encoding = msgspec.json.encode({"order_id": "ord_1", "idempotency_key": "k", "amount": 5,
                                        "reason": None, "restock": None})

    assert cmd.fingerprint() == hashlib.sha256(old_encoding).hexdigest()


def test_refund_requested_events_recorded_before_the_controls_still_load():
    from events import codec

    _, _, order = paid()
    _, decision = ask(order, 1000)
    event = decision.events[0]
    stored = msgspec.json.decode(codec.encode(event))
    for name in ("requested_by", "override_window", "awaiting_approval"):
        stored.pop(name)

    loaded = codec.decode(codec.topic_for(event), msgspec.json.encode(stored))

    assert loaded.requested_by is None and loaded.awaiting_approval is False
    assert loaded.override_window is False and loaded.amount == 1000
