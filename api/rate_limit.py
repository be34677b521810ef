"""Rate limit of storefront writes (CONTRACT §3.10): over ``CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE``
writes per API key in a minute, ``429 rate_limited`` with ``Retry-After``.

Counted: POST/PUT/PATCH/DELETE made with a storefront key. Never counted: webhooks (signed,
no key), health and metrics (reads), admin keys, and requests without a valid key (they get
their 401 as before). With ``CHECKOUT_SAGA_REDIS_URL`` the count is shared by every API
process on every machine; without it each of this machine's N API processes
(``CHECKOUT_SAGA_WORKERS``) allows ``ceil(limit / N)``, so the machine's total stays within
the limit. Should Redis fail, the process falls back to its local share (logged) rather
than refuse or wave through every write."""

from __future__ import annotations

import hmac
import math
from typing import Any, Protocol

import msgspec
import structlog

from adapters.rate_limits import LocalWindow, RedisWindow, Verdict
from api.auth import Keys, key_id
from api.problems import PROBLEM_JSON, problem_body

log = structlog.get_logger("api.rate_limit")

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NEVER_LIMITED = ("/webhooks/", "/healthz", "/readyz", "/metrics")


class Counter(Protocol):
    async def hit(self, key: str, limit: int) -> Verdict: ...


class RateLimit:
    """What is counted and against which limit; ``shared`` counts for every process,
    ``local`` for this one (limit ÷ N, rounded up)."""

    def __init__(self, *, per_minute: int, processes: int, keys: Keys,
                 shared: Counter | None = None, local: Counter | None = None) -> None:
        self.per_minute = per_minute
        self.local_limit = math.ceil(per_minute / max(1, processes))
        self.keys = keys
        self.shared = shared
        self.local = local or LocalWindow()

    @classmethod
    def from_settings(cls, settings: Any, keys: Keys) -> RateLimit | None:
        per_minute = getattr(settings, "rate_limit_per_minute", 1200)
        if not per_minute:
            return None  # 0: no limit
        redis_url = getattr(settings, "redis_url", None)
        return cls(per_minute=per_minute, processes=getattr(settings, "workers", 1) or 1, keys=keys,
                   shared=RedisWindow(redis_url) if redis_url else None)

    def key_of(self, scope: dict) -> str | None:
        """The counted identity of a storefront write (a hash of the key), else None."""
        if scope["type"] != "http" or scope["method"] not in WRITES:
            return None
        if scope["path"].startswith(NEVER_LIMITED):
            return None
        token = _bearer(scope)
        if token is None or not _matches(token, self.keys.storefront) or _matches(token, self.keys.admin):
            return None
        return key_id(token)

    async def close(self) -> None:
        close = getattr(self.shared, "close", None)
        if close is not None:
            await close()

    async def verdict(self, key: str) -> Verdict:
        if self.shared is not None:
            try:
                return await self.shared.hit(key, self.per_minute)
            except Exception as exc:  # noqa: BLE001 — Redis down: fall back to the local share
                log.warning("rate_limit_store_unavailable", error=type(exc).__name__)
        return await self.local.hit(key, self.local_limit)


def rate_limit_middleware(limit: RateLimit):
    """An ASGI middleware factory for litestar's ``middleware=[...]``."""

    def middleware(app):
        async def limited(scope, receive, send) -> None:
            key = limit.key_of(scope)
            if key is not None:
                verdict = await limit.verdict(key)
                if not verdict.allowed:
                    await _too_many(send, verdict)
                    return
            await app(scope, receive, send)

        return limited

    return middleware


def _matches(token: str, keys: tuple[str, ...]) -> bool:
    found = False
    for key in keys:  # constant time, as in api.auth
        found |= hmac.compare_digest(token.encode(), key.encode())
    return found


def _bearer(scope: dict) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


async def _too_many(send, verdict: Verdict) -> None:
    body = msgspec.json.encode(problem_body(
        429, "rate_limited", f"too many write requests for this API key; retry in {verdict.retry_after} s"))
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(verdict.retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})
