"""`/_emulator/...`: what a test (or a developer) does to the world outside the API:
finish 3-D Secure, open a dispute, register webhook endpoints, arm faults, reset.

No API key is needed: these routes are the test bench, not Stripe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_emulator import disputes, payment_outcomes, setup_intents
from stripe_emulator.emulator import Emulator
from stripe_emulator.errors import ApiError, invalid_request
from stripe_emulator.routing import Router
from stripe_emulator.state import RequestContext
from stripe_emulator.three_d_secure import challenge_page, return_location, return_url_of
from stripe_emulator.wire import Reply, Request, json_reply

Json = dict[str, Any]
ControlHandler = Callable[[Emulator, Request], Reply]


def _reset(emu: Emulator, req: Request) -> Reply:
    emu.reset()
    return json_reply({"reset": True})


def _health(emu: Emulator, req: Request) -> Reply:
    return json_reply({"status": "ok"})


def _add_endpoint(emu: Emulator, req: Request) -> Reply:
    body = req.control_body()
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid_request("url must be an http(s) URL", param="url")
    secret = body.get("secret")
    events = body.get("enabled_events", ["*"])
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise invalid_request("enabled_events must be a non-empty list of event types",
                              param="enabled_events")
    try:
        return json_reply(
            emu.register_webhook_endpoint(
                url, secret if isinstance(secret, str) else None, tuple(events)
            )
        )
    except ValueError as exc:
        raise invalid_request(str(exc), param="secret") from None


def _list_endpoints(emu: Emulator, req: Request) -> Reply:
    return json_reply({"object": "list", "data": emu.webhooks.endpoints(), "has_more": False})


def _list_deliveries(emu: Emulator, req: Request) -> Reply:
    return json_reply(
        {"object": "list", "data": emu.webhooks.deliveries.entries(), "has_more": False}
    )


def _add_fault(emu: Emulator, req: Request) -> Reply:
    return json_reply(emu.faults.add(req.control_body()).as_json())


def _list_faults(emu: Emulator, req: Request) -> Reply:
    return json_reply({"object": "list", "data": emu.faults.armed(), "has_more": False})


def _authenticator(kind: str, finish: Callable[..., Json]) -> ControlHandler:
    """`{"outcome": "succeed"|"fail"}` for a PaymentIntent's or a SetupIntent's 3-D Secure;
    a form post (the challenge page) is redirected to the `return_url`, as the real flow
    would be."""

    def handler(emu: Emulator, req: Request) -> Reply:
        outcome = req.control_body().get("outcome", "succeed")
        if outcome not in ("succeed", "fail"):
            raise invalid_request("outcome must be 'succeed' or 'fail'", param="outcome")
        automatic = RequestContext(base_url=req.ctx.base_url)
        with emu.store.lock:
            intent = emu.store.get(kind, req.args[0], "intent")
            return_url = return_url_of(intent)
            finish(emu.store, automatic, req.args[0], outcome == "succeed")
            reply = json_reply(intent)
            location = return_location(intent, return_url) if return_url else None
        if location and "json" not in req.headers.get("content-type", ""):
            return Reply(303, b"", "text/plain", [(b"location", location.encode())])
        return reply

    return handler


def _challenge(kind: str) -> ControlHandler:
    def handler(emu: Emulator, req: Request) -> Reply:
        with emu.store.lock:
            intent = emu.store.get(kind, req.args[0], "intent")
            return Reply(200, challenge_page(intent), "text/html; charset=utf-8")

    return handler


def _open_dispute(emu: Emulator, req: Request) -> Reply:
    params = _as_form(req.control_body())
    with emu.store.lock:
        return json_reply(disputes.open_dispute(emu.store, req.args[0], params))


def _dispute_charge(emu: Emulator, req: Request) -> Reply:
    """`{"reason", "amount"?}`: the cardholder's bank disputes the charge."""
    params = _as_form(req.control_body())
    with emu.store.lock:
        return json_reply(disputes.open_on_charge(emu.store, req.args[0], params))


def _close_dispute(emu: Emulator, req: Request) -> Reply:
    params = _as_form(req.control_body())
    with emu.store.lock:
        return json_reply(disputes.close_dispute(emu.store, req.args[0], params))


def _as_form(body: Json) -> Json:
    """JSON numbers to the strings the form readers expect."""
    return {
        key: str(value) if isinstance(value, int | float) else value for key, value in body.items()
    }


def control_router() -> Router[ControlHandler]:
    router: Router[ControlHandler] = Router()
    router.add("GET", "/_emulator/health", _health)
    router.add("POST", "/_emulator/reset", _reset)
    router.add("POST", "/_emulator/webhook_endpoints", _add_endpoint)
    router.add("GET", "/_emulator/webhook_endpoints", _list_endpoints)
    router.add("GET", "/_emulator/webhook_deliveries", _list_deliveries)
    router.add("POST", "/_emulator/faults", _add_fault)
    router.add("GET", "/_emulator/faults", _list_faults)
    pi, seti = "/_emulator/payment_intents/{id}", "/_emulator/setup_intents/{id}"
    router.add(
        "POST",
        f"{pi}/authenticate",
        _authenticator("payment_intent", payment_outcomes.authenticate),
    )
    router.add("GET", f"{pi}/3ds", _challenge("payment_intent"))
    router.add("POST", f"{pi}/dispute", _open_dispute)
    router.add(
        "POST", f"{seti}/authenticate", _authenticator("setup_intent", setup_intents.authenticate)
    )
    router.add("GET", f"{seti}/3ds", _challenge("setup_intent"))
    router.add("POST", "/_emulator/charges/{id}/dispute", _dispute_charge)
    router.add("POST", "/_emulator/disputes/{id}/close", _close_dispute)
    return router


def run_control(emu: Emulator, router: Router[ControlHandler], req: Request) -> Reply:
    found = router.match(req.method, req.path)
    if found is None:
        return json_reply(
            ApiError(
                404,
                "invalid_request_error",
                f"Unrecognized emulator route ({req.method}: {req.path}).",
            ).body(),
            404,
        )
    handler, req.args = found
    try:
        return handler(emu, req)
    except ApiError as error:
        return json_reply(error.body(), error.status)
