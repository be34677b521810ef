"""PaymentIntent operations and Stripe's status machine.

    requires_payment_method -> requires_confirmation -> [requires_action] ->
        requires_capture (capture_method=manual) | succeeded (automatic)
    a decline or failed authentication -> requires_payment_method (with last_payment_error)
    cancel from any state but succeeded/canceled -> canceled

Every call runs under the store lock; every state change emits its event.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.charges import failed_charge, new_charge
from stripe_emulator.errors import ApiError, unexpected_state
from stripe_emulator.forms import (
    Params,
    get_bool,
    get_choice,
    get_int,
    get_metadata,
    get_str,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.intent_objects import (
    CANCEL_PARAMS,
    CANCELLATION_REASONS,
    CAPTURE_METHODS,
    CAPTURE_PARAMS,
    CONFIRM_PARAMS,
    CREATE_PARAMS,
    UPDATE_PARAMS,
    new_intent,
    read_currency,
    read_method_types,
    read_payment_method,
    redirect_action,
)
from stripe_emulator.payment_methods import DECLINE_MESSAGES, TEST_CARDS, Outcome, TestCard
from stripe_emulator.state import RequestContext, Store

Json = dict[str, Any]

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
UPDATABLE = CONFIRMABLE
CAPTURABLE = ("requires_capture",)
CANCELABLE = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
    "processing",
)


def create(store: Store, ctx: RequestContext, params: Params) -> Json:
    reject_unknown(params, CREATE_PARAMS)
    intent = new_intent(store, params)
    card = read_payment_method(params)
    confirm_now = get_bool(params, "confirm") or False
    store.add(intent)
    if card is not None:
        intent["payment_method"] = card.id
        intent["status"] = "requires_confirmation"
    store.emit("payment_intent.created", intent, ctx)
    if confirm_now:
        _confirm(store, ctx, intent, get_str(params, "return_url"))
    return intent


def update(store: Store, ctx: RequestContext, intent_id: str, params: Params) -> Json:
    reject_unknown(params, UPDATE_PARAMS)
    intent = store.get("payment_intent", intent_id, "intent")
    changes_payment = {"amount", "currency", "payment_method", "capture_method"} & params.keys()
    if changes_payment and intent["status"] not in UPDATABLE:
        raise unexpected_state(intent, "update", UPDATABLE)
    card = read_payment_method(params)
    amount = get_int(params, "amount", minimum=1)
    for name, value in (
        ("amount", amount),
        ("currency", read_currency(params)),
        ("capture_method", get_choice(params, "capture_method", CAPTURE_METHODS)),
        ("payment_method_types", read_method_types(params)),
    ):
        if value is not None:
            intent[name] = value
    for name in (
        "description",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "customer",
    ):
        if name in params:
            intent[name] = get_str(params, name) or None
    intent["metadata"] = merge_metadata(intent["metadata"], get_metadata(params), replace=False)
    if card is not None:
        intent["payment_method"] = card.id
    if changes_payment and intent["payment_method"] and intent["status"] != "requires_confirmation":
        intent.update(status="requires_confirmation", next_action=None)
    return intent


def confirm(store: Store, ctx: RequestContext, intent_id: str, params: Params) -> Json:
    reject_unknown(params, CONFIRM_PARAMS)
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state(intent, "confirm", CONFIRMABLE)
    card = read_payment_method(params)
    if card is not None:
        intent["payment_method"] = card.id
    capture_method = get_choice(params, "capture_method", CAPTURE_METHODS)
    if capture_method is not None:
        intent["capture_method"] = capture_method
    _confirm(store, ctx, intent, get_str(params, "return_url"))
    return intent


def _confirm(store: Store, ctx: RequestContext, intent: Json, return_url: str | None) -> None:
    if intent["payment_method"] is None:
        raise ApiError(
            400,
            "invalid_request_error",
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Update the PaymentIntent with a payment method and then confirm it again.",
            code="payment_intent_unexpected_state",
            param="payment_method",
            payment_intent=intent,
        )
    card = TEST_CARDS[intent["payment_method"]]
    intent.update(last_payment_error=None, next_action=None)
    if card.outcome is Outcome.AUTHENTICATE:
        intent["status"] = "requires_action"
        intent["next_action"] = redirect_action(ctx.base_url, intent, return_url)
        store.emit("payment_intent.requires_action", intent, ctx)
    elif card.outcome is Outcome.DECLINE:
        _decline(store, ctx, intent, card)
    else:
        _authorize(store, ctx, intent, card)


def _authorize(store: Store, ctx: RequestContext, intent: Json, card: TestCard) -> None:
    manual = intent["capture_method"] == "manual"
    charge = new_charge(store, intent, card, captured=not manual)
    intent.update(latest_charge=charge["id"], next_action=None, last_payment_error=None)
    if manual:
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
    else:
        intent.update(status="succeeded", amount_received=intent["amount"])
    store.emit("charge.succeeded", charge, ctx)
    kind = "amount_capturable_updated" if manual else "succeeded"
    store.emit(f"payment_intent.{kind}", intent, ctx)


def _decline(store: Store, ctx: RequestContext, intent: Json, card: TestCard) -> None:
    charge = failed_charge(store, intent, card)
    message = DECLINE_MESSAGES.get(card.decline_code or "", "Your card was declined.")
    error: Json = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": card.decline_code,
        "message": message,
        "charge": charge["id"],
        "payment_method": card.as_object(charge["created"]),
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
    }
    intent.update(
        status="requires_payment_method",
        payment_method=None,
        latest_charge=charge["id"],
        last_payment_error=error,
    )
    store.emit("charge.failed", charge, ctx)
    store.emit("payment_intent.payment_failed", intent, ctx)
    raise ApiError(
        402,
        "card_error",
        message,
        code="card_declined",
        decline_code=card.decline_code,
        payment_intent=intent,
        extra={"charge": charge["id"], "payment_method": error["payment_method"]},
    )


def authenticate(store: Store, ctx: RequestContext, intent_id: str, succeed: bool) -> Json:
    """The customer finished (or failed) 3-D Secure on the redirect page."""
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] != "requires_action":
        raise unexpected_state(intent, "authenticate", ("requires_action",))
    card = TEST_CARDS[intent["payment_method"]]
    if succeed:
        _authorize(store, ctx, intent, card)
        return intent
    intent.update(
        status="requires_payment_method",
        payment_method=None,
        next_action=None,
        last_payment_error={
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide "
            "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
            "payment_method": card.as_object(store.now()),
        },
    )
    store.emit("payment_intent.payment_failed", intent, ctx)
    return intent


def capture(store: Store, ctx: RequestContext, intent_id: str, params: Params) -> Json:
    """Capture all or part (`amount_to_capture`) of the authorisation; the rest is
    released (`amount_capturable` drops to 0). The charge's `amount_refunded` counts
    refunds only, not the released remainder."""
    reject_unknown(params, CAPTURE_PARAMS)
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] not in CAPTURABLE:
        raise unexpected_state(intent, "capture", CAPTURABLE)
    amount = get_int(params, "amount_to_capture", minimum=1)
    capturable = intent["amount_capturable"]
    if amount is None:
        amount = capturable
    if amount > capturable:
        raise ApiError(
            400,
            "invalid_request_error",
            f"The amount to capture ({amount}) is greater than the amount capturable ({capturable}).",
            code="amount_too_large",
            param="amount_to_capture",
            payment_intent=intent,
        )
    intent["metadata"] = merge_metadata(intent["metadata"], get_metadata(params), replace=False)
    charge = store.get("charge", intent["latest_charge"])
    charge.update(captured=True, amount_captured=amount)
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
    store.emit("charge.captured", charge, ctx)
    store.emit("payment_intent.succeeded", intent, ctx)
    return intent


def cancel(store: Store, ctx: RequestContext, intent_id: str, params: Params) -> Json:
    reject_unknown(params, CANCEL_PARAMS)
    reason = get_choice(params, "cancellation_reason", CANCELLATION_REASONS)
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] not in CANCELABLE:
        raise unexpected_state(intent, "cancel", CANCELABLE)
    intent.update(
        status="canceled",
        cancellation_reason=reason,
        canceled_at=store.now(),
        amount_capturable=0,
        next_action=None,
    )
    store.emit("payment_intent.canceled", intent, ctx)
    return intent
