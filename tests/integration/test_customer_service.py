"""CustomerService on the real event stores (SQLite and PostgreSQL) with the fake gateway:
concurrent first use makes one Stripe customer and one link; saved-card webhooks received
through the inbox keep the list what Stripe holds, once per event."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from checkout_saga.customer import customer_stream
from checkout_saga.ports import PaymentEventNotice


def notice(event_id: str, event_type: str, stripe_customer_id: str | None) -> PaymentEventNotice:
    return PaymentEventNotice(event_id=event_id, type=event_type, created=0,
                              stripe_customer_id=stripe_customer_id)


def test_concurrent_first_uses_make_one_stripe_customer_and_one_link(service, gateway):
    with ThreadPoolExecutor(8) as pool:
        linked = list(pool.map(lambda _: service.customers.ensure_linked("cus_race"), range(8)))
    assert len({state.stripe_customer_id for state in linked}) == 1
    assert len(gateway.customers) == 1
    assert [type(e).__name__ for e in service.store.stream(customer_stream("cus_race"))] == ["CustomerLinked"]


def test_a_card_attached_at_stripe_is_saved_when_its_webhook_arrives_once(service, gateway):
    state = service.customers.ensure_linked("cus_42")
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=state.stripe_customer_id,
                                           idempotency_key="k1")
    event = notice("evt_pm_1", "payment_method.attached", state.stripe_customer_id)
    assert service.inbox.receive(event, "{}") is False
    assert service.inbox.receive(event, "{}") is True
    after = service.customers.get("cus_42")
    assert [m.payment_method_id for m in after.methods] == [method.id]
    assert after.default_payment_method == method.id


def test_a_detach_webhook_arriving_before_the_attach_webhook_never_brings_the_card_back(service, gateway):
    state = service.customers.ensure_linked("cus_42")
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=state.stripe_customer_id,
                                           idempotency_key="k1")
    gateway.detach_payment_method(method.id, idempotency_key="k2")
    service.inbox.receive(notice("evt_pm_detached", "payment_method.detached", state.stripe_customer_id), "{}")
    service.inbox.receive(notice("evt_pm_attached", "payment_method.attached", state.stripe_customer_id), "{}")
    assert service.customers.get("cus_42").methods == ()


def test_a_succeeded_setup_intent_webhook_saves_its_card(service, gateway):
    state = service.customers.ensure_linked("cus_42")
    setup = gateway.create_setup_intent(stripe_customer_id=state.stripe_customer_id, idempotency_key="s1",
                                        payment_method="pm_card_mastercard")
    service.inbox.receive(notice("evt_seti_1", "setup_intent.succeeded", state.stripe_customer_id), "{}")
    [saved] = service.customers.get("cus_42").methods
    assert (saved.payment_method_id, saved.last4) == (setup.payment_method, "4444")


def test_a_webhook_about_a_stripe_customer_we_do_not_know_is_recorded_unmatched(service, gateway):
    stranger = gateway.ensure_customer(customer_id="not_ours", idempotency_key="x")
    assert service.inbox.receive(notice("evt_pm_x", "payment_method.attached", stranger), "{}") is False
    assert service.inbox.receive(notice("evt_pm_x", "payment_method.attached", stranger), "{}") is True
    assert service.customers.get("not_ours") is None
