"""The pure rules of the notifications outbox: which events cause what, identities derived
from the causing event, the retry schedule, and invariant 10's check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from checkout_saga.checkout import CheckoutState
from checkout_saga.notifications import (
    GIVE_UP_AFTER,
    WEBHOOK_EVENT_TYPES,
    WEBHOOK_TYPE_OF_EVENT,
    MailIntent,
    OutboxRow,
    WebhookIntent,
    check_notifications,
    gave_up_alert,
    gives_up,
    notifications_for,
    retry_delay,
)
from checkout_saga.order import OrderState
from events import checkout as checkout_events
from events import order as order_events
from events.base import LineItem

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ORDER_STREAM = uuid4()


def order_state(**changes) -> OrderState:
    return OrderState(id=ORDER_STREAM, version=2, created_at=NOW, updated_at=NOW, order_id=f"ord_{ORDER_STREAM.hex}",
                      order_number="ORD-2026-ABC", checkout_id=f"chk_{uuid4().hex}",
                      customer_id="cus_1", currency="usd",
                      items=(LineItem(sku="MUG", quantity=1, unit_amount=1250),),
                      amount_total=1250, status="paid", amount_captured=1250, **changes)


def checkout_state(email: str | None = "ada@example.com") -> CheckoutState:
    return CheckoutState(id=uuid4(), version=9, created_at=NOW, updated_at=NOW,
                         checkout_session_id="cs_1", request_fingerprint="f",
                         customer_id="cus_1", customer_email=email, currency="usd", items=(),
                         amount_subtotal=1250, amount_tax=0, amount_shipping=0, amount_total=1250,
                         payment_method="pm_card_visa", return_url=None, expires_at=NOW,
                         client_secret="pi_1_secret_abc")


def paid(version: int = 2) -> order_events.OrderPaid:
    return order_events.OrderPaid(originator_id=ORDER_STREAM, originator_version=version,
                                  occurred_at=NOW, payment_intent_id="pi_1", amount_captured=1250,
                                  charge_id="ch_1")


def test_an_order_paid_asks_for_one_confirmation_to_the_customer():
    [mail] = notifications_for(paid(), order=order_state(), checkout=checkout_state(),
                               admin_email="ops@example.com", endpoints={})

    assert isinstance(mail, MailIntent)
    assert (mail.template, mail.to) == ("order_confirmation", "ada@example.com")
    assert mail.context["order"]["order_number"] == "ORD-2026-ABC"


def test_the_same_causing_event_always_gives_the_same_ids():
    first = notifications_for(paid(), order=order_state(), checkout=checkout_state(),
                              admin_email=None, endpoints={"erp": ("order.paid",)})
    again = notifications_for(paid(), order=order_state(), checkout=checkout_state(),
                              admin_email=None, endpoints={"erp": ("order.paid",)})
    other = notifications_for(paid(version=3), order=order_state(), checkout=checkout_state(),
                              admin_email=None, endpoints={"erp": ("order.paid",)})

    assert [i.id for i in first] == [i.id for i in again]
    assert not {i.id for i in first} & {i.id for i in other}


def test_a_webhook_event_id_is_shared_by_every_endpoint_but_each_delivery_is_its_own():
    hooks = notifications_for(paid(), order=order_state(), checkout=checkout_state(email=None),
                              admin_email=None,
                              endpoints={"erp": ("order.paid",), "crm": ("order.paid",),
                                         "bi": ("order.refunded",)})

    assert all(isinstance(h, WebhookIntent) for h in hooks)
    assert sorted(h.endpoint for h in hooks) == ["crm", "erp"]
    assert len({h.event_id for h in hooks}) == 1 and len({h.id for h in hooks}) == 2


def test_no_customer_address_means_no_customer_mail_and_no_admin_address_no_alert():
    dispute = order_events.DisputeOpened(originator_id=ORDER_STREAM, originator_version=5,
                                         occurred_at=NOW, dispute_id="dp_1", amount=1250,
                                         reason="fraudulent")
    assert notifications_for(paid(), order=order_state(), checkout=checkout_state(email=None),
                             admin_email="ops@example.com", endpoints={}) == []
    assert notifications_for(dispute, order=order_state(), checkout=checkout_state(),
                             admin_email=None, endpoints={}) == []
    [alert] = notifications_for(dispute, order=order_state(), checkout=checkout_state(),
                                admin_email="ops@example.com", endpoints={})
    assert (alert.template, alert.to) == ("dispute_opened_alert", "ops@example.com")


def test_a_checkout_needing_attention_alerts_the_operator():
    event = checkout_events.CheckoutNeedsAttention(originator_id=uuid4(), originator_version=7,
                                                   occurred_at=NOW, step="cancel", reason="stuck")
    [alert] = notifications_for(event, order=None, checkout=checkout_state(),
                                admin_email="ops@example.com", endpoints={})
    assert alert.template == "checkout_needs_attention_alert"
    assert alert.context["checkout"]["reason"] == "stuck"


def test_nothing_secret_is_in_what_a_notification_carries():
    intents = notifications_for(paid(), order=order_state(), checkout=checkout_state(),
                                admin_email="ops@example.com", endpoints={"erp": WEBHOOK_EVENT_TYPES})
    text = repr([i.context if isinstance(i, MailIntent) else i.data for i in intents])
    assert "secret" not in text and "pm_card" not in text


def test_every_mapped_webhook_type_is_one_the_contract_lists():
    assert set(WEBHOOK_TYPE_OF_EVENT.values()) <= set(WEBHOOK_EVENT_TYPES)


def test_retries_start_within_ten_seconds_and_are_never_more_than_an_hour_apart():
    assert retry_delay(1, 0.0) >= timedelta(seconds=2)
    assert retry_delay(1, 0.999) <= timedelta(seconds=10)
    assert retry_delay(2, 0.5) > retry_delay(1, 0.5)
    assert all(retry_delay(n, 0.999) <= timedelta(hours=1) for n in range(1, 200))
    assert retry_delay(50, 0.0) >= timedelta(minutes=30)


def test_an_item_is_given_up_only_after_three_days():
    assert not gives_up(NOW, NOW + GIVE_UP_AFTER - timedelta(seconds=1))
    assert gives_up(NOW, NOW + timedelta(days=3))


def test_a_given_up_item_alerts_once_and_only_when_there_is_an_admin_address():
    assert gave_up_alert("ntf_1", "email", "ada@example.com", "451", None) is None
    first = gave_up_alert("ntf_1", "email", "ada@example.com", "451", "ops@example.com")
    assert first == gave_up_alert("ntf_1", "email", "ada@example.com", "451", "ops@example.com")


def test_invariant_ten_wants_every_expected_mail_recorded_and_every_item_sent_or_pending():
    [mail] = notifications_for(paid(), order=order_state(), checkout=checkout_state(),
                               admin_email=None, endpoints={})
    assert check_notifications([mail], [OutboxRow(id=mail.id, cause=mail.cause, status="sent")]) == []
    assert check_notifications([mail], [OutboxRow(id=mail.id, cause=mail.cause, status="pending")]) == []
    assert check_notifications([mail], []) != []
    assert check_notifications([], [OutboxRow(id="ntf_x", cause="c", status="failed")]) == ["ntf_x: failed"]


def test_a_shipped_or_delivered_order_is_an_outbound_webhook_and_other_fulfilment_moves_are_not():
    from uuid import uuid4

    from checkout_saga.notifications import webhook_type_of
    from events.order import FulfillmentUpdated

    def moved(status):
        return FulfillmentUpdated(originator_id=uuid4(), originator_version=3,
                                  occurred_at=datetime(2026, 11, 22, tzinfo=UTC), status=status)

    assert webhook_type_of(moved("shipped")) == "order.shipped"
    assert webhook_type_of(moved("delivered")) == "order.delivered"
    assert webhook_type_of(moved("processing")) is None
