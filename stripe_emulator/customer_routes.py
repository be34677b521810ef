"""The `/v1` endpoints of saved cards: Customers, PaymentMethods, SetupIntents."""

from __future__ import annotations

from typing import Any

from stripe_emulator import customers, payment_methods, setup_intents
from stripe_emulator.errors import parameter_missing, resource_missing
from stripe_emulator.forms import Params, get_str, reject_unknown
from stripe_emulator.listing import LIST_PARAMS, filter_created, page, search_page, search_predicate
from stripe_emulator.route_helpers import ApiHandler, list_of, retrieve
from stripe_emulator.routing import Router
from stripe_emulator.state import Store
from stripe_emulator.wire import Request

Json = dict[str, Any]


def _list_customers(store: Store, req: Request, params: Params) -> Json:
    reject_unknown(params, (*LIST_PARAMS, "email", "test_clock"))
    items = filter_created(store.newest_first("customer"), params)
    email = get_str(params, "email")
    if email is not None:
        items = [item for item in items if item["email"] == email]
    return page(items, params, "/v1/customers")


def _search_customers(store: Store, req: Request, params: Params) -> Json:
    reject_unknown(params, ("query", "limit", "page", "expand"))
    query = get_str(params, "query")
    if not query:
        raise parameter_missing("query")
    predicate = search_predicate(query)
    items = [item for item in store.newest_first("customer") if predicate(item)]
    return search_page(items, params, "/v1/customers/search")


def _customer_methods(store: Store, req: Request, params: Params) -> Json:
    store.get("customer", req.args[0], "customer")
    url = f"/v1/customers/{req.args[0]}/payment_methods"
    return payment_methods.list_methods(store, params, req.args[0], url)


def _customer_method(store: Store, req: Request, params: Params) -> Json:
    reject_unknown(params, ("expand",))
    store.get("customer", req.args[0], "customer")
    method = store.get("payment_method", req.args[1], "payment_method")
    if method["customer"] != req.args[0]:
        raise resource_missing("payment_method", req.args[1], "payment_method")
    return method


def _with_ctx(operation: Any, *, by_id: bool = True) -> ApiHandler:
    """`operation(store, ctx, id, params)` (or without `id`) as a handler."""

    def handler(store: Store, req: Request, params: Params) -> Json:
        if by_id:
            return operation(store, req.ctx, req.args[0], params)
        return operation(store, req.ctx, params)

    return handler


def _retrieve_method(store: Store, req: Request, params: Params) -> Json:
    return payment_methods.retrieve(store, req.args[0], params)


def _update_method(store: Store, req: Request, params: Params) -> Json:
    return payment_methods.update(store, req.args[0], params)


def _list_methods(store: Store, req: Request, params: Params) -> Json:
    return payment_methods.list_methods(store, params)


def add_routes(router: Router[ApiHandler]) -> None:
    cus, pm, seti = "/v1/customers", "/v1/payment_methods", "/v1/setup_intents"
    router.add("POST", cus, _with_ctx(customers.create, by_id=False))
    router.add("GET", cus, _list_customers)
    router.add("GET", f"{cus}/search", _search_customers)
    router.add("GET", f"{cus}/{{id}}", retrieve("customer", "customer"))
    router.add("POST", f"{cus}/{{id}}", _with_ctx(customers.update))
    router.add("GET", f"{cus}/{{id}}/payment_methods", _customer_methods)
    router.add("GET", f"{cus}/{{id}}/payment_methods/{{pm}}", _customer_method)
    router.add("GET", pm, _list_methods)
    router.add("GET", f"{pm}/{{id}}", _retrieve_method)
    router.add("POST", f"{pm}/{{id}}", _update_method)
    router.add("POST", f"{pm}/{{id}}/attach", _with_ctx(payment_methods.attach))
    router.add("POST", f"{pm}/{{id}}/detach", _with_ctx(payment_methods.detach))
    router.add("POST", seti, _with_ctx(setup_intents.create, by_id=False))
    router.add("GET", seti, list_of("setup_intent", seti, ("payment_method",)))
    router.add("GET", f"{seti}/{{id}}", retrieve("setup_intent", "intent"))
    router.add("POST", f"{seti}/{{id}}", _with_ctx(setup_intents.update))
    router.add("POST", f"{seti}/{{id}}/confirm", _with_ctx(setup_intents.confirm))
    router.add("POST", f"{seti}/{{id}}/cancel", _with_ctx(setup_intents.cancel))
