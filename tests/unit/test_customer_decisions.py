"""The Customer aggregate's pure decisions (CONTRACT §3.9): one Stripe customer per customer,
saved cards by their pm_ id with display fields only, the first saved is the default, a
method that is not the customer's is not_found; and CheckoutStarted written before saved
cards existed still loads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from checkout_saga import errors
from checkout_saga.commands import CartLine, Payer, StartCheckout
from checkout_saga.customer import (
    customer_stream,
    decide_link,
    decide_remove,
    decide_save,
    decide_set_default,
    decide_sync,
    fold_customer,
    fold_method_owner,
    payer_for,
    payment_method_stream,
)
from checkout_saga.ports import PaymentMethodSnapshot
from events import codec
from events.customer import PaymentMethodClaimed, PaymentMethodSaved

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def card(pm: str, last4: str = "4242") -> PaymentMethodSnapshot:
    return PaymentMethodSnapshot(id=pm, brand="visa", last4=last4, exp_month=12, exp_year=2034)


def apply(state, decision):
    """The customer's own events (a first saving also claims the method on its own stream)."""
    own = state.id if state is not None else customer_stream("cus_42")
    return fold_customer(state, [e for e in decision.events if e.originator_id == own])


def linked(customer_id="cus_42"):
    return apply(None, decide_link(None, customer_id, "cus_stripe_1", now=NOW))


def with_cards(*pms):
    state = linked()
    for pm in pms:
        state = apply(state, decide_save(state, card(pm), now=NOW))
    return state


def test_a_customer_is_linked_to_one_stripe_customer_and_a_second_link_keeps_the_first():
    state = linked()
    assert state.id == customer_stream("cus_42") and state.stripe_customer_id == "cus_stripe_1"
    assert decide_link(state, "cus_42", "cus_stripe_2", now=NOW).events == []


def test_the_first_saved_card_becomes_the_default_and_the_second_does_not():
    state = with_cards("pm_1", "pm_2")
    assert [m.payment_method_id for m in state.methods] == ["pm_1", "pm_2"]
    assert state.default_payment_method == "pm_1"


def test_saving_a_card_twice_records_it_once():
    state = with_cards("pm_1")
    assert decide_save(state, card("pm_1"), now=NOW).events == []


def test_a_saved_card_keeps_display_fields_only():
    events = decide_save(linked(), card("pm_1"), now=NOW).events
    [saved] = [e for e in events if isinstance(e, PaymentMethodSaved)]
    fields = set(codec.to_jsonable(saved)) - {"occurred_at", "cause"}
    assert fields == {"payment_method_id", "brand", "last4", "exp_month", "exp_year"}


def test_the_default_moves_to_a_named_own_method_only():
    state = with_cards("pm_1", "pm_2")
    state = apply(state, decide_set_default(state, "pm_2", now=NOW))
    assert state.default_payment_method == "pm_2"
    assert decide_set_default(state, "pm_2", now=NOW).events == []
    with pytest.raises(errors.NotFoundError):
        decide_set_default(state, "pm_someone_elses", now=NOW)


def test_removing_the_default_makes_the_oldest_remaining_the_default():
    state = with_cards("pm_1", "pm_2", "pm_3")
    state = apply(state, decide_remove(state, "pm_1", now=NOW))
    assert state.default_payment_method == "pm_2" and "pm_1" in state.removed
    state = apply(state, decide_remove(state, "pm_2", now=NOW))
    state = apply(state, decide_remove(state, "pm_3", now=NOW))
    assert state.methods == () and state.default_payment_method is None


def test_the_first_saving_of_a_method_claims_it_for_the_customer_on_its_own_stream():
    events = decide_save(linked(), card("pm_1"), now=NOW).events
    [claim] = [e for e in events if isinstance(e, PaymentMethodClaimed)]
    assert claim.originator_id == payment_method_stream("pm_1") and claim.originator_version == 1
    owner = fold_method_owner(None, [claim])
    assert owner.customer_id == "cus_42"


def test_removing_a_method_that_is_not_the_customers_is_not_found():
    with pytest.raises(errors.NotFoundError):
        decide_remove(with_cards("pm_1"), "pm_other", now=NOW)


def test_sync_makes_the_list_what_the_provider_holds_whatever_order_events_came_in():
    state = with_cards("pm_1", "pm_2")
    state = apply(state, decide_sync(state, [card("pm_2"), card("pm_3", "4444")], now=NOW))
    assert [m.payment_method_id for m in state.methods] == ["pm_2", "pm_3"]
    assert state.default_payment_method == "pm_2"
    assert decide_sync(state, [card("pm_2"), card("pm_3", "4444")], now=NOW).events == []


def test_default_pays_with_the_default_card_off_session():
    payer = payer_for(with_cards("pm_1", "pm_2"), "default", save=False)
    assert payer == Payer(stripe_customer_id="cus_stripe_1", payment_method="pm_1", off_session=True)


def test_a_named_saved_card_is_charged_off_session():
    assert payer_for(with_cards("pm_1", "pm_2"), "pm_2", save=False).off_session


def test_default_without_a_saved_card_or_a_removed_card_is_not_found():
    with pytest.raises(errors.NotFoundError):
        payer_for(linked(), "default", save=False)
    state = with_cards("pm_1")
    state = apply(state, decide_remove(state, "pm_1", now=NOW))
    with pytest.raises(errors.NotFoundError):
        payer_for(state, "pm_1", save=False)


def test_saving_a_new_card_pays_on_session_with_the_customer_attached():
    payer = payer_for(linked(), "pm_card_visa", save=True)
    assert payer == Payer(stripe_customer_id="cus_stripe_1", payment_method="pm_card_visa",
                          save_payment_method=True)


def test_the_fingerprint_of_a_request_without_saved_card_fields_is_unchanged():
    cmd = StartCheckout(checkout_session_id="cs_1234567", currency="usd",
                        items=(CartLine(sku="A", quantity=2),), customer_id="c",
                        payment_method="pm_card_visa")
    assert cmd.fingerprint() == "50f80d056133669b12b32b96610ee096b053e1e819254b19e03c36fa52822d01"
    resolved = msgspec.structs.replace(cmd, payer=Payer(stripe_customer_id="cus_1", payment_method="pm_1"))
    assert resolved.fingerprint() == cmd.fingerprint()
    assert msgspec.structs.replace(cmd, save_payment_method=True).fingerprint() != cmd.fingerprint()


def test_a_checkout_started_stored_before_saved_cards_still_loads():
    stored = msgspec.json.encode({
        "originator_id": str(uuid.uuid4()), "originator_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z", "checkout_session_id": "cs_12345678",
        "request_fingerprint": "f", "customer_id": "cus_old", "customer_email": None,
        "currency": "usd", "items": [{"sku": "A", "quantity": 1, "unit_amount": 100}],
        "amount_subtotal": 100, "amount_total": 100, "payment_method": "pm_card_visa",
        "return_url": None, "expires_at": "2026-01-01T00:15:00Z"})
    event = codec.decode("CheckoutStarted@2", stored)
    assert (event.stripe_customer_id, event.off_session, event.save_payment_method) == (None, False, False)
