"""StripePaymentGateway against localstripe: the contract scenarios it supports.

localstripe has no idempotency, no search, no listing of intents or refunds by date, no
``return_url``, no confirm with a new payment method, and no decline details; those
scenarios run against the built-in emulator only (test_stripe_gateway_emulator.py).
"""

from __future__ import annotations

import httpx
import pytest

from .stripe_contract_scenarios import ContractServer, scenarios_for

# Test card numbers localstripe recognises (its resources.PaymentMethod).
_CARD_NUMBERS = {
    "visa": "4242424242424242",
    "declined": "4000000000000341",
    "authentication_required": "4000002500003155",
}
FEATURES: frozenset[str] = frozenset({"webhooks", "events"})


@pytest.fixture(scope="module")
def localstripe(localstripe_server) -> ContractServer:
    def payment_method(kind: str) -> str:
        card = {"number": _CARD_NUMBERS[kind], "exp_month": 12, "exp_year": 2034, "cvc": "123"}
        response = httpx.post(
            f"{localstripe_server.base_url}/v1/payment_methods",
            json={"type": "card", "card": card},
            headers={"Authorization": f"Bearer {localstripe_server.api_key}"},
        )
        response.raise_for_status()
        return response.json()["id"]

    def register_webhook(url: str, secret: str) -> None:
        localstripe_server.register_webhook(url, secret, events=["payment_intent.succeeded"])

    return ContractServer(
        name="localstripe",
        api_base=localstripe_server.base_url,
        api_key=localstripe_server.api_key,
        payment_method=payment_method,
        register_webhook=register_webhook,
        features=FEATURES,
    )


@pytest.mark.parametrize("scenario", scenarios_for(FEATURES))
def test_the_gateway_honours_its_contract_against_localstripe(localstripe, scenario):
    scenario(localstripe)
