"""`checkout-saga stripe setup-webhooks --url URL`: the webhook endpoint at Stripe (here the
emulator, through the real SDK) subscribed to exactly the types the product handles."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from adapters.settings import Settings
from adapters.stripe_webhook_setup import setup_webhook_endpoint
from checkout_saga.stripe_events import HANDLED_EVENT_TYPES
from cli import stripe_setup
from tests.plugins.emulator import TEST_API_KEY, stripe_client_for

URL = "https://shop.example.com/webhooks/stripe"


def test_a_new_endpoint_is_subscribed_to_exactly_the_handled_types_and_its_secret_returned(
        stripe_emulator):
    result = setup_webhook_endpoint(URL, api_key=TEST_API_KEY, api_base=stripe_emulator.base_url)

    assert result.created and result.secret and result.secret.startswith("whsec_")
    endpoint = stripe_client_for(stripe_emulator).v1.webhook_endpoints.retrieve(result.endpoint_id)
    assert endpoint.url == URL
    assert sorted(endpoint.enabled_events) == sorted(HANDLED_EVENT_TYPES)


def test_running_it_again_updates_the_same_endpoint_and_keeps_its_secret(stripe_emulator):
    client = stripe_client_for(stripe_emulator)
    first = client.v1.webhook_endpoints.create({"url": URL, "enabled_events": ["*"]})

    again = setup_webhook_endpoint(URL, api_key=TEST_API_KEY, api_base=stripe_emulator.base_url)

    assert (again.endpoint_id, again.created, again.secret) == (first.id, False, None)
    assert sorted(again.enabled_events) == sorted(HANDLED_EVENT_TYPES)
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [first.id]


def test_the_command_prints_the_secret(stripe_emulator, capsys):
    settings = replace(Settings(), stripe_secret_key=TEST_API_KEY,
                       stripe_api_base=stripe_emulator.base_url, log_format="console")

    assert stripe_setup.run(SimpleNamespace(url=URL), settings) == 0

    out = capsys.readouterr().out
    assert "created for https://shop.example.com/webhooks/stripe" in out
    assert "secret: whsec_" in out


def test_the_command_in_json_mode_prints_one_json_object(stripe_emulator, capsys):
    import json

    settings = replace(Settings(), stripe_secret_key=TEST_API_KEY,
                       stripe_api_base=stripe_emulator.base_url, log_format="json")

    assert stripe_setup.run(SimpleNamespace(url=URL), settings) == 0

    [line] = capsys.readouterr().out.splitlines()
    printed = json.loads(line)
    assert printed["created"] is True and printed["secret"].startswith("whsec_")
    assert sorted(printed["enabled_events"]) == sorted(HANDLED_EVENT_TYPES)


def test_the_command_without_a_stripe_key_says_which_variable_is_missing(capsys):
    assert stripe_setup.run(SimpleNamespace(url=URL), Settings()) == 2

    assert "STRIPE_SECRET_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("configured", [None, "whsec_configured_0123456789"])
def test_the_built_in_emulator_only_sends_the_handled_types(stripe_emulator, configured):
    secret = stripe_setup.register_with_emulator(stripe_emulator.base_url, URL, configured)

    assert secret == (configured or secret) and secret.startswith("whsec_")
    endpoints = stripe_client_for(stripe_emulator).v1.webhook_endpoints.list().data
    assert [sorted(e.enabled_events) for e in endpoints if e.url == URL] == [
        sorted(HANDLED_EVENT_TYPES)]
