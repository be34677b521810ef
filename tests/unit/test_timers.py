"""When a checkout next needs the worker (``checkout_saga.timers.due_for``), read from its state."""

from __future__ import annotations

from datetime import timedelta

from checkout_saga import ports
from checkout_saga.checkout_decisions import decide_cancel, decide_step_result
from checkout_saga.timers import RECOVERY_GRACE, due_for
from tests.unit.sagas import NOW, TTL, after_start, apply, awaiting_payment, paid


def test_an_unpaid_checkout_is_due_when_its_reservation_expires():
    checkout, _, _ = awaiting_payment()

    due = due_for(checkout)

    assert (due.at, due.reason) == (NOW + TTL, "reservation_expiry")


def test_an_intention_without_outcome_is_due_for_recovery_after_the_grace():
    checkout, _, _ = after_start()  # create_intent requested, no outcome recorded

    due = due_for(checkout)

    assert (due.at, due.reason) == (checkout.updated_at + RECOVERY_GRACE, "recovery")


def test_an_unknown_outcome_is_due_at_its_retry_time():
    checkout, inventory, order = after_start()
    decision = decide_step_result(checkout, "create_intent", checkout.pending.idempotency_key,
                                  ports.PaymentOutcomeUnknownError("timeout"), inventory, order,
                                  now=NOW)
    checkout = apply(checkout, decision.events)

    due = due_for(checkout)

    assert (due.at, due.reason) == (checkout.pending.retry_at, "step_retry")


def test_a_failing_compensation_is_due_at_its_retry_time():
    checkout, inventory, order = awaiting_payment()
    checkout = apply(checkout, decide_cancel(checkout, inventory, order, reason="c", now=NOW).events)
    failed = decide_step_result(checkout, "cancel_intent", "k",
                                ports.PaymentOutcomeUnknownError("500"), inventory, order, now=NOW)
    checkout = apply(checkout, failed.events)

    due = due_for(checkout)

    assert due.reason == "compensation_retry" and due.at == checkout.compensation.retry_at


def test_a_completed_checkout_is_never_due():
    checkout, _, _ = paid()

    assert checkout.status == "completed" and due_for(checkout) is None


def test_a_checkout_mid_step_past_its_deadline_is_recovered_before_it_expires():
    checkout, _, _ = after_start(payment_method=None)

    due = due_for(checkout, recovery_grace=timedelta(seconds=5))

    assert due.reason == "recovery"  # the step's outcome comes first, then the expiry
