"""The PaymentIntent object: its shape and the parameters each endpoint accepts."""

from __future__ import annotations

from typing import Any

from stripe_emulator import payment_methods
from stripe_emulator.errors import missing_reference, parameter_invalid, parameter_missing
from stripe_emulator.forms import (
    Params,
    get_choice,
    get_int,
    get_metadata,
    get_str,
)
from stripe_emulator.ids import new_id, random_token
from stripe_emulator.state import Store

Json = dict[str, Any]

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
FUTURE_USAGES = ("on_session", "off_session")
_COMMON = (
    "customer",
    "description",
    "expand",
    "metadata",
    "payment_method",
    "payment_method_options",
    "payment_method_types",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
)
CREATE_PARAMS = (
    *_COMMON,
    "amount",
    "currency",
    "capture_method",
    "confirm",
    "confirmation_method",
    "return_url",
    "automatic_payment_methods",
    "off_session",
    "error_on_requires_action",
    "use_stripe_sdk",
    "mandate_data",
    "on_behalf_of",
    "transfer_data",
    "transfer_group",
    "application_fee_amount",
)
UPDATE_PARAMS = (*_COMMON, "amount", "currency", "capture_method", "transfer_group")
UPDATED_FIELDS = (
    "description",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
)
CONFIRM_PARAMS = (
    "expand",
    "payment_method",
    "return_url",
    "off_session",
    "error_on_requires_action",
    "use_stripe_sdk",
    "mandate_data",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "payment_method_options",
    "payment_method_types",
    "capture_method",
)
CAPTURE_PARAMS = (
    "amount_to_capture",
    "expand",
    "metadata",
    "final_capture",
    "application_fee_amount",
    "statement_descriptor",
    "statement_descriptor_suffix",
)
CANCEL_PARAMS = ("cancellation_reason", "expand")


def new_intent(store: Store, params: Params) -> Json:
    amount = get_int(params, "amount", minimum=1)
    if amount is None:
        raise parameter_missing("amount")
    currency = read_currency(params)
    if currency is None:
        raise parameter_missing("currency")
    intent_id = new_id("pi")
    automatic = params.get("automatic_payment_methods")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "automatic_payment_methods": _automatic(automatic) if automatic else None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": get_choice(params, "capture_method", CAPTURE_METHODS)
        or "automatic_async",
        "client_secret": f"{intent_id}_secret_{random_token()}",
        "confirmation_method": "automatic",
        "created": store.now(),
        "currency": currency,
        "customer": read_customer(store, params),
        "description": get_str(params, "description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": get_metadata(params) or {},
        "next_action": None,
        "payment_method": None,
        "payment_method_options": {},
        "payment_method_types": read_method_types(params) or ["card"],
        "processing": None,
        "receipt_email": get_str(params, "receipt_email"),
        "setup_future_usage": read_future_usage(params),
        "shipping": None,
        "statement_descriptor": get_str(params, "statement_descriptor"),
        "statement_descriptor_suffix": get_str(params, "statement_descriptor_suffix"),
        "status": "requires_payment_method",
    }


def _automatic(value: Any) -> Json:
    if not isinstance(value, dict):
        raise parameter_invalid("automatic_payment_methods", "Invalid automatic_payment_methods.")
    result: Json = {"enabled": value.get("enabled", "true") == "true"}
    if "allow_redirects" in value:
        result["allow_redirects"] = value["allow_redirects"]
    return result


def read_currency(params: Params) -> str | None:
    currency = get_str(params, "currency")
    if currency is None:
        return None
    if len(currency) != 3 or not currency.isalpha():
        raise parameter_invalid("currency", f"Invalid currency: {currency}.")
    return currency.lower()


def read_method_types(params: Params) -> list[str] | None:
    value = params.get("payment_method_types")
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise parameter_invalid("payment_method_types", "Invalid array.")
    return [str(item) for item in value]


def read_customer(store: Store, params: Params) -> str | None:
    """`customer`, which must exist; `""` (on update) clears it."""
    customer_id = get_str(params, "customer")
    if customer_id and customer_id not in store.table("customer"):
        raise missing_reference("customer", customer_id, "customer")
    return customer_id or None


def read_future_usage(params: Params) -> str | None:
    if params.get("setup_future_usage") == "":
        return None
    return get_choice(params, "setup_future_usage", FUTURE_USAGES)


def read_off_session(params: Params) -> bool | None:
    """`off_session`: a boolean, or Stripe's `one_off`/`recurring` (both mean true)."""
    value = get_str(params, "off_session")
    if value is None:
        return None
    if value in ("true", "one_off", "recurring"):
        return True
    if value == "false":
        return False
    raise parameter_invalid("off_session", f"Invalid boolean: {value}")


def read_payment_method(store: Store, params: Params, customer_id: str | None) -> Json | None:
    """The PaymentMethod named by `payment_method` (a test token becomes a new one), fit
    to pay for `customer_id`; None when the param is absent."""
    pm_id = get_str(params, "payment_method")
    if pm_id is None:
        return None
    method = payment_methods.resolve(store, pm_id)
    payment_methods.check_usable(store, method, customer_id, "payment_method")
    return method


def redirect_action(ctx_base_url: str, intent: Json, return_url: str | None) -> Json:
    url = f"{ctx_base_url}/_emulator/payment_intents/{intent['id']}/3ds"
    return {"type": "redirect_to_url", "redirect_to_url": {"url": url, "return_url": return_url}}
