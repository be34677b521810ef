"""Round trips per second to the Stripe emulator through the real SDK (``stripe.StripeClient``).

The emulator runs in its own process (``stripe-emulator`` on 127.0.0.1); this process makes
the calls the saga makes for one paid checkout — create-and-confirm with ``pm_card_visa``
(manual capture, idempotency key) and capture — from 1 and from 8 threads, for a few seconds
each. No webhook endpoint is registered, so delivery costs nothing. Bounded to ~20 s."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import stripe

SECONDS_PER_RUN = 5.0
THREADS = (1, 8)


def _client(base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_bench", base_addresses={"api": base_url}, max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=10))


def _measure(base_url: str, threads: int, seconds: float) -> dict[str, Any]:
    local = threading.local()
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def loop() -> int:
        client = getattr(local, "client", None) or _client(base_url)
        local.client = client
        trips = 0
        while time.perf_counter() < stop_at:
            key = uuid.uuid4().hex
            began = time.perf_counter()
            intent = client.v1.payment_intents.create(
                params={"amount": 1000, "currency": "usd", "capture_method": "manual",
                        "payment_method_types": ["card"], "payment_method": "pm_card_visa",
                        "confirm": True, "metadata": {"checkout_id": f"chk_{key}"}},
                options={"idempotency_key": f"{key}:create"})
            middle = time.perf_counter()
            client.v1.payment_intents.capture(intent.id, options={"idempotency_key": f"{key}:capture"})
            ended = time.perf_counter()
            with lock:
                latencies.extend((middle - began, ended - middle))
            trips += 2
        return trips

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        trips = sum(pool.map(lambda _: loop(), range(threads)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"threads": threads, "round_trips": trips, "seconds": round(elapsed, 2),
            "round_trips_per_second": round(trips / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2) if latencies else None}


def run() -> dict[str, Any]:
    from tests.e2e.http_helpers import EmulatorProcess

    with EmulatorProcess() as emulator:
        _measure(emulator.base_url, 1, 0.5)  # warm-up: connections, imports, first objects
        runs = [_measure(emulator.base_url, threads, SECONDS_PER_RUN) for threads in THREADS]
    return {"calls": "payment_intents.create(confirm) + capture, pm_card_visa, idempotency keys",
            "runs": runs}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
