"""Stripe webhook events ingested per second over HTTP on PostgreSQL: ``POST /webhooks/stripe``
with bodies signed as Stripe signs them (``t=…,v1=HMAC-SHA256``), each verified, recorded
in the inbox and acknowledged; one request in ``DUPLICATE_EVERY`` re-sends an event already
sent (a redelivery, which must be detected as a duplicate).

The server runs as a subprocess (``python -m cli.main serve``); this process is the load
generator (``bench.http_load.drive``, 32 connections). The events are of a type the product
records and acknowledges without calling Stripe (``customer.updated``), so the figure is
the ingestion path itself. Bodies are signed before the run. Bounded to ~20 s."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import stripe

from bench.http_load import CONNECTIONS, drive

WARMUP_SECONDS = 2.0
DURATION_SECONDS = 8.0
PREPARED = 40_000
DUPLICATE_EVERY = 10


def _event(n: int, run_id: str) -> str:
    event = {"id": f"evt_bench_{run_id}_{n:08d}", "object": "event", "type": "customer.updated",
             "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
             "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "data": {"object": {"id": f"cus_bench_{n % 997}", "object": "customer",
                                 "email": "ada@example.com"}}}
    return json.dumps(event, separators=(",", ":"))


def _classify(response: httpx.Response) -> str:
    if response.status_code != 200:
        return str(response.status_code)
    return "duplicate" if response.json().get("duplicate") else "recorded"


def run() -> dict[str, Any]:
    from tests.e2e.http_helpers import WEBHOOK_SECRET, ServerProcess, Unavailable, postgres_database

    try:
        database = postgres_database()
        url = database.__enter__()
    except Unavailable as exc:
        return {"skipped": str(exc)}
    run_id = uuid.uuid4().hex[:8]
    stamp = int(time.time())
    payloads = [_event(n, run_id) for n in range(PREPARED)]
    headers = [stripe.WebhookSignature.generate_signature_header(p, WEBHOOK_SECRET, stamp)
               for p in payloads]
    fresh = iter(range(PREPARED))
    sent: list[int] = []

    def make(n: int) -> tuple[str, str, dict[str, Any]]:
        index = sent[n // 2 % len(sent)] if sent and n % DUPLICATE_EVERY == 0 else next(fresh)
        sent.append(index)
        return "POST", "/webhooks/stripe", {
            "content": payloads[index],
            "headers": {"Stripe-Signature": headers[index], "Content-Type": "application/json"}}

    try:
        with ServerProcess(url) as server:
            result = drive(server.base_url, make, _classify, headers={},
                           warmup=WARMUP_SECONDS, duration=DURATION_SECONDS)
    finally:
        database.__exit__(None, None, None)
    figures = result.figures("recorded")
    duplicates = result.outcomes.get("duplicate", 0)
    ingested = figures["recorded"] + duplicates
    return {"database": "postgresql", "endpoint": "POST /webhooks/stripe (customer.updated)",
            **figures, "duplicates_detected": duplicates,
            "events_ingested_per_second": round(ingested / result.seconds, 1)
            if result.seconds else 0.0,
            "connections": CONNECTIONS}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
