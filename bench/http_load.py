"""Completed checkouts per second over HTTP, and p50/p99 latency of ``POST /checkouts``.

The real server (``python -m cli.main serve``) runs as a subprocess on PostgreSQL; the
Stripe emulator runs in its own process (``stripe-emulator``); this process is the load
generator: ``CONNECTIONS`` asyncio workers on one httpx client (one keep-alive connection
each) POST checkouts with ``pm_card_visa`` for ``DURATION`` seconds after a warm-up.
Everything on 127.0.0.1; bounded to ~30 s."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

CONNECTIONS = 32
WARMUP_SECONDS = 2.0
DURATION_SECONDS = 10.0
SKUS = 64
STOCK_PER_SKU = 1_000_000


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def figures(self, ok: str) -> dict[str, Any]:
        done = self.outcomes.get(ok, 0)
        return {
            "connections": CONNECTIONS, "seconds": round(self.seconds, 2),
            "requests": len(self.latencies), f"{ok}": done,
            f"{ok}_per_second": round(done / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": _percentile(self.latencies, 50), "p99_ms": _percentile(self.latencies, 99),
            "outcomes": dict(self.outcomes), "errors": dict(self.errors),
        }


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index] * 1000, 2)


RequestFactory = Callable[[int], tuple[str, str, dict[str, Any]]]
"""n -> (method, path, httpx request kwargs) of the n-th request."""


async def _drive(base_url: str, make: RequestFactory, classify: Callable[[httpx.Response], str],
                 headers: dict[str, str], connections: int, warmup: float, duration: float,
                 ) -> LoadResult:
    result = LoadResult()
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=30) as client:
        start = time.perf_counter()
        measure_from, stop_at = start + warmup, start + warmup + duration

        async def worker() -> None:
            while (now := time.perf_counter()) < stop_at:
                method, path, kwargs = make(next(counter))
                try:
                    response = await client.request(method, path, **kwargs)
                    outcome = classify(response)
                except httpx.HTTPError as exc:
                    outcome, response = None, None
                    if now >= measure_from:
                        result.errors[type(exc).__name__] += 1
                end = time.perf_counter()
                if now >= measure_from and end <= stop_at and outcome is not None:
                    result.latencies.append(end - now)
                    result.outcomes[outcome] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        result.seconds = min(time.perf_counter(), stop_at) - measure_from
    return result


def drive(base_url: str, make: RequestFactory, classify: Callable[[httpx.Response], str], *,
          headers: dict[str, str], connections: int = CONNECTIONS, warmup: float = WARMUP_SECONDS,
          duration: float = DURATION_SECONDS) -> LoadResult:
    """Closed-loop load: ``connections`` concurrent requests for ``warmup + duration`` s;
    only requests that start after the warm-up and end before the stop are counted."""
    return asyncio.run(_drive(base_url, make, classify, headers, connections, warmup, duration))


def _seed(shop) -> list[str]:
    return [shop.product(stock=STOCK_PER_SKU, unit_amount=1000) for _ in range(SKUS)]


def _checkout_outcome(response: httpx.Response) -> str:
    if response.status_code >= 400:
        try:
            return f"{response.status_code}:{response.json().get('code')}"
        except ValueError:
            return str(response.status_code)
    return response.json().get("status", str(response.status_code))


def run() -> dict[str, Any]:
    from tests.e2e.http_helpers import (
        STORE_KEY,
        EmulatorControl,
        EmulatorProcess,
        ServerProcess,
        Shop,
        Unavailable,
        checkout_body,
        postgres_database,
    )

    try:
        database = postgres_database()
        url = database.__enter__()
    except Unavailable as exc:
        return {"skipped": str(exc)}
    try:
        # the load comes from one storefront key: measure the saga, not the write limit (§3.10)
        unlimited = {"CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE": "0"}
        with EmulatorProcess() as emulator, ServerProcess(url, stripe_api_base=emulator.base_url,
                                                          extra_env=unlimited) as server:
            control = EmulatorControl(emulator.base_url)
            control.register_webhook_endpoint(server.webhook_url)
            control.close()
            shop = Shop(server.base_url)
            skus = _seed(shop)
            shop.close()
            run_id = uuid.uuid4().hex[:8]

            def make(n: int) -> tuple[str, str, dict[str, Any]]:
                body = checkout_body(f"cs_load_{run_id}_{n:08d}", skus[n % len(skus)])
                return "POST", "/checkouts", {"json": body}

            cpu_before = time.process_time()
            result = drive(server.base_url, make, _checkout_outcome,
                           headers={"Authorization": f"Bearer {STORE_KEY}"})
            generator_cpu = time.process_time() - cpu_before
    finally:
        database.__exit__(None, None, None)
    return {"database": "postgresql", "endpoint": "POST /checkouts (pm_card_visa)",
            **result.figures("completed"),
            "load_generator_cpu_seconds": round(generator_cpu, 2)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
