"""The ASGI application: authentication, faults and idempotency around the `/v1`
handlers, and the `/_emulator` control routes beside them.

Order of a `/v1` request, as Stripe's own layers do it: authenticate; injected
`error_500`/`rate_limit` (nothing happens, nothing stored); idempotency (replay, reuse
error, or in-use conflict); the handler under the store lock; then the reply, maybe
held back (`timeout`) or cut (`drop_response`) after the effect is stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import structlog

from stripe_emulator.api_routes import ApiHandler, api_router
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.control import control_router, run_control
from stripe_emulator.emulator import Emulator
from stripe_emulator.errors import (
    ApiError,
    api_error,
    authentication_error,
    not_found_route,
    rate_limited,
)
from stripe_emulator.expansion import expand
from stripe_emulator.faults import Fault
from stripe_emulator.forms import get_expand
from stripe_emulator.idempotency import StoredReply, fingerprint
from stripe_emulator.ids import new_id
from stripe_emulator.routing import Router
from stripe_emulator.wire import (
    Reply,
    Request,
    error_reply,
    json_reply,
    read_request,
    send_reply,
    send_truncated,
)

log = structlog.get_logger()


class EmulatorApp:
    """ASGI callable; `emulator` is its state, for the server and tests."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.emulator = Emulator(config)
        self._api: Router[ApiHandler] = api_router(self.emulator.webhooks)
        self._control = control_router()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        req = await read_request(scope, receive, new_id("req"))
        if req.path.startswith("/_emulator/"):
            reply = await asyncio.to_thread(run_control, self.emulator, self._control, req)
            await send_reply(send, reply, req)
            return
        await self._serve_api(req, send, receive)

    async def _hold_reply(
        self, receive: Any, delay: float, key: str | None, stored: StoredReply | None
    ) -> None:
        """Keep the reply (and the idempotency key, as in use) for `delay` seconds. If the
        client hangs up first, stop waiting on it but keep the key busy until the end."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + delay
        try:
            await asyncio.wait_for(_disconnected(receive), timeout=delay)
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            ends = loop.time()  # the server is stopping: reply (to no one) now
        if key is None:
            return
        remaining = ends - loop.time()
        if remaining > 0:
            loop.call_later(remaining, self.emulator.keys.finish, key, stored)
        else:
            self.emulator.keys.finish(key, stored)

    async def _serve_api(self, req: Request, send: Any, receive: Any) -> None:
        early = _authenticate(req)
        fault = None if early else self.emulator.faults.take_request_fault(req.method, req.path)
        if fault is not None:
            log.info("stripe_emulator.fault", fault=fault.fault, method=req.method, path=req.path)
            early = _refusal(fault)
        key = req.headers.get("idempotency-key") if req.method == "POST" else None
        if early is None and key:
            try:
                stored = self.emulator.keys.begin(key, fingerprint(req.method, req.path, req.body))
            except ApiError as error:
                early = error
            else:
                if stored is not None:
                    await send_reply(send, Reply(stored.status, stored.body), req, replayed=True)
                    return
        if early is not None:
            await send_reply(send, error_reply(early), req)
            return
        reply, storable = self._execute(req)
        stored = StoredReply(reply.status, reply.body) if storable else None
        if fault is not None and fault.fault == "timeout":
            await self._hold_reply(receive, fault.delay_seconds, key, stored)
        elif key:
            self.emulator.keys.finish(key, stored)
        if fault is not None and fault.fault == "drop_response":
            await send_truncated(send, reply, req)
            return
        await send_reply(send, reply, req)

    def _execute(self, req: Request) -> tuple[Reply, bool]:
        """Run the handler; the reply and whether Stripe would store it for the key."""
        found = self._api.match(req.method, req.path)
        if found is None:
            return error_reply(not_found_route(req.method, req.path)), False
        handler, args = found
        req = replace(req, args=args)
        store = self.emulator.store
        with store.lock:
            try:
                params = req.params()
                paths = get_expand(params)
                return json_reply(expand(store, handler(store, req, params), paths)), True
            except ApiError as error:
                return error_reply(error), error.replayable

    def close(self) -> None:
        self.emulator.close()


def _authenticate(req: Request) -> ApiError | None:
    auth = req.headers.get("authorization", "")
    scheme, _, key = auth.partition(" ")
    if not auth or scheme.lower() != "bearer" or not key:
        return authentication_error(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        )
    if not key.startswith("sk_test_"):
        return authentication_error(f"Invalid API Key provided: {key[:8]}***")
    return None


def _refusal(fault: Fault) -> ApiError | None:
    if fault.fault == "error_500":
        return api_error()
    if fault.fault == "rate_limit":
        return rate_limited()
    return None


async def _disconnected(receive: Any) -> None:
    """Returns when the client has gone (the request body is already read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_emulator_app(
    webhook_secret: str | None = None,
    webhook_url: str | None = None,
    *,
    config: EmulatorConfig | None = None,
) -> EmulatorApp:
    """The emulator as an ASGI app; `config` sets everything else (delays, clock)."""
    base = config or EmulatorConfig()
    return EmulatorApp(
        replace(
            base,
            webhook_secret=webhook_secret or base.webhook_secret,
            webhook_url=webhook_url or base.webhook_url,
        )
    )
