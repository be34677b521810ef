"""`/v1/webhook_endpoints`: endpoints made through the API get their own signing secret
and only the event types they subscribed to; the test bench's endpoints get everything."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests.plugins.emulator import TEST_WEBHOOK_SECRET, WebhookReceiver, stripe_client_for
from tests.stripe_emulator.helpers import paid

pytest_plugins = ["tests.plugins.emulator"]


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    return stripe_client_for(stripe_emulator)


@pytest.fixture
def second_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def _types(receiver: WebhookReceiver, count: int) -> list[str]:
    return [json.loads(h.payload)["type"] for h in receiver.wait_for_acknowledged(count)]


def _subscribe(client: stripe.StripeClient, url: str, *events: str) -> stripe.WebhookEndpoint:
    return client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": list(events)})


def test_a_new_endpoint_has_stripes_shape_and_a_secret(client, webhook_receiver):
    endpoint = _subscribe(client, webhook_receiver.url, "payment_intent.succeeded")

    assert endpoint.id.startswith("we_")
    assert endpoint.object == "webhook_endpoint"
    assert endpoint.url == webhook_receiver.url
    assert endpoint.enabled_events == ["payment_intent.succeeded"]
    assert endpoint.status == "enabled"
    assert endpoint.secret.startswith("whsec_")
    assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)


def test_an_endpoint_receives_only_the_types_it_subscribed_to(client, webhook_receiver):
    endpoint = _subscribe(client, webhook_receiver.url, "payment_intent.succeeded")

    intent = paid(client)

    [hook] = webhook_receiver.wait_for_acknowledged(1)
    event = stripe.Webhook.construct_event(hook.payload, hook.signature, endpoint.secret)
    assert (event.type, event.data.object.id) == ("payment_intent.succeeded", intent.id)
    # deliveries go out in creation order: anything earlier would have come first
    assert len(webhook_receiver.received) == 1


def test_a_star_endpoint_receives_every_type(client, webhook_receiver):
    _subscribe(client, webhook_receiver.url, "*")

    paid(client)

    assert _types(webhook_receiver, 3) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_changing_enabled_events_changes_what_is_delivered(client, webhook_receiver):
    endpoint = _subscribe(client, webhook_receiver.url, "payment_intent.succeeded")

    updated = client.v1.webhook_endpoints.update(
        endpoint.id, params={"enabled_events": ["charge.succeeded"]}
    )
    paid(client)

    assert updated.enabled_events == ["charge.succeeded"]
    assert _types(webhook_receiver, 1) == ["charge.succeeded"]


def test_a_disabled_endpoint_receives_nothing_until_enabled(client, webhook_receiver):
    endpoint = _subscribe(client, webhook_receiver.url, "payment_intent.created")
    disabled = client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    paid(client)

    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    second = paid(client)

    assert disabled.status == "disabled"
    [hook] = webhook_receiver.wait_for_acknowledged(1)
    assert json.loads(hook.payload)["data"]["object"]["id"] == second.id
    assert len(webhook_receiver.received) == 1


def test_a_deleted_endpoint_is_gone_and_gets_no_more_events(client, webhook_receiver):
    endpoint = _subscribe(client, webhook_receiver.url, "*")

    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})

    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert raised.value.http_status == 404
    [event] = client.v1.events.list().data
    assert event.pending_webhooks == 0


def test_endpoints_are_listed_newest_first(client, webhook_receiver, second_receiver):
    first = _subscribe(client, webhook_receiver.url, "*")
    second = _subscribe(client, second_receiver.url, "charge.refunded")

    listed = client.v1.webhook_endpoints.list()

    assert [e.id for e in listed.data] == [second.id, first.id]


def test_the_test_bench_endpoint_still_receives_every_type(
    client, stripe_emulator, webhook_receiver, second_receiver
):
    httpx.post(
        f"{stripe_emulator.base_url}/_emulator/webhook_endpoints",
        json={"url": webhook_receiver.url, "secret": TEST_WEBHOOK_SECRET},
    ).raise_for_status()
    _subscribe(client, second_receiver.url, "payment_intent.succeeded")

    paid(client)

    assert _types(webhook_receiver, 3)[-1] == "payment_intent.succeeded"
    assert _types(second_receiver, 1) == ["payment_intent.succeeded"]


def test_a_test_bench_endpoint_may_subscribe_to_some_types_with_its_own_secret(
    client, stripe_emulator, webhook_receiver
):
    httpx.post(
        f"{stripe_emulator.base_url}/_emulator/webhook_endpoints",
        json={"url": webhook_receiver.url, "secret": TEST_WEBHOOK_SECRET,
              "enabled_events": ["payment_intent.succeeded"]},
    ).raise_for_status()

    intent = paid(client)

    [hook] = webhook_receiver.wait_for_acknowledged(1)
    event = stripe.Webhook.construct_event(hook.payload, hook.signature, TEST_WEBHOOK_SECRET)
    assert (event.type, event.data.object.id) == ("payment_intent.succeeded", intent.id)
    assert len(webhook_receiver.received) == 1


def test_a_test_bench_endpoint_with_enabled_events_not_a_list_is_refused(stripe_emulator):
    response = httpx.post(
        f"{stripe_emulator.base_url}/_emulator/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hook", "enabled_events": "payment_intent.succeeded"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "enabled_events"


def test_an_event_type_that_is_not_one_is_refused(client, webhook_receiver):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _subscribe(client, webhook_receiver.url, "payment_intent.succeeded", "not an event")

    assert (raised.value.code, raised.value.param) == (
        "parameter_invalid_string",
        "enabled_events[1]",
    )


def test_url_and_enabled_events_are_required(client, webhook_receiver):
    with pytest.raises(stripe.InvalidRequestError) as no_events:
        client.v1.webhook_endpoints.create(params={"url": webhook_receiver.url})
    with pytest.raises(stripe.InvalidRequestError) as bad_url:
        client.v1.webhook_endpoints.create(params={"url": "ftp://x", "enabled_events": ["*"]})

    assert (no_events.value.code, no_events.value.param) == ("parameter_missing", "enabled_events")
    assert bad_url.value.param == "url"


def test_a_replayed_create_returns_the_same_endpoint_and_secret(client, webhook_receiver):
    params = {"url": webhook_receiver.url, "enabled_events": ["*"]}
    options = {"idempotency_key": "endpoint:1"}

    first = client.v1.webhook_endpoints.create(params=params, options=options)
    again = client.v1.webhook_endpoints.create(params=params, options=options)

    assert (again.id, again.secret) == (first.id, first.secret)
    assert len(client.v1.webhook_endpoints.list().data) == 1
