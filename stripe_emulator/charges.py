"""Charges: the record of one attempt to move money for a PaymentIntent.

The product never creates charges itself; they appear as `latest_charge`, in
`charge.*` events, and their `amount_refunded` is how a refund shows on the payment.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.balance import charge_transaction
from stripe_emulator.card_catalog import DECLINE_MESSAGES
from stripe_emulator.ids import new_id
from stripe_emulator.state import Store

Json = dict[str, Any]


def new_charge(store: Store, intent: Json, method: Json, *, captured: bool) -> Json:
    """A successful (authorised, and maybe captured) charge for `intent`, paid with the
    PaymentMethod `method`; a captured one has its balance transaction."""
    charge = _base(store, intent, method)
    charge.update(
        {
            "status": "succeeded",
            "paid": True,
            "captured": captured,
            "amount_captured": intent["amount"] if captured else 0,
            "outcome": _outcome("authorized", "approved_by_network", None),
        }
    )
    if captured:
        charge["balance_transaction"] = charge_transaction(store, charge, intent["amount"])
    return store.add(charge)


def capture_charge(store: Store, charge: Json, amount: int) -> None:
    charge.update(
        captured=True,
        amount_captured=amount,
        balance_transaction=charge_transaction(store, charge, amount),
    )


def failed_charge(store: Store, intent: Json, method: Json, decline_code: str | None) -> Json:
    """A declined charge: Stripe keeps it, and the intent points at it."""
    charge = _base(store, intent, method)
    code = "authentication_required" if decline_code == "authentication_required" else None
    charge.update(
        {
            "status": "failed",
            "paid": False,
            "captured": False,
            "amount_captured": 0,
            "failure_code": code or "card_declined",
            "failure_message": DECLINE_MESSAGES.get(decline_code or "", "Your card was declined."),
            "outcome": _outcome("issuer_declined", "declined_by_network", decline_code),
        }
    )
    return store.add(charge)


def _base(store: Store, intent: Json, method: Json) -> Json:
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_refunded": 0,
        "balance_transaction": None,
        "billing_details": method["billing_details"],
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
        "payment_method": method["id"],
        "payment_method_details": {"type": "card", "card": dict(method["card"])},
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
