"""Customers: create, retrieve, update (`invoice_settings[default_payment_method]`),
list by email, search by metadata.

The default payment method must be one the customer has saved; Stripe refuses any
other, and so does the emulator.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator import payment_methods
from stripe_emulator.errors import ApiError, parameter_invalid, parameter_unknown
from stripe_emulator.forms import (
    Params,
    get_metadata,
    get_str,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.ids import new_id, random_token
from stripe_emulator.state import RequestContext, Store

Json = dict[str, Any]

_FIELDS = ("address", "description", "email", "name", "phone", "shipping")
UPDATE_PARAMS = (*_FIELDS, "expand", "invoice_settings", "metadata", "preferred_locales")
CREATE_PARAMS = (*UPDATE_PARAMS, "payment_method")
_INVOICE_SETTINGS = ("custom_fields", "default_payment_method", "footer", "rendering_options")


def create(store: Store, ctx: RequestContext, params: Params) -> Json:
    reject_unknown(params, CREATE_PARAMS)
    settings = _invoice_settings(params)
    customer_id = new_id("cus")
    customer = {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": store.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": random_token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": get_metadata(params) or {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": _locales(params) or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    _set_fields(customer, params)
    method = _method_to_save(store, params, settings)
    for key in _INVOICE_SETTINGS:
        if key in settings:
            customer["invoice_settings"][key] = settings[key] or None
    if method is not None and settings.get("default_payment_method"):
        customer["invoice_settings"]["default_payment_method"] = method["id"]
    store.add(customer)
    store.emit("customer.created", customer, ctx)
    if method is not None:
        payment_methods.attach_to(store, ctx, method, customer_id)
    return customer


def _method_to_save(store: Store, params: Params, settings: Json) -> Json | None:
    """`payment_method` of a new customer, checked before anything is stored; the only
    method a new customer may name as its default is that one."""
    pm_id = get_str(params, "payment_method")
    default = settings.get("default_payment_method")
    if default and default != pm_id:
        raise _not_the_customers(default)
    if not pm_id:
        return None
    method = payment_methods.resolve(store, pm_id)
    payment_methods.check_usable(store, method, None, "payment_method")
    return method


def update(store: Store, ctx: RequestContext, customer_id: str, params: Params) -> Json:
    reject_unknown(params, UPDATE_PARAMS)
    customer = store.get("customer", customer_id, "customer")
    settings = _invoice_settings(params)
    metadata = get_metadata(params)
    locales = _locales(params)
    _check_default(store, customer, settings)  # before anything changes
    before = {key: _copy(value) for key, value in customer.items()}
    _set_fields(customer, params)
    _apply_settings(store, customer, settings)
    customer["metadata"] = merge_metadata(customer["metadata"], metadata, replace=False)
    if locales is not None:
        customer["preferred_locales"] = locales
    changed = {key: value for key, value in before.items() if customer[key] != value}
    if changed:
        store.emit("customer.updated", customer, ctx, previous_attributes=changed)
    return customer


def _set_fields(customer: Json, params: Params) -> None:
    for name in ("description", "email", "name", "phone"):
        if name in params:
            customer[name] = get_str(params, name) or None
    for name in ("address", "shipping"):
        value = params.get(name)
        if value == "":
            customer[name] = None
        elif value is not None:
            if not isinstance(value, dict):
                raise parameter_invalid(name, f"Invalid object: {name} must be a hash.")
            customer[name] = value


def _locales(params: Params) -> list[str] | None:
    value = params.get("preferred_locales")
    if value is None:
        return None
    if value == "":
        return []
    if not isinstance(value, list):
        raise parameter_invalid("preferred_locales", "Invalid array.")
    return [str(item) for item in value]


def _invoice_settings(params: Params) -> Json:
    value = params.get("invoice_settings")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise parameter_invalid("invoice_settings", "Invalid object: invoice_settings.")
    for key in value:
        if key not in _INVOICE_SETTINGS:
            raise parameter_unknown(f"invoice_settings[{key}]")
    return value


def _apply_settings(store: Store, customer: Json, settings: Json) -> None:
    _check_default(store, customer, settings)
    current = customer["invoice_settings"]
    for key in _INVOICE_SETTINGS:
        if key in settings:
            current[key] = settings[key] or None


def _check_default(store: Store, customer: Json, settings: Json) -> None:
    pm_id = settings.get("default_payment_method")
    if pm_id:
        method = store.table("payment_method").get(pm_id)
        if method is None or method["customer"] != customer["id"]:
            raise _not_the_customers(pm_id)


def _not_the_customers(pm_id: str) -> ApiError:
    return ApiError(
        400,
        "invalid_request_error",
        f"The customer does not have a payment method with the ID {pm_id}. "
        "The payment method must be attached to the customer.",
        code="resource_missing",
        param="invoice_settings[default_payment_method]",
    )


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value
