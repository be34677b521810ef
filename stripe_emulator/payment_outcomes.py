"""What confirming a PaymentIntent does with its card: authorise (and save it, with
`setup_future_usage`), decline, or ask for 3-D Secure — which off-session, with no
customer there to answer it, is a decline with `authentication_required`.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_emulator import payment_methods
from stripe_emulator.card_catalog import DECLINE_MESSAGES, Outcome, card_of
from stripe_emulator.charges import failed_charge, new_charge
from stripe_emulator.errors import ApiError, unexpected_state
from stripe_emulator.intent_objects import redirect_action
from stripe_emulator.state import RequestContext, Store

Json = dict[str, Any]


def confirm_intent(
    store: Store,
    ctx: RequestContext,
    intent: Json,
    return_url: str | None,
    *,
    off_session: bool = False,
) -> None:
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
    method = store.get("payment_method", intent["payment_method"], "payment_method")
    card = card_of(method)
    intent.update(last_payment_error=None, next_action=None)
    if card.outcome is Outcome.AUTHENTICATE and off_session:
        _decline(store, ctx, intent, method, "authentication_required")
    elif card.outcome is Outcome.AUTHENTICATE:
        intent["status"] = "requires_action"
        intent["next_action"] = redirect_action(ctx.base_url, intent, return_url)
        store.emit("payment_intent.requires_action", intent, ctx)
    elif card.outcome is Outcome.DECLINE:
        _decline(store, ctx, intent, method, card.decline_code)
    else:
        _authorize(store, ctx, intent, method)


def _authorize(store: Store, ctx: RequestContext, intent: Json, method: Json) -> None:
    manual = intent["capture_method"] == "manual"
    charge = new_charge(store, intent, method, captured=not manual)
    intent.update(latest_charge=charge["id"], next_action=None, last_payment_error=None)
    if manual:
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
    else:
        intent.update(status="succeeded", amount_received=intent["amount"])
    store.emit("charge.succeeded", charge, ctx)
    _keep_or_spend(store, ctx, intent, method)
    kind = "amount_capturable_updated" if manual else "succeeded"
    store.emit(f"payment_intent.{kind}", intent, ctx)


def _keep_or_spend(store: Store, ctx: RequestContext, intent: Json, method: Json) -> None:
    """`setup_future_usage` with a customer saves the card for them; a card nobody keeps
    is used up by the payment."""
    if intent["setup_future_usage"] and intent["customer"]:
        payment_methods.attach_to(store, ctx, method, intent["customer"])
    elif not intent["setup_future_usage"]:
        payment_methods.paid_with(store, method)


def _decline(
    store: Store, ctx: RequestContext, intent: Json, method: Json, decline_code: str | None
) -> None:
    charge = failed_charge(store, intent, method, decline_code)
    method = copy.deepcopy(method)  # as it was when declined
    code = charge["failure_code"]
    message = DECLINE_MESSAGES.get(decline_code or "", "Your card was declined.")
    error: Json = {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "message": message,
        "charge": charge["id"],
        "payment_method": method,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
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
        code=code,
        decline_code=decline_code,
        payment_intent=intent,
        extra={"charge": charge["id"], "payment_method": method},
    )


def authenticate(store: Store, ctx: RequestContext, intent_id: str, succeed: bool) -> Json:
    """The customer finished (or failed) 3-D Secure on the redirect page."""
    intent = store.get("payment_intent", intent_id, "intent")
    if intent["status"] != "requires_action":
        raise unexpected_state(intent, "authenticate", ("requires_action",))
    method = store.get("payment_method", intent["payment_method"], "payment_method")
    if succeed:
        _authorize(store, ctx, intent, method)
        return intent
    method = copy.deepcopy(method)
    intent.update(
        status="requires_payment_method",
        payment_method=None,
        next_action=None,
        last_payment_error={
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide "
            "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
            "payment_method": method,
        },
    )
    store.emit("payment_intent.payment_failed", intent, ctx)
    return intent
