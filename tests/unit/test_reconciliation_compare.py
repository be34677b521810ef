"""The pure comparison: one provider intent against its checkout and order."""

from __future__ import annotations

import pytest

from checkout_saga.discrepancies import compare_intent
from checkout_saga.ports import PaymentIntentSnapshot
from tests.unit.sagas import awaiting_payment


def intent(status: str, checkout_id: str | None, amount: int = 3998, pid: str = "pi_1"):
    return PaymentIntentSnapshot(id=pid, status=status, amount=amount, currency="usd",
                                 amount_received=amount if status == "succeeded" else 0,
                                 checkout_id=checkout_id)


@pytest.fixture
def awaiting_with_order():
    return awaiting_payment()


@pytest.fixture
def awaiting(awaiting_with_order):
    return awaiting_with_order[0]


def test_a_live_intent_without_a_checkout_is_an_orphan_to_cancel():
    [d] = compare_intent(intent("requires_capture", None), None, None)
    assert (d.type, d.fix) == ("orphan_intent", "cancel_intent")


def test_the_checkouts_own_intent_with_the_right_amount_is_no_discrepancy(awaiting):
    assert compare_intent(intent("requires_payment_method", awaiting.checkout_id,
                                 pid=awaiting.payment_intent_id), awaiting, None) == []


def test_a_second_live_intent_for_one_checkout_is_an_orphan(awaiting):
    [d] = compare_intent(intent("requires_payment_method", awaiting.checkout_id, pid="pi_other"),
                         awaiting, None)
    assert (d.type, d.fix) == ("orphan_intent", "cancel_intent")


def test_another_amount_at_stripe_needs_attention(awaiting):
    [d] = compare_intent(intent("requires_payment_method", awaiting.checkout_id, amount=1,
                                pid=awaiting.payment_intent_id), awaiting, None)
    assert (d.type, d.fix) == ("amount_mismatch", "needs_attention")


def test_a_capture_whose_order_is_not_paid_needs_attention(awaiting_with_order):
    awaiting, _, order = awaiting_with_order
    [d] = compare_intent(intent("succeeded", awaiting.checkout_id, pid=awaiting.payment_intent_id),
                         awaiting, order)
    assert (d.type, d.fix) == ("capture_without_paid_order", "needs_attention")


def test_a_cancelled_intent_is_never_a_discrepancy():
    assert compare_intent(intent("canceled", None), None, None) == []
