"""Stripe's test payment methods and what each one does when a payment is confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Outcome(Enum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"


@dataclass(frozen=True)
class TestCard:
    id: str
    brand: str
    last4: str
    outcome: Outcome
    decline_code: str | None = None
    refunds_fail: bool = False

    def as_object(self, created: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "payment_method",
            "type": "card",
            "card": self.card_details(),
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "customer": None,
            "created": created,
            "livemode": False,
            "metadata": {},
        }

    def card_details(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": 12,
            "exp_year": 2034,
            "funding": "credit",
            "country": "US",
        }


_CARDS = (
    TestCard("pm_card_visa", "visa", "4242", Outcome.SUCCEED),
    TestCard("pm_card_mastercard", "mastercard", "4444", Outcome.SUCCEED),
    TestCard("pm_card_chargeDeclined", "visa", "0002", Outcome.DECLINE, "generic_decline"),
    TestCard(
        "pm_card_chargeDeclinedInsufficientFunds",
        "visa",
        "9995",
        Outcome.DECLINE,
        "insufficient_funds",
    ),
    TestCard("pm_card_authenticationRequired", "visa", "3184", Outcome.AUTHENTICATE),
    TestCard("pm_card_refundFail", "visa", "5556", Outcome.SUCCEED, refunds_fail=True),
)
TEST_CARDS: dict[str, TestCard] = {card.id: card for card in _CARDS}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}
