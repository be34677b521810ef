"""Fixed-window request counters for the API's rate limit (CONTRACT §3.10).

``RedisWindow`` shares one count per key and minute among every process on every machine:
``INCR`` and ``EXPIRE`` run in one MULTI/EXEC, so concurrent requests never read a stale
count (the total allowed in a window never exceeds the limit). ``LocalWindow`` counts in
this process only; the API gives each of its N processes ``ceil(limit / N)``.

Litestar's own ``RateLimitMiddleware`` stores a list of timestamps with a read-then-write
guarded by an in-process lock, which with a shared store lets two processes both see room
for the last request; hence this small counter."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_SECONDS = 60
KEY_PREFIX = "checkout-saga:rate:"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # whole seconds until the window ends (at least 1)


def _window(now: float) -> tuple[int, int]:
    """(window index, seconds until it ends, at least 1)."""
    index = int(now // WINDOW_SECONDS)
    return index, max(1, math.ceil((index + 1) * WINDOW_SECONDS - now))


@dataclass
class LocalWindow:
    """Counts of this process only."""

    clock: Callable[[], float] = time.time
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def hit(self, key: str, limit: int) -> Verdict:
        index, left = _window(self.clock())
        with self._lock:
            window, count = self._counts.get(key, (index, 0))
            count = (count if window == index else 0) + 1
            self._counts[key] = (index, count)
            if len(self._counts) > 10_000:  # forget other keys' past windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
        return Verdict(allowed=count <= limit, count=count, retry_after=left)


class RedisWindow:
    """One count per key and window in Redis, shared by every API process."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        from redis.asyncio import Redis

        self.client = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.clock = clock

    async def hit(self, key: str, limit: int) -> Verdict:
        index, left = _window(self.clock())
        name = f"{KEY_PREFIX}{key}:{index}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return Verdict(allowed=int(count) <= limit, count=int(count), retry_after=left)

    async def close(self) -> None:
        await self.client.aclose()
