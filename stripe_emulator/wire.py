"""The raw ASGI edge: reading a request, writing (or deliberately breaking) a reply.

The emulator speaks plain ASGI rather than through a framework because two faults
need control a framework hides: holding a reply back after the work is done, and
cutting the connection half-way through a reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from stripe_emulator.config import API_VERSION
from stripe_emulator.errors import ApiError
from stripe_emulator.forms import Params, parse_form
from stripe_emulator.state import RequestContext

Json = dict[str, Any]
Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


@dataclass
class Request:
    method: str
    path: str
    query: bytes
    body: bytes
    headers: dict[str, str]
    ctx: RequestContext
    args: tuple[str, ...] = ()

    def params(self) -> Params:
        """Stripe-style parameters: the query string for GET and DELETE, the form body for POST."""
        return parse_form(self.query if self.method in ("GET", "DELETE") else self.body)

    def control_body(self) -> Json:
        """Control routes take JSON (or a form, from the 3-D Secure page)."""
        if not self.body.strip():
            return {}
        if "json" in self.headers.get("content-type", "json"):
            try:
                decoded = msgspec.json.decode(self.body)
            except msgspec.DecodeError:
                raise ApiError(400, "invalid_request_error", "Invalid JSON body.") from None
            if not isinstance(decoded, dict):
                raise ApiError(400, "invalid_request_error", "The body must be a JSON object.")
            return decoded
        return parse_form(self.body)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Headers = field(default_factory=list)


def json_reply(obj: Any, status: int = 200) -> Reply:
    return Reply(status, msgspec.json.encode(obj))


def error_reply(error: ApiError) -> Reply:
    return json_reply(error.body(), error.status)


async def read_request(scope: Scope, receive: Any, request_id: str) -> Request:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host", "127.0.0.1")
    ctx = RequestContext(
        request_id=request_id,
        idempotency_key=headers.get("idempotency-key"),
        base_url=f"http://{host}",
    )
    return Request(
        method=scope["method"].upper(),
        path=scope["path"],
        query=scope.get("query_string", b""),
        body=b"".join(chunks),
        headers=headers,
        ctx=ctx,
    )


def _head(reply: Reply, request: Request, replayed: bool) -> Headers:
    headers: Headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        (b"request-id", (request.ctx.request_id or "").encode()),
        (b"stripe-version", API_VERSION.encode()),
        *reply.headers,
    ]
    key = request.headers.get("idempotency-key")
    if key:
        headers.append((b"idempotency-key", key.encode("latin-1")))
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    return headers


async def send_reply(send: Any, reply: Reply, request: Request, *, replayed: bool = False) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": _head(reply, request, replayed),
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


async def send_truncated(send: Any, reply: Reply, request: Request) -> None:
    """Announce the whole reply, send a few bytes, then return: the server closes the
    connection and the client sees a broken read, never a complete HTTP response."""
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": _head(reply, request, False),
        }
    )
    await send({"type": "http.response.body", "body": reply.body[:1], "more_body": True})
