"""SetupIntents: saving a card for later (off-session) payments without charging it.

    requires_payment_method -> requires_confirmation -> [requires_action] -> succeeded
    a declined card or failed authentication -> requires_payment_method (last_setup_error)
    cancel from any state but succeeded/canceled -> canceled

On success the card is attached to the SetupIntent's customer (`payment_method.attached`,
then `setup_intent.succeeded`).
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_emulator import payment_methods
from stripe_emulator.card_catalog import DECLINE_MESSAGES, Outcome, card_of
from stripe_emulator.errors import ApiError
from stripe_emulator.forms import (
    Params,
    get_bool,
    get_choice,
    get_metadata,
    get_str,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.ids import new_id, random_token
from stripe_emulator.intent_objects import read_customer, read_method_types, read_payment_method
from stripe_emulator.state import RequestContext, Store

Json = dict[str, Any]

USAGES = ("on_session", "off_session")
_COMMON = ("customer", "description", "expand", "metadata", "payment_method")
_MORE = ("payment_method_types", "payment_method_options", "flow_directions", "attach_to_self")
CREATE_PARAMS = (*_COMMON, *_MORE, "confirm", "usage", "return_url", "automatic_payment_methods")
CREATE_PARAMS += ("mandate_data", "on_behalf_of", "single_use", "use_stripe_sdk")
UPDATE_PARAMS = (*_COMMON, *_MORE)
CONFIRM_PARAMS = ("expand", "payment_method", "return_url", "mandate_data", "use_stripe_sdk")
CONFIRM_PARAMS += ("payment_method_options",)
CANCEL_REASONS = ("abandoned", "requested_by_customer", "duplicate")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def create(store: Store, ctx: RequestContext, params: Params) -> Json:
    reject_unknown(params, CREATE_PARAMS)
    customer = read_customer(store, params)
    method = read_payment_method(store, params, customer)
    setup_id = new_id("seti")
    setup = store.add(
        {
            "id": setup_id,
            "object": "setup_intent",
            "application": None,
            "automatic_payment_methods": None,
            "cancellation_reason": None,
            "client_secret": f"{setup_id}_secret_{random_token()}",
            "created": store.now(),
            "customer": customer,
            "description": get_str(params, "description"),
            "flow_directions": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": get_metadata(params) or {},
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": method["id"] if method else None,
            "payment_method_options": {
                "card": {
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": read_method_types(params) or ["card"],
            "single_use_mandate": None,
            "status": "requires_confirmation" if method else "requires_payment_method",
            "usage": get_choice(params, "usage", USAGES) or "off_session",
        }
    )
    store.emit("setup_intent.created", setup, ctx)
    if get_bool(params, "confirm"):
        _confirm(store, ctx, setup, get_str(params, "return_url"))
    return setup


def update(store: Store, ctx: RequestContext, setup_id: str, params: Params) -> Json:
    reject_unknown(params, UPDATE_PARAMS)
    setup = store.get("setup_intent", setup_id, "intent")
    if setup["status"] not in CONFIRMABLE:
        raise _unexpected_state(setup, "update", CONFIRMABLE)
    customer = read_customer(store, params) if "customer" in params else setup["customer"]
    method = read_payment_method(store, params, customer)
    setup["customer"] = customer
    setup["metadata"] = merge_metadata(setup["metadata"], get_metadata(params), replace=False)
    if "description" in params:
        setup["description"] = get_str(params, "description") or None
    if method is not None:
        setup.update(payment_method=method["id"], status="requires_confirmation", next_action=None)
    return setup


def confirm(store: Store, ctx: RequestContext, setup_id: str, params: Params) -> Json:
    reject_unknown(params, CONFIRM_PARAMS)
    setup = store.get("setup_intent", setup_id, "intent")
    if setup["status"] not in CONFIRMABLE:
        raise _unexpected_state(setup, "confirm", CONFIRMABLE)
    method = read_payment_method(store, params, setup["customer"])
    if method is not None:
        setup["payment_method"] = method["id"]
    _confirm(store, ctx, setup, get_str(params, "return_url"))
    return setup


def cancel(store: Store, ctx: RequestContext, setup_id: str, params: Params) -> Json:
    reject_unknown(params, ("cancellation_reason", "expand"))
    reason = get_choice(params, "cancellation_reason", CANCEL_REASONS)
    setup = store.get("setup_intent", setup_id, "intent")
    if setup["status"] not in (*CONFIRMABLE, "processing"):
        raise _unexpected_state(setup, "cancel", (*CONFIRMABLE, "processing"))
    setup.update(status="canceled", cancellation_reason=reason, next_action=None)
    store.emit("setup_intent.canceled", setup, ctx)
    return setup


def _confirm(store: Store, ctx: RequestContext, setup: Json, return_url: str | None) -> None:
    if setup["payment_method"] is None:
        raise ApiError(
            400,
            "invalid_request_error",
            "You cannot confirm this SetupIntent because it's missing a payment method. "
            "Update the SetupIntent with a payment method and then confirm it again.",
            code="setup_intent_unexpected_state",
            param="payment_method",
            extra={"setup_intent": setup},
        )
    method = store.get("payment_method", setup["payment_method"], "payment_method")
    card = card_of(method)
    setup.update(last_setup_error=None, next_action=None, latest_attempt=new_id("setatt"))
    if card.outcome is Outcome.AUTHENTICATE:
        url = f"{ctx.base_url}/_emulator/setup_intents/{setup['id']}/3ds"
        setup["status"] = "requires_action"
        setup["next_action"] = {
            "type": "redirect_to_url",
            "redirect_to_url": {"url": url, "return_url": return_url},
        }
        store.emit("setup_intent.requires_action", setup, ctx)
    elif card.outcome is Outcome.DECLINE:
        _fail(store, ctx, setup, method, card.decline_code)
    else:
        _succeed(store, ctx, setup, method)


def _succeed(store: Store, ctx: RequestContext, setup: Json, method: Json) -> None:
    if setup["customer"]:
        payment_methods.attach_to(store, ctx, method, setup["customer"])
    setup.update(status="succeeded", next_action=None)
    store.emit("setup_intent.succeeded", setup, ctx)


def _fail(
    store: Store, ctx: RequestContext, setup: Json, method: Json, decline_code: str | None
) -> None:
    message = DECLINE_MESSAGES.get(decline_code or "", "Your card was declined.")
    setup.update(
        status="requires_payment_method",
        payment_method=None,
        last_setup_error={
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline_code,
            "message": message,
            "payment_method": copy.deepcopy(method),
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        },
    )
    store.emit("setup_intent.setup_failed", setup, ctx)
    raise ApiError(
        402,
        "card_error",
        message,
        code="card_declined",
        decline_code=decline_code,
        extra={"setup_intent": setup, "payment_method": copy.deepcopy(method)},
    )


def authenticate(store: Store, ctx: RequestContext, setup_id: str, succeed: bool) -> Json:
    """The customer finished (or failed) 3-D Secure while saving the card."""
    setup = store.get("setup_intent", setup_id, "intent")
    if setup["status"] != "requires_action":
        raise _unexpected_state(setup, "authenticate", ("requires_action",))
    method = store.get("payment_method", setup["payment_method"], "payment_method")
    if succeed:
        _succeed(store, ctx, setup, method)
        return setup
    setup.update(
        status="requires_payment_method",
        payment_method=None,
        next_action=None,
        last_setup_error={
            "type": "invalid_request_error",
            "code": "setup_intent_authentication_failure",
            "message": "The latest attempt to set up the payment method has failed because "
            "authentication failed.",
            "payment_method": copy.deepcopy(method),
        },
    )
    store.emit("setup_intent.setup_failed", setup, ctx)
    return setup


def _unexpected_state(setup: Json, action: str, allowed: tuple[str, ...]) -> ApiError:
    done = {"confirm": "confirmed", "cancel": "canceled", "update": "updated"}.get(action, action)
    return ApiError(
        400,
        "invalid_request_error",
        f"You cannot {action} this SetupIntent because it has a status of {setup['status']}. "
        f"Only a SetupIntent with one of the following statuses may be {done}: "
        f"{', '.join(allowed)}.",
        code="setup_intent_unexpected_state",
        extra={"setup_intent": setup},
    )
