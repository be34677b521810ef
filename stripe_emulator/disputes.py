"""Disputes: opened and closed only through control routes, as a cardholder's bank
would do it, so the product's chargeback handling can be exercised."""

from __future__ import annotations

from typing import Any

from stripe_emulator.errors import invalid_request, unexpected_state
from stripe_emulator.forms import Params, get_choice, get_int
from stripe_emulator.ids import new_id
from stripe_emulator.state import AUTOMATIC, Store

Json = dict[str, Any]

REASONS = (
    "fraudulent",
    "duplicate",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "credit_not_processed",
    "general",
    "unrecognized",
)
CLOSED_STATUSES = ("won", "lost")


def open_dispute(store: Store, intent_id: str, params: Params) -> Json:
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] != "succeeded":
        raise unexpected_state(intent, "dispute", ("succeeded",))
    charge = store.get("charge", intent["latest_charge"], "charge")
    amount = get_int(params, "amount", minimum=1) or charge["amount_captured"]
    if amount > charge["amount_captured"]:
        raise invalid_request("The dispute amount exceeds the captured amount.", param="amount")
    dispute = store.add(
        {
            "id": new_id("dp"),
            "object": "dispute",
            "amount": amount,
            "balance_transactions": [],
            "charge": charge["id"],
            "created": store.now(),
            "currency": charge["currency"],
            "evidence": {},
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": intent["id"],
            "reason": get_choice(params, "reason", REASONS) or "fraudulent",
            "status": "needs_response",
        }
    )
    charge["disputed"] = True
    store.emit("charge.dispute.created", dispute, AUTOMATIC)
    return dispute


def close_dispute(store: Store, dispute_id: str, params: Params) -> Json:
    dispute = store.get("dispute", dispute_id, "dispute")
    status = get_choice(params, "status", CLOSED_STATUSES) or "lost"
    if dispute["status"] in CLOSED_STATUSES:
        raise invalid_request(f"Dispute {dispute_id} is already closed.")
    previous = dispute["status"]
    dispute["status"] = status
    store.emit(
        "charge.dispute.closed", dispute, AUTOMATIC, previous_attributes={"status": previous}
    )
    return dispute
