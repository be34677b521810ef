"""Handlers shared by every `/v1` resource: a filtered list and a retrieve by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_emulator.forms import Params, get_str, reject_unknown
from stripe_emulator.listing import LIST_PARAMS, filter_created, page
from stripe_emulator.state import Store
from stripe_emulator.wire import Request

Json = dict[str, Any]
ApiHandler = Callable[[Store, Request, Params], Json]


def list_of(kind: str, url: str, filters: tuple[str, ...] = ()) -> ApiHandler:
    """A list endpoint; `filters` are fields matched exactly (`payment_intent=pi_...`)."""

    def handler(store: Store, req: Request, params: Params) -> Json:
        reject_unknown(params, (*LIST_PARAMS, *filters, "customer"))
        items = filter_created(store.newest_first(kind), params)
        for name in (*filters, "customer"):
            wanted = get_str(params, name)
            if wanted is not None:
                items = [item for item in items if item.get(name) == wanted]
        return page(items, params, url)

    return handler


def retrieve(kind: str, param: str = "id") -> ApiHandler:
    def handler(store: Store, req: Request, params: Params) -> Json:
        reject_unknown(params, ("expand",))
        return store.get(kind, req.args[0], param)

    return handler
