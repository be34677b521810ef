"""Refunds of a captured PaymentIntent.

A refund may never exceed what was captured minus what is already refunded or on its
way back, and a charge under dispute cannot be refunded. Refunds made here directly
(as Stripe's dashboard makes them) and the product's own emit the same events:
`refund.created`, `charge.refunded` once the money is on its way back, and
`refund.updated` on every later change (status, metadata). Refunds of `pm_card_refundFail` payments are created `pending` and turn
`failed` a moment later, as Stripe's do when the card network rejects them; every
other refund succeeds at once.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.balance import refund_failure_transaction, refund_transaction
from stripe_emulator.card_catalog import card_of
from stripe_emulator.charges import refundable_amount
from stripe_emulator.errors import ApiError, invalid_request, unexpected_state
from stripe_emulator.forms import (
    Params,
    get_choice,
    get_int,
    get_metadata,
    get_str,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.ids import new_id
from stripe_emulator.state import AUTOMATIC, RequestContext, Store

Json = dict[str, Any]

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CREATE_PARAMS = (
    "payment_intent",
    "charge",
    "amount",
    "reason",
    "metadata",
    "expand",
    "instructions_email",
    "refund_application_fee",
    "reverse_transfer",
)
UPDATE_PARAMS = ("metadata", "expand")


def create(store: Store, ctx: RequestContext, params: Params) -> Json:
    reject_unknown(params, CREATE_PARAMS)
    reason = get_choice(params, "reason", REASONS)
    amount = get_int(params, "amount", minimum=1)
    metadata = get_metadata(params) or {}
    intent, charge = _payment_of(store, params)
    remaining = refundable_amount(store, charge)
    if remaining <= 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise invalid_request(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    fails = card_of(store.get("payment_method", charge["payment_method"])).refunds_fail
    refund = store.add(_new_refund(store, intent, charge, amount, reason, metadata, fails))
    refund["balance_transaction"] = refund_transaction(store, refund)
    store.emit("refund.created", refund, ctx)
    if fails:
        store.schedule(store.config.refund_failure_delay, lambda: _fail(store, refund["id"]))
    else:
        _apply_to_charge(store, ctx, charge, amount)
    return refund


def update(store: Store, ctx: RequestContext, refund_id: str, params: Params) -> Json:
    reject_unknown(params, UPDATE_PARAMS)
    refund = store.get("refund", refund_id, "refund")
    previous = refund["metadata"]
    refund["metadata"] = merge_metadata(previous, get_metadata(params), replace=False)
    if refund["metadata"] != previous:
        store.emit("refund.updated", refund, ctx, previous_attributes={"metadata": previous})
    return refund


def _payment_of(store: Store, params: Params) -> tuple[Json, Json]:
    intent_id = get_str(params, "payment_intent")
    charge_id = get_str(params, "charge")
    if intent_id is None and charge_id is None:
        raise ApiError(
            400,
            "invalid_request_error",
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
            param="payment_intent",
            replayable=False,
        )
    if intent_id is None:
        charge = store.get("charge", str(charge_id), "charge")
        intent_id = charge["payment_intent"]
    intent = store.get("payment_intent", str(intent_id), "payment_intent")
    if intent["status"] != "succeeded":
        error = unexpected_state(intent, "refund", ("succeeded",))
        error.message = (
            f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund."
        )
        raise error
    charge = store.get("charge", intent["latest_charge"], "charge")
    _refuse_if_disputed(store, charge)
    return intent, charge


def _refuse_if_disputed(store: Store, charge: Json) -> None:
    """An open or lost dispute has taken the money back already; a won one has not."""
    for dispute in store.table("dispute").values():
        if (
            dispute["charge"] == charge["id"]
            and dispute["status"] != "won"
            and not dispute["is_charge_refundable"]
        ):
            raise invalid_request(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )


def _new_refund(
    store: Store,
    intent: Json,
    charge: Json,
    amount: int,
    reason: str | None,
    metadata: dict[str, str],
    fails: bool,
) -> Json:
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": store.now(),
        "currency": charge["currency"],
        "destination_details": {
            "type": "card",
            "card": {"type": "refund", "reference_status": "pending"},
        },
        "failure_reason": None,
        "metadata": metadata,
        "payment_intent": intent["id"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "pending" if fails else "succeeded",
        "transfer_reversal": None,
    }


def _apply_to_charge(store: Store, ctx: RequestContext, charge: Json, amount: int) -> None:
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    store.emit("charge.refunded", charge, ctx, previous_attributes=previous)


def _fail(store: Store, refund_id: str) -> None:
    refund = store.table("refund").get(refund_id)
    if refund is None or refund["status"] != "pending":
        return
    refund.update(
        status="failed",
        failure_reason="expired_or_canceled_card",
        failure_balance_transaction=refund_failure_transaction(store, refund),
    )
    store.emit("refund.updated", refund, AUTOMATIC, previous_attributes={"status": "pending"})
    store.emit("refund.failed", refund, AUTOMATIC)
