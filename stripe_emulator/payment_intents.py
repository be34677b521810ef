"""PaymentIntent operations and Stripe's status machine.

    requires_payment_method -> requires_confirmation -> [requires_action] ->
        requires_capture (capture_method=manual) | succeeded (automatic)
    a decline or failed authentication -> requires_payment_method (with last_payment_error)
    off-session (`off_session=true`), a card that needs 3-D Secure is declined instead
    cancel from any state but succeeded/canceled -> canceled

Every call runs under the store lock; every state change emits its event.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.charges import capture_charge
from stripe_emulator.errors import ApiError, parameter_invalid, unexpected_state
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
    UPDATED_FIELDS,
    new_intent,
    read_currency,
    read_customer,
    read_future_usage,
    read_method_types,
    read_off_session,
    read_payment_method,
)
from stripe_emulator.payment_outcomes import authenticate, confirm_intent
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
    confirm_now = get_bool(params, "confirm") or False
    off_session = read_off_session(params)
    if off_session is not None and not confirm_now:
        raise parameter_invalid(
            "off_session",
            "You can only pass `off_session` when `confirm` is true.",
            code="parameter_invalid_boolean",
        )
    method = read_payment_method(store, params, intent["customer"])
    store.add(intent)
    if method is not None:
        intent["payment_method"] = method["id"]
        intent["status"] = "requires_confirmation"
    store.emit("payment_intent.created", intent, ctx)
    if confirm_now:
        return_url = get_str(params, "return_url")
        confirm_intent(store, ctx, intent, return_url, off_session=bool(off_session))
    return intent


def update(store: Store, ctx: RequestContext, intent_id: str, params: Params) -> Json:
    reject_unknown(params, UPDATE_PARAMS)
    intent = store.get("payment_intent", intent_id, "intent")
    changes_payment = {"amount", "currency", "payment_method", "capture_method"} & params.keys()
    if changes_payment and intent["status"] not in UPDATABLE:
        raise unexpected_state(intent, "update", UPDATABLE)
    customer = read_customer(store, params) if "customer" in params else intent["customer"]
    method = read_payment_method(store, params, customer)
    for name, value in (
        ("amount", get_int(params, "amount", minimum=1)),
        ("currency", read_currency(params)),
        ("capture_method", get_choice(params, "capture_method", CAPTURE_METHODS)),
        ("payment_method_types", read_method_types(params)),
    ):
        if value is not None:
            intent[name] = value
    for name in UPDATED_FIELDS:
        if name in params:
            intent[name] = get_str(params, name) or None
    if "setup_future_usage" in params:
        intent["setup_future_usage"] = read_future_usage(params)
    intent["customer"] = customer
    intent["metadata"] = merge_metadata(intent["metadata"], get_metadata(params), replace=False)
    if method is not None:
        intent["payment_method"] = method["id"]
    if changes_payment and intent["payment_method"] and intent["status"] != "requires_confirmation":
        intent.update(status="requires_confirmation", next_action=None)
    return intent


def confirm(store: Store, ctx: RequestContext, intent_id: str, params: Params) -> Json:
    reject_unknown(params, CONFIRM_PARAMS)
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state(intent, "confirm", CONFIRMABLE)
    off_session = read_off_session(params)
    method = read_payment_method(store, params, intent["customer"])
    if method is not None:
        intent["payment_method"] = method["id"]
    capture_method = get_choice(params, "capture_method", CAPTURE_METHODS)
    if capture_method is not None:
        intent["capture_method"] = capture_method
    if "setup_future_usage" in params:
        intent["setup_future_usage"] = read_future_usage(params)
    return_url = get_str(params, "return_url")
    confirm_intent(store, ctx, intent, return_url, off_session=bool(off_session))
    return intent


__all__ = ["authenticate", "cancel", "capture", "confirm", "create", "update"]


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
    capture_charge(store, charge, amount)
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
