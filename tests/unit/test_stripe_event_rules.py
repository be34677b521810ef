"""Which Stripe events cannot change anything, so the inbox records them with their outcome at
once (``checkout_saga.stripe_events``), and how an inbox stream folds."""

from __future__ import annotations

from checkout_saga import ports
from checkout_saga.stripe_events import fold_inbox, outcome_without_effect
from events.stripe_inbox import StripeEventApplied, StripeEventReceived
from tests.unit.sagas import NOW, after_start, paid, snapshot


def notice(type_, intent=None, **extra):
    return ports.PaymentEventNotice(event_id="evt_1", type=type_, created=0, payment_intent=intent,
                                    **extra)


def test_a_type_the_saga_does_not_act_on_is_ignored():
    assert outcome_without_effect(notice("customer.created"), None) == "ignored"


def test_news_about_a_completed_checkout_changes_nothing():
    checkout, _, _ = paid()

    outcome = outcome_without_effect(notice("payment_intent.succeeded", snapshot("succeeded")),
                                     checkout)

    assert outcome == "no_change: checkout already completed"


def test_an_intent_event_for_a_live_checkout_must_be_applied():
    checkout, _, _ = after_start()

    assert outcome_without_effect(
        notice("payment_intent.amount_capturable_updated", snapshot("requires_capture")),
        checkout) is None


def test_dispute_and_refund_events_are_always_applied():
    assert outcome_without_effect(notice("charge.dispute.created", dispute_id="dp_1"), None) is None


def test_an_inbox_stream_folds_to_its_event_and_outcome():
    from uuid import uuid4

    sid = uuid4()
    received = StripeEventReceived(originator_id=sid, originator_version=1, occurred_at=NOW,
                                   event_id="evt_1", type="payment_intent.succeeded", created=0,
                                   payment_intent_id="pi_1", checkout_id=None, payload="{}")
    applied = StripeEventApplied(originator_id=sid, originator_version=2, occurred_at=NOW,
                                 outcome="applied")

    assert fold_inbox(None, []) is None
    entry = fold_inbox(None, [received])
    assert entry.outcome is None and entry.version == 1
    entry = fold_inbox(entry, [applied])
    assert (entry.outcome, entry.version, entry.received.event_id) == ("applied", 2, "evt_1")


CONTRACT_HANDLED = (  # CONTRACT §3.6 "Handled at least", and the v2 additions
    "payment_intent.succeeded", "payment_intent.amount_capturable_updated",
    "payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.requires_action",
    "charge.refunded", "refund.created", "refund.updated", "refund.failed",
    "charge.dispute.created", "charge.dispute.closed",
    "payment_method.attached", "payment_method.detached", "setup_intent.succeeded")


def test_the_endpoint_subscribes_to_every_type_the_contract_says_is_handled():
    from checkout_saga.stripe_events import HANDLED_EVENT_TYPES

    assert set(CONTRACT_HANDLED) <= set(HANDLED_EVENT_TYPES)
    assert len(set(HANDLED_EVENT_TYPES)) == len(HANDLED_EVENT_TYPES)


def test_the_endpoint_subscribes_to_no_type_the_inbox_would_only_acknowledge():
    from checkout_saga.stripe_events import HANDLED_EVENT_TYPES

    saga_types = [t for t in HANDLED_EVENT_TYPES  # the customers' types are applied elsewhere
                  if not t.startswith(("payment_method.", "setup_intent."))]
    refund = ports.RefundSnapshot(id="re_1", payment_intent_id="pi_1", amount=100,
                                  status="succeeded", currency="usd")

    for event_type in saga_types:
        extra = {"refund": refund} if event_type.startswith(("refund.", "charge.refund.")) else {}
        assert outcome_without_effect(notice(event_type, **extra), None) != "ignored", event_type
