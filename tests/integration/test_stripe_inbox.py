"""The Stripe inbox: recorded before acknowledged, deduplicated by evt_ id, applied once."""

from __future__ import annotations

from checkout_saga.commands import CartLine, StartCheckout
from checkout_saga.ids import stripe_event_stream
from checkout_saga.ports import PaymentEventNotice
from events.stripe_inbox import StripeEventApplied, StripeEventReceived


def notice(event_id, type_, snapshot=None):
    return PaymentEventNotice(
        event_id=event_id, type=type_, created=1, payment_intent=snapshot,
        payment_intent_id=snapshot.id if snapshot else None,
        checkout_id=snapshot.checkout_id if snapshot else None)


def start(shop, method="pm_card_visa", session="cs_inbox_0001"):
    return shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), payment_method=method)).checkout


def inbox_types(service, event_id):
    return [type(e) for e in service.store.stream(stripe_event_stream(event_id))]


def test_an_event_type_we_do_not_act_on_is_recorded_once_and_acknowledged(shop):
    assert shop.inbox.receive(notice("evt_other_1", "customer.updated"), "{}") is False
    assert shop.inbox.receive(notice("evt_other_1", "customer.updated"), "{}") is True

    assert inbox_types(shop, "evt_other_1") == [StripeEventReceived, StripeEventApplied]


def test_news_about_a_completed_checkout_changes_nothing_and_asks_stripe_nothing(shop, gateway):
    checkout = start(shop)
    version, calls = checkout.version, len(gateway.calls)
    snapshot = gateway.intents[checkout.payment_intent_id].snapshot()

    shop.inbox.receive(notice("evt_done_1", "payment_intent.succeeded", snapshot), "{}")

    assert shop.checkouts.get(checkout.checkout_id).version == version
    assert len(gateway.calls) == calls
    assert inbox_types(shop, "evt_done_1") == [StripeEventReceived, StripeEventApplied]


def test_an_authorization_webhook_completes_a_3ds_checkout_exactly_once(shop, gateway):
    checkout = start(shop, method="pm_card_authenticationRequired")
    snapshot = gateway.authenticate(checkout.payment_intent_id)
    event = notice("evt_auth_1", "payment_intent.amount_capturable_updated", snapshot)

    assert shop.inbox.receive(event, "{}") is False
    assert shop.inbox.receive(event, "{}") is True

    assert shop.checkouts.get(checkout.checkout_id).status == "completed"
    assert gateway.captures == 1
