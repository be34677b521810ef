"""PaymentMethods: retrieve, attach to a customer, detach, list.

A test token (`pm_card_visa`) used anywhere becomes a new `pm_...` PaymentMethod with
that card, so the token can be saved by any number of customers while each saved
method belongs to one. A method paid with while attached to no customer, or detached,
may not be used again, as at Stripe.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.card_catalog import TEST_CARDS
from stripe_emulator.errors import ApiError, invalid_request, missing_reference, parameter_missing
from stripe_emulator.forms import (
    Params,
    get_metadata,
    get_str,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.ids import new_id
from stripe_emulator.listing import LIST_PARAMS, filter_created, page
from stripe_emulator.state import RequestContext, Store

Json = dict[str, Any]

SPENT = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
    "attachment, shared with a connected account without Customer attachment, or was detached "
    "from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must "
    "attach it to a Customer first."
)


def resolve(store: Store, pm_id: str, param: str = "payment_method") -> Json:
    """The stored PaymentMethod `pm_id`, or a new one made from a test token."""
    card = TEST_CARDS.get(pm_id)
    if card is not None:
        return store.add(card.as_object(store.now(), new_id("pm")))
    found = store.table("payment_method").get(pm_id)
    if found is None:
        raise missing_reference("PaymentMethod", pm_id, param)
    return found


def check_usable(store: Store, method: Json, customer_id: str | None, param: str) -> None:
    """Refuse a spent method, or one saved by a customer other than the payer."""
    if method["id"] in store.spent_payment_methods:
        raise invalid_request(SPENT, param=param)
    owner = method["customer"]
    if owner is not None and owner != customer_id:
        if customer_id is None:
            raise invalid_request(
                f"The PaymentMethod provided ({method['id']}) is attached to a Customer. "
                "Provide that Customer's ID to use it.",
                param=param,
            )
        raise invalid_request(
            f"The customer does not have a payment method with the ID {method['id']}. "
            "The payment method must be attached to the customer.",
            code="resource_missing",
            param=param,
        )


def paid_with(store: Store, method: Json) -> None:
    """After a successful payment: a method no customer keeps is used up."""
    if method["customer"] is None:
        store.spent_payment_methods.add(method["id"])


def retrieve(store: Store, pm_id: str, params: Params) -> Json:
    reject_unknown(params, ("expand",))
    card = TEST_CARDS.get(pm_id)
    if card is not None:
        return card.as_object(store.now())
    return store.get("payment_method", pm_id, "payment_method")


def update(store: Store, pm_id: str, params: Params) -> Json:
    reject_unknown(params, ("expand", "metadata", "allow_redisplay"))
    method = store.get("payment_method", pm_id, "payment_method")
    method["metadata"] = merge_metadata(method["metadata"], get_metadata(params), replace=False)
    redisplay = get_str(params, "allow_redisplay")
    if redisplay is not None:
        method["allow_redisplay"] = redisplay
    return method


def attach(store: Store, ctx: RequestContext, pm_id: str, params: Params) -> Json:
    reject_unknown(params, ("customer", "expand"))
    customer_id = get_str(params, "customer")
    if not customer_id:
        raise parameter_missing("customer")
    customer = store.table("customer").get(customer_id)
    if customer is None:
        raise missing_reference("customer", customer_id, "customer")
    if pm_id not in TEST_CARDS and pm_id not in store.table("payment_method"):
        raise ApiError(
            404,
            "invalid_request_error",
            f"No such PaymentMethod: '{pm_id}'",
            code="resource_missing",
            param="payment_method",
        )
    method = resolve(store, pm_id)
    attach_to(store, ctx, method, customer_id)
    return method


def attach_to(store: Store, ctx: RequestContext, method: Json, customer_id: str) -> None:
    """Save `method` for the customer (a no-op when it already is), with Stripe's errors."""
    if method["id"] in store.spent_payment_methods:
        raise invalid_request(SPENT, param="payment_method")
    if method["customer"] == customer_id:
        return
    if method["customer"] is not None:
        raise invalid_request(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    method["customer"] = customer_id
    store.emit("payment_method.attached", method, ctx)


def detach(store: Store, ctx: RequestContext, pm_id: str, params: Params) -> Json:
    reject_unknown(params, ("expand",))
    method = store.table("payment_method").get(pm_id)
    if method is None and pm_id not in TEST_CARDS:
        raise ApiError(
            404,
            "invalid_request_error",
            f"No such PaymentMethod: '{pm_id}'",
            code="resource_missing",
            param="payment_method",
        )
    if method is None or method["customer"] is None:
        raise invalid_request(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible.",
            param="payment_method",
        )
    owner = method["customer"]
    method["customer"] = None
    store.spent_payment_methods.add(method["id"])
    _forget_default(store, ctx, owner, method["id"])
    store.emit("payment_method.detached", method, ctx, previous_attributes={"customer": owner})
    return method


def _forget_default(store: Store, ctx: RequestContext, customer_id: str, pm_id: str) -> None:
    """A detached default stops being the customer's default, as at Stripe."""
    customer = store.table("customer").get(customer_id)
    if customer is None or customer["invoice_settings"]["default_payment_method"] != pm_id:
        return
    previous = dict(customer["invoice_settings"])
    customer["invoice_settings"]["default_payment_method"] = None
    store.emit(
        "customer.updated", customer, ctx, previous_attributes={"invoice_settings": previous}
    )


def list_methods(
    store: Store, params: Params, customer_id: str | None = None, url: str = "/v1/payment_methods"
) -> Json:
    """`GET /v1/payment_methods?customer=&type=card` (or a customer's own list)."""
    reject_unknown(params, (*LIST_PARAMS, "customer", "type", "allow_redisplay"))
    customer_id = customer_id or get_str(params, "customer")
    if customer_id is not None and customer_id not in store.table("customer"):
        raise missing_reference("customer", customer_id, "customer")
    kind = get_str(params, "type")
    items = [
        method
        for method in filter_created(store.newest_first("payment_method"), params)
        if (customer_id is None or method["customer"] == customer_id)
        and (kind is None or method["type"] == kind)
    ]
    return page(items, params, url)
