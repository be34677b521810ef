"""Stripe's test cards (`pm_card_visa`, ...) and what each does when it is charged.

A test token is not a PaymentMethod of its own: each use in a payment, a SetupIntent or
an attach makes a new `pm_...` with the token's card. The card's `fingerprint` is the
same for every PaymentMethod made from one token, as Stripe's is for one card number,
and it is how the emulator knows which test card a stored PaymentMethod holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

Json = dict[str, Any]


class Outcome(Enum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # 3-D Secure on every payment, even a saved card's


@dataclass(frozen=True)
class TestCard:
    __test__ = False  # not a pytest test class, whatever its name

    id: str
    brand: str
    last4: str
    outcome: Outcome
    decline_code: str | None = None
    refunds_fail: bool = False
    exp_month: int = 12
    exp_year: int = 2034

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.id.encode()).hexdigest()[:16]

    def as_object(self, created: int, pm_id: str | None = None) -> Json:
        """The PaymentMethod object; `pm_id` None is the token's own read-only view."""
        return {
            "id": pm_id or self.id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": None,
                "name": None,
                "phone": None,
            },
            "card": self.card_details(),
            "created": created,
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }

    def card_details(self) -> Json:
        return {
            "brand": self.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": self.brand,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": self.fingerprint,
            "funding": "credit",
            "generated_from": None,
            "last4": self.last4,
            "networks": {"available": [self.brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }


_CARDS = (
    TestCard("pm_card_visa", "visa", "4242", Outcome.SUCCEED),
    TestCard("pm_card_mastercard", "mastercard", "4444", Outcome.SUCCEED, exp_month=6),
    TestCard("pm_card_amex", "amex", "8431", Outcome.SUCCEED, exp_month=3, exp_year=2033),
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
_BY_FINGERPRINT: dict[str, TestCard] = {card.fingerprint: card for card in _CARDS}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


def card_of(payment_method: Json) -> TestCard:
    """The test card a stored PaymentMethod was made from."""
    return _BY_FINGERPRINT[payment_method["card"]["fingerprint"]]
