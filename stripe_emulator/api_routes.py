"""The `/v1` endpoints: each turns a request into one store operation.

Handlers run under the store lock and return the live object; the app expands and
serializes it before the lock is released.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator import customer_routes, disputes, payment_intents, refunds, webhook_endpoints
from stripe_emulator.errors import parameter_missing
from stripe_emulator.forms import Params, get_str, reject_unknown
from stripe_emulator.listing import (
    LIST_PARAMS,
    filter_created,
    page,
    search_page,
    search_predicate,
)
from stripe_emulator.route_helpers import ApiHandler, list_of, retrieve
from stripe_emulator.routing import Router
from stripe_emulator.state import Store
from stripe_emulator.webhooks import WebhookHub
from stripe_emulator.wire import Request

Json = dict[str, Any]


def _create_intent(store: Store, req: Request, params: Params) -> Json:
    return payment_intents.create(store, req.ctx, params)


def _retrieve_intent(store: Store, req: Request, params: Params) -> Json:
    reject_unknown(params, ("client_secret", "expand"))
    return store.get("payment_intent", req.args[0], "intent")


def _update_intent(store: Store, req: Request, params: Params) -> Json:
    return payment_intents.update(store, req.ctx, req.args[0], params)


def _confirm_intent(store: Store, req: Request, params: Params) -> Json:
    return payment_intents.confirm(store, req.ctx, req.args[0], params)


def _capture_intent(store: Store, req: Request, params: Params) -> Json:
    return payment_intents.capture(store, req.ctx, req.args[0], params)


def _cancel_intent(store: Store, req: Request, params: Params) -> Json:
    return payment_intents.cancel(store, req.ctx, req.args[0], params)


def _list_events(store: Store, req: Request, params: Params) -> Json:
    reject_unknown(params, (*LIST_PARAMS, "type", "types", "delivery_success"))
    items = filter_created(store.newest_first("event"), params)
    wanted = get_str(params, "type")
    if wanted is not None:
        prefix = wanted[:-1] if wanted.endswith("*") else None
        items = [
            e for e in items if e["type"] == wanted or (prefix and e["type"].startswith(prefix))
        ]
    types = params.get("types")
    if isinstance(types, list):
        items = [e for e in items if e["type"] in types]
    return page(items, params, "/v1/events")


def _search_intents(store: Store, req: Request, params: Params) -> Json:
    reject_unknown(params, ("query", "limit", "page", "expand"))
    query = get_str(params, "query")
    if not query:
        raise parameter_missing("query")
    predicate = search_predicate(query)
    items = [item for item in store.newest_first("payment_intent") if predicate(item)]
    return search_page(items, params, "/v1/payment_intents/search")


def _create_refund(store: Store, req: Request, params: Params) -> Json:
    return refunds.create(store, req.ctx, params)


def _update_refund(store: Store, req: Request, params: Params) -> Json:
    return refunds.update(store, req.ctx, req.args[0], params)


def _accept_dispute(store: Store, req: Request, params: Params) -> Json:
    return disputes.accept(store, req.ctx, req.args[0], params)


def _update_dispute(store: Store, req: Request, params: Params) -> Json:
    return disputes.update(store, req.ctx, req.args[0], params)


def api_router(hub: WebhookHub) -> Router[ApiHandler]:
    router: Router[ApiHandler] = Router()
    pi = "/v1/payment_intents"
    router.add("POST", pi, _create_intent)
    router.add("GET", pi, list_of("payment_intent", pi))
    router.add("GET", f"{pi}/search", _search_intents)
    router.add("GET", f"{pi}/{{id}}", _retrieve_intent)
    router.add("POST", f"{pi}/{{id}}", _update_intent)
    router.add("POST", f"{pi}/{{id}}/confirm", _confirm_intent)
    router.add("POST", f"{pi}/{{id}}/capture", _capture_intent)
    router.add("POST", f"{pi}/{{id}}/cancel", _cancel_intent)
    router.add("POST", "/v1/refunds", _create_refund)
    router.add("GET", "/v1/refunds", list_of("refund", "/v1/refunds", ("payment_intent", "charge")))
    router.add("GET", "/v1/refunds/{id}", retrieve("refund", "refund"))
    router.add("POST", "/v1/refunds/{id}", _update_refund)
    router.add("GET", "/v1/charges", list_of("charge", "/v1/charges", ("payment_intent",)))
    router.add("GET", "/v1/charges/{id}", retrieve("charge", "charge"))
    router.add(
        "GET", "/v1/disputes", list_of("dispute", "/v1/disputes", ("payment_intent", "charge"))
    )
    router.add("GET", "/v1/disputes/{id}", retrieve("dispute", "dispute"))
    router.add("POST", "/v1/disputes/{id}", _update_dispute)
    router.add("POST", "/v1/disputes/{id}/close", _accept_dispute)
    router.add("GET", "/v1/events", _list_events)
    router.add("GET", "/v1/events/{id}", retrieve("event"))
    router.add(
        "GET",
        "/v1/balance_transactions/{id}",
        retrieve("balance_transaction", "balance_transaction"),
    )
    router.add(
        "GET",
        "/v1/balance_transactions",
        list_of("balance_transaction", "/v1/balance_transactions", ("type", "source")),
    )
    customer_routes.add_routes(router)
    webhook_endpoints.add_routes(router, hub)
    return router
