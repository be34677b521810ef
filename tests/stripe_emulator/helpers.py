"""Small steps the v2 emulator tests share: the test bench's control routes and the
usual ways to get a customer, a saved card or a paid charge."""

from __future__ import annotations

from typing import Any

import httpx
import stripe

from stripe_emulator import EmulatorServer


def control(emulator: EmulatorServer, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST a `/_emulator/...` control route; its JSON answer."""
    response = httpx.post(f"{emulator.base_url}/_emulator/{path}", json=body or {}, timeout=5)
    response.raise_for_status()
    return response.json()


def control_error(emulator: EmulatorServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=5)


def new_customer(client: stripe.StripeClient, **params: Any) -> stripe.Customer:
    return client.v1.customers.create(params={"email": "ada@example.com", **params})


def saved_card(
    client: stripe.StripeClient, customer_id: str, token: str = "pm_card_visa"
) -> stripe.PaymentMethod:
    return client.v1.payment_methods.attach(token, params={"customer": customer_id})


def paid(
    client: stripe.StripeClient, amount: int = 2000, card: str = "pm_card_visa", **params: Any
) -> stripe.PaymentIntent:
    """A captured (automatic capture) payment."""
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": card,
            "confirm": True,
            **params,
        }
    )
