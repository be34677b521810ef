"""Charges: the record of one attempt to move money for a PaymentIntent.

The product never creates charges itself; they appear as `latest_charge`, in
`charge.*` events, and their `amount_refunded` is how a refund shows on the payment.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.ids import new_id
from stripe_emulator.payment_methods import DECLINE_MESSAGES, TestCard
from stripe_emulator.state import Store

Json = dict[str, Any]


def new_charge(store: Store, intent: Json, card: TestCard, *, captured: bool) -> Json:
    """A successful (authorised, and maybe captured) charge for `intent`."""
    charge = _base(store, intent, card)
    charge.update(
        {
            "status": "succeeded",
            "paid": True,
            "captured": captured,
            "amount_captured": intent["amount"] if captured else 0,
            "outcome": _outcome("authorized", "approved_by_network", None),
        }
    )
    return store.add(charge)


def failed_charge(store: Store, intent: Json, card: TestCard) -> Json:
    """A declined charge: Stripe keeps it, and the intent points at it."""
    charge = _base(store, intent, card)
    charge.update(
        {
            "status": "failed",
            "paid": False,
            "captured": False,
            "amount_captured": 0,
            "failure_code": "card_declined",
            "failure_message": DECLINE_MESSAGES.get(
                card.decline_code or "", "Your card was declined."
            ),
            "outcome": _outcome("issuer_declined", "declined_by_network", card.decline_code),
        }
    )
    return store.add(charge)


def _base(store: Store, intent: Json, card: TestCard) -> Json:
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_refunded": 0,
        "balance_transaction": None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "created": store.now(),
        "currency": intent["currency"],
        "customer": intent.get("customer"),
        "description": intent.get("description"),
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "payment_intent": intent["id"],
        "payment_method": card.id,
        "payment_method_details": {"type": "card", "card": card.card_details()},
        "receipt_url": None,
        "refunded": False,
    }


def _outcome(kind: str, network_status: str, reason: str | None) -> Json:
    return {
        "type": kind,
        "network_status": network_status,
        "reason": reason,
        "risk_level": "normal",
        "seller_message": "Payment complete."
        if kind == "authorized"
        else "The bank declined the payment.",
    }


def refundable_amount(store: Store, charge: Json) -> int:
    """Captured minus every refund that is not failed or canceled (pending ones count:
    the money is already on its way back)."""
    taken = sum(
        refund["amount"]
        for refund in store.table("refund").values()
        if refund["charge"] == charge["id"] and refund["status"] not in ("failed", "canceled")
    )
    return charge["amount_captured"] - taken
