"""Disputes: opened and closed through control routes, as a cardholder's bank would do
it, so the product's chargeback handling can be exercised; the merchant's side (update
with evidence, accept by closing) goes through `/v1/disputes`.

    needs_response -> under_review (evidence submitted) -> won | lost
    needs_response -> lost (the merchant accepts it)

Opening withdraws the disputed amount (`charge.dispute.created`, then
`charge.dispute.funds_withdrawn`); a won dispute reinstates it
(`charge.dispute.funds_reinstated`) before `charge.dispute.closed`.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.balance import dispute_transaction
from stripe_emulator.errors import invalid_request, parameter_invalid, unexpected_state
from stripe_emulator.forms import (
    Params,
    get_bool,
    get_choice,
    get_int,
    get_metadata,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.ids import new_id
from stripe_emulator.state import AUTOMATIC, RequestContext, Store

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
_NETWORK_CODES = {"fraudulent": "10.4", "product_not_received": "13.1", "duplicate": "12.6.1"}


def open_dispute(store: Store, intent_id: str, params: Params) -> Json:
    """The dispute of a PaymentIntent's latest charge."""
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] != "succeeded":
        raise unexpected_state(intent, "dispute", ("succeeded",))
    return open_on_charge(store, intent["latest_charge"], params)


def open_on_charge(store: Store, charge_id: str, params: Params) -> Json:
    charge = store.get("charge", charge_id, "charge")
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise invalid_request(
            f"Charge {charge_id} has not been captured, so it cannot be disputed.", param="charge"
        )
    if any(d["charge"] == charge_id for d in store.table("dispute").values()):
        raise invalid_request(f"Charge {charge_id} has already been disputed.", param="charge")
    amount = get_int(params, "amount", minimum=1) or charge["amount_captured"]
    if amount > charge["amount_captured"]:
        raise invalid_request("The dispute amount exceeds the captured amount.", param="amount")
    reason = get_choice(params, "reason", REASONS) or "fraudulent"
    dispute = store.add(_new_dispute(store, charge, amount, reason))
    dispute["balance_transactions"].append(dispute_transaction(store, dispute, reinstated=False))
    charge["disputed"] = True
    store.emit("charge.dispute.created", dispute, AUTOMATIC)
    store.emit("charge.dispute.funds_withdrawn", dispute, AUTOMATIC)
    return dispute


def _new_dispute(store: Store, charge: Json, amount: int, reason: str) -> Json:
    now = store.now()
    card = charge["payment_method_details"]["card"]
    return {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {},
        "evidence_details": {
            "due_by": now + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": card["brand"],
                "case_type": "chargeback",
                "network_reason_code": _NETWORK_CODES.get(reason, "4853"),
            },
        },
        "reason": reason,
        "status": "needs_response",
    }


def close_dispute(store: Store, dispute_id: str, params: Params) -> Json:
    """The bank decides: `{"outcome": "won"|"lost"}` (`status` is the older spelling)."""
    outcome = get_choice(params, "outcome", CLOSED_STATUSES)
    status = outcome or get_choice(params, "status", CLOSED_STATUSES) or "lost"
    return _close(store, AUTOMATIC, store.get("dispute", dispute_id, "dispute"), status)


def _close(store: Store, ctx: RequestContext, dispute: Json, status: str) -> Json:
    if dispute["status"] in CLOSED_STATUSES:
        raise invalid_request(f"Dispute {dispute['id']} is already closed.")
    previous = dispute["status"]
    dispute["status"] = status
    if status == "won":
        dispute["balance_transactions"].append(dispute_transaction(store, dispute, reinstated=True))
        store.emit("charge.dispute.funds_reinstated", dispute, ctx)
    store.emit("charge.dispute.closed", dispute, ctx, previous_attributes={"status": previous})
    return dispute


def accept(store: Store, ctx: RequestContext, dispute_id: str, params: Params) -> Json:
    """`POST /v1/disputes/{id}/close`: the merchant concedes; the dispute is lost."""
    reject_unknown(params, ("expand",))
    return _close(store, ctx, store.get("dispute", dispute_id, "dispute"), "lost")


def update(store: Store, ctx: RequestContext, dispute_id: str, params: Params) -> Json:
    """Evidence and metadata; `submit=true` (the default) sends it: under_review."""
    reject_unknown(params, ("evidence", "metadata", "submit", "expand"))
    dispute = store.get("dispute", dispute_id, "dispute")
    if dispute["status"] in CLOSED_STATUSES:
        raise invalid_request(
            f"This dispute is already closed (status {dispute['status']}); it cannot be updated."
        )
    evidence = params.get("evidence")
    if evidence is not None and not isinstance(evidence, dict):
        raise parameter_invalid("evidence", "Invalid object: evidence must be a hash.")
    previous: Json = {"status": dispute["status"], "metadata": dispute["metadata"]}
    dispute["metadata"] = merge_metadata(dispute["metadata"], get_metadata(params), replace=False)
    if evidence:
        previous["evidence"] = dict(dispute["evidence"])
        dispute["evidence"] = {**dispute["evidence"], **evidence}
        dispute["evidence_details"]["has_evidence"] = True
    if get_bool(params, "submit") is not False and evidence:
        dispute["status"] = "under_review"
        dispute["evidence_details"]["submission_count"] += 1
    changed = {key: value for key, value in previous.items() if dispute[key] != value}
    if changed:
        store.emit("charge.dispute.updated", dispute, ctx, previous_attributes=changed)
    return dispute
