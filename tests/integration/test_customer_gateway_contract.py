"""The gateway's saved-card calls (CONTRACT §3.9): one set of scenarios, run against the
Stripe adapter on the built-in emulator (over HTTP, through the real SDK) and against the
in-memory fake — so the fake the API tests use cannot drift from Stripe's behaviour."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.fake_payment_gateway import FakePaymentGateway
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from checkout_saga.ports import CardDeclinedError, PaymentRequestRejectedError


@pytest.fixture(params=["fake", "emulator"])
def gateway_under_test(request):
    if request.param == "fake":
        return FakePaymentGateway()
    emulator = request.getfixturevalue("stripe_emulator")
    return StripePaymentGateway(StripeGatewayConfig(
        api_key="sk_test_emulator", api_base=emulator.base_url, timeout_seconds=5, max_network_retries=2))


def key(what: str) -> str:
    return f"test:{what}:{uuid.uuid4().hex}"


def customer(gateway, customer_id=None) -> str:
    customer_id = customer_id or f"c_{uuid.uuid4().hex[:8]}"
    return gateway.ensure_customer(customer_id=customer_id, idempotency_key=f"customer:{customer_id}:create")


def test_the_same_creation_key_gives_the_same_customer(gateway_under_test):
    gateway = gateway_under_test
    first = customer(gateway, "cus_same")
    assert customer(gateway, "cus_same") == first
    assert first.startswith("cus_") and gateway.customer_ref(first) == "cus_same"


def test_concurrent_first_uses_make_one_customer(gateway_under_test):
    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(lambda _: customer(gateway_under_test, "cus_race"), range(4)))
    assert len(ids) == 1


def test_attaching_a_test_token_saves_a_new_method_with_display_fields(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=cus, idempotency_key=key("a"))
    assert method.id.startswith("pm_") and method.id != "pm_card_visa"
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("visa", "4242", 12, 2034)
    assert [m.id for m in gateway.list_payment_methods(cus)] == [method.id]


def test_a_method_saved_by_one_customer_cannot_be_attached_to_another(gateway_under_test):
    gateway = gateway_under_test
    mine, theirs = customer(gateway), customer(gateway)
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=theirs, idempotency_key=key("a"))
    with pytest.raises(PaymentRequestRejectedError):
        gateway.attach_payment_method(method.id, stripe_customer_id=mine, idempotency_key=key("b"))


def test_an_unknown_method_cannot_be_attached(gateway_under_test):
    with pytest.raises(PaymentRequestRejectedError):
        gateway_under_test.attach_payment_method("pm_nope", stripe_customer_id=customer(gateway_under_test),
                                                 idempotency_key=key("a"))


def test_a_detached_method_leaves_the_list_and_detaching_again_is_no_error(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=cus, idempotency_key=key("a"))
    gateway.detach_payment_method(method.id, idempotency_key=key("d"))
    gateway.detach_payment_method(method.id, idempotency_key=key("d2"))
    assert gateway.list_payment_methods(cus) == []


def test_a_setup_intent_with_a_good_card_succeeds_and_saves_it(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    setup = gateway.create_setup_intent(stripe_customer_id=cus, idempotency_key=key("s"),
                                        payment_method="pm_card_mastercard")
    assert setup.status == "succeeded" and setup.id.startswith("seti_") and setup.client_secret
    assert [(m.id, m.last4) for m in gateway.list_payment_methods(cus)] == [(setup.payment_method, "4444")]


def test_a_setup_intent_without_a_card_waits_for_one(gateway_under_test):
    setup = gateway_under_test.create_setup_intent(stripe_customer_id=customer(gateway_under_test),
                                                   idempotency_key=key("s"))
    assert setup.status == "requires_payment_method"


def test_a_setup_intent_with_a_declined_card_saves_nothing(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    try:
        setup = gateway.create_setup_intent(stripe_customer_id=cus, idempotency_key=key("s"),
                                            payment_method="pm_card_chargeDeclined")
        assert setup.status == "requires_payment_method"
    except CardDeclinedError:
        pass  # Stripe answers a declined SetupIntent confirmation with a card error
    assert gateway.list_payment_methods(cus) == []


def test_a_payment_with_setup_future_usage_saves_the_card_for_the_customer(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    intent = gateway.create_payment_intent(
        amount=1000, currency="usd", checkout_id="chk_save", order_id="ord_save",
        idempotency_key=key("pi"), payment_method="pm_card_visa", customer=cus,
        setup_future_usage="off_session")
    assert intent.status == "requires_capture"
    [saved] = gateway.list_payment_methods(cus)
    assert saved.last4 == "4242"


def test_a_saved_card_is_charged_off_session(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=cus, idempotency_key=key("a"))
    intent = gateway.create_payment_intent(
        amount=1000, currency="usd", checkout_id="chk_off", order_id="ord_off",
        idempotency_key=key("pi"), payment_method=method.id, customer=cus, off_session=True)
    assert intent.status == "requires_capture"


def test_a_saved_card_needing_authentication_is_declined_off_session(gateway_under_test):
    gateway = gateway_under_test
    cus = customer(gateway)
    method = gateway.attach_payment_method("pm_card_authenticationRequired", stripe_customer_id=cus,
                                           idempotency_key=key("a"))
    with pytest.raises(CardDeclinedError) as declined:
        gateway.create_payment_intent(
            amount=1000, currency="usd", checkout_id="chk_3ds", order_id="ord_3ds",
            idempotency_key=key("pi"), payment_method=method.id, customer=cus, off_session=True)
    assert "authentication_required" in (declined.value.code, declined.value.decline_code)


def test_another_customers_saved_card_cannot_be_charged(gateway_under_test):
    gateway = gateway_under_test
    mine, theirs = customer(gateway), customer(gateway)
    method = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=theirs, idempotency_key=key("a"))
    with pytest.raises(PaymentRequestRejectedError):
        gateway.create_payment_intent(
            amount=1000, currency="usd", checkout_id="chk_x", order_id="ord_x",
            idempotency_key=key("pi"), payment_method=method.id, customer=mine, off_session=True)


def test_the_default_is_set_for_an_own_method_only(gateway_under_test):
    gateway = gateway_under_test
    mine, theirs = customer(gateway), customer(gateway)
    own = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=mine, idempotency_key=key("a"))
    other = gateway.attach_payment_method("pm_card_visa", stripe_customer_id=theirs, idempotency_key=key("b"))
    gateway.set_default_payment_method(mine, own.id, idempotency_key=key("d"))
    with pytest.raises(PaymentRequestRejectedError):
        gateway.set_default_payment_method(mine, other.id, idempotency_key=key("e"))
