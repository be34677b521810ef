"""Stripe failing under the real server (SQLite; the emulator in this process with short
delays): a 500, a rate limit, a reply lost after the effect, a reply that comes after the
client gave up — on creating the intent and on capturing it. After each the checkout is
completed (at once, or after the worker retries) and Stripe holds exactly one intent with
exactly one capture."""

from __future__ import annotations

import pytest

from tests.e2e.http_helpers import EmulatorControl, Shop, server_with_test_emulator

CREATE = ("POST", "/v1/payment_intents")
CAPTURE = ("POST", "/v1/payment_intents/{id}/capture")
CLIENT_TIMEOUT = 10.0  # the gateway's HTTP timeout (api.app._default_gateway)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    database = tmp_path_factory.mktemp("stripe_faults") / "e2e.db"
    with server_with_test_emulator(f"sqlite:///{database}") as (server, emulator):
        shop, control = Shop(server.base_url, timeout=60), EmulatorControl(emulator.base_url)
        yield shop, control
        shop.close()
        control.close()


def _charged_exactly_once(world, fault: str, where: tuple[str, str], times: int = 1,
                          delay_seconds: float | None = None) -> tuple[dict, list[str]]:
    """The first response to POST /checkouts and the checkout's history once completed."""
    shop, stripe_side = world
    sku = shop.product(stock=5)
    method, path = where
    stripe_side.fault(fault, method=method, path=path, times=times, delay_seconds=delay_seconds)

    response = shop.start_checkout(sku)

    assert response.status_code in (201, 202), response.text
    checkout_id = response.json()["checkout_id"]
    assert response.json()["status"] in ("completed", "processing"), response.text
    shop.wait_for_status(checkout_id, "completed", timeout=30)
    assert stripe_side.armed_faults() == []
    [intent] = stripe_side.intents_for(checkout_id)
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 1999)
    assert stripe_side.captures(intent["id"]) == 1
    assert shop.inventory(sku)["sold"] == 1
    return response.json(), shop.history(checkout_id)


@pytest.mark.parametrize("where", [CREATE, CAPTURE], ids=["create", "capture"])
@pytest.mark.parametrize("fault", ["error_500", "rate_limit", "drop_response"])
def test_a_stripe_fault_still_charges_exactly_once(world, fault, where):
    _charged_exactly_once(world, fault, where)


@pytest.mark.parametrize("where", [CREATE, CAPTURE], ids=["create", "capture"])
def test_a_reply_that_comes_after_the_client_gave_up_still_charges_exactly_once(world, where):
    _charged_exactly_once(world, "timeout", where, delay_seconds=CLIENT_TIMEOUT + 0.5)


@pytest.mark.parametrize(("where", "times"), [(CREATE, 4), (CAPTURE, 6)], ids=["create", "capture"])
def test_stripe_failing_past_the_request_retries_is_finished_by_the_worker(world, where, times):
    first, history = _charged_exactly_once(world, "error_500", where, times=times)

    assert first["status"] == "processing"
    assert "PaymentStepOutcomeUnknown" in history
    assert history.count("PaymentCaptured") == history.count("CheckoutCompleted") == 1
