"""Bearer-key guards: storefront keys for §3.1–3.3 reads and checkout writes, admin keys
for everything. Keys are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.problems import ApiError


@dataclass(frozen=True)
class Keys:
    storefront: tuple[str, ...]
    admin: tuple[str, ...]


def _bearer(connection: ASGIConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _matches(token: str, keys: tuple[str, ...]) -> bool:
    found = False
    for key in keys:  # no early exit: the time taken does not depend on which key matched
        found |= hmac.compare_digest(token.encode(), key.encode())
    return found


def key_id(token: str) -> str:
    """A non-secret identity for a key, for audit (who did it)."""
    return "key_" + hashlib.sha256(token.encode()).hexdigest()[:12]


def caller(connection: ASGIConnection) -> tuple[str, str]:
    """(role, key id) of the caller; raises 401 when the key is missing or unknown."""
    keys: Keys = connection.app.state.api_keys
    token = _bearer(connection)
    if token is not None and _matches(token, keys.admin):
        return "admin", key_id(token)
    if token is not None and _matches(token, keys.storefront):
        return "storefront", key_id(token)
    raise ApiError(401, "unauthorized", "a valid API key is required (Authorization: Bearer ...)")


# Guards are coroutines although they only compute: litestar runs a plain function guard in a
# worker thread (a thread hop and a future per request, on the event loop's CPU).
async def storefront_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    caller(connection)


async def admin_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    role, _id = caller(connection)
    if role != "admin":
        raise ApiError(403, "forbidden", "this route needs an admin key")
