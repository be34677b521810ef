"""`/v1/webhook_endpoints`: endpoints registered through the API, each receiving only the
event types it is subscribed to (`enabled_events`; `["*"]` is every type). The signing
`secret` is in the reply to create only, as at Stripe.
"""

from __future__ import annotations

import re
from typing import Any

from stripe_emulator.errors import parameter_invalid, parameter_missing
from stripe_emulator.forms import (
    Params,
    get_bool,
    get_metadata,
    get_str,
    merge_metadata,
    reject_unknown,
)
from stripe_emulator.ids import random_token
from stripe_emulator.listing import page
from stripe_emulator.routing import Router
from stripe_emulator.state import Store
from stripe_emulator.webhooks import WebhookHub
from stripe_emulator.wire import Request

Json = dict[str, Any]
_EVENT_TYPE = re.compile(r"[a-z_]+(\.[a-z_]+)+")
_URL = re.compile(r"https?://[^\s/]+(/\S*)?")
CREATE_PARAMS = ("url", "enabled_events", "description", "metadata", "api_version", "connect")
CREATE_PARAMS += ("expand",)
UPDATE_PARAMS = ("url", "enabled_events", "description", "metadata", "disabled", "expand")


def _read_url(params: Params, *, required: bool) -> str | None:
    url = get_str(params, "url")
    if url is None:
        if required:
            raise parameter_missing("url")
        return None
    if not _URL.fullmatch(url):
        raise parameter_invalid("url", f"Invalid URL: {url}. URLs must begin with http or https.")
    return url


def _read_events(params: Params, *, required: bool) -> list[str] | None:
    value = params.get("enabled_events")
    if value is None:
        if required:
            raise parameter_missing("enabled_events")
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise parameter_invalid("enabled_events", "Invalid array: enabled_events.")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not (item == "*" or _EVENT_TYPE.fullmatch(item)):
            raise parameter_invalid(
                f"enabled_events[{index}]",
                f"Invalid enabled_events[{index}]: must be '*' or an event type such as "
                "'payment_intent.succeeded'.",
            )
    return list(dict.fromkeys(value))


def add_routes(router: Router[Any], hub: WebhookHub) -> None:
    """Register the handlers on `router`; they run under the store lock like the others."""

    def create(store: Store, req: Request, params: Params) -> Json:
        reject_unknown(params, CREATE_PARAMS)
        url = _read_url(params, required=True)
        events = _read_events(params, required=True)
        assert url is not None and events is not None
        secret = f"whsec_{random_token(32)}"
        obj = hub.add_endpoint(
            url,
            secret,
            tuple(events),
            get_str(params, "description"),
            get_metadata(params),
        )
        return {**obj, "secret": secret}

    def retrieve(store: Store, req: Request, params: Params) -> Json:
        reject_unknown(params, ("expand",))
        return hub.endpoint(req.args[0])

    def update(store: Store, req: Request, params: Params) -> Json:
        reject_unknown(params, UPDATE_PARAMS)
        current = hub.endpoint(req.args[0])
        changes: Json = {}
        url = _read_url(params, required=False)
        if url is not None:
            changes["url"] = url
        events = _read_events(params, required=False)
        if events is not None:
            changes["enabled_events"] = events
        disabled = get_bool(params, "disabled")
        if disabled is not None:
            changes["status"] = "disabled" if disabled else "enabled"
        if "description" in params:
            changes["description"] = get_str(params, "description") or None
        metadata = get_metadata(params)
        if metadata is not None:
            changes["metadata"] = merge_metadata(current["metadata"], metadata, replace=False)
        return hub.update_endpoint(req.args[0], changes)

    def delete(store: Store, req: Request, params: Params) -> Json:
        hub.remove_endpoint(req.args[0])
        return {"id": req.args[0], "object": "webhook_endpoint", "deleted": True}

    def list_all(store: Store, req: Request, params: Params) -> Json:
        reject_unknown(params, ("limit", "starting_after", "ending_before", "expand"))
        newest_first = list(reversed(hub.endpoints()))
        return page(newest_first, params, "/v1/webhook_endpoints")

    base = "/v1/webhook_endpoints"
    router.add("POST", base, create)
    router.add("GET", base, list_all)
    router.add("GET", f"{base}/{{id}}", retrieve)
    router.add("POST", f"{base}/{{id}}", update)
    router.add("DELETE", f"{base}/{{id}}", delete)
