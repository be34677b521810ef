"""Stripe webhook events ingested per second over HTTP on PostgreSQL: ``POST /webhooks/stripe``
with bodies signed as Stripe signs them (``t=…,v1=HMAC-SHA256``), each verified, recorded
in the inbox and acknowledged; one request in ``DUPLICATE_EVERY`` re-sends an event already
sent (a redelivery, which must be detected as a duplicate).

The server runs as a subprocess (``python -m cli.main serve``); this process is the load
generator (``bench.http_load.drive``, 32 connections). The events are of a type the product
records and acknowledges without calling Stripe (``customer.updated``), so the figure is
the ingestion path itself. Bodies are signed before the run. Bounded to ~20 s.

Besides events/s (which on a shared machine follows the load of everything else), it reports
the server process's CPU per request (``/proc``, warm-up included): the cost of the path."""

from __future__ import annotations

import json
import os
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
DRAIN_SECONDS = 60.0


def _event(n: int, run_id: str) -> str:
    event = {"id": f"evt_bench_{run_id}_{n:08d}", "object": "event", "type": "customer.updated",
             "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
             "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "data": {"object": {"id": f"cus_bench_{n % 997}", "object": "customer",
                                 "email": "ada@example.com"}}}
    return json.dumps(event, separators=(",", ":"))


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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

    separate = os.environ.get("BENCH_WEBHOOK_WORKER", "separate") == "separate"
    worker_figures: dict[str, Any] = {}
    try:
        args = ("--no-worker",) if separate else ()
        with ServerProcess(url, extra_args=args) as server:
            worker = _worker_process(url) if separate else None
            try:
                cpu_before = _cpu_seconds(server.process.pid)
                result = drive(server.base_url, make, _classify, headers={},
                               warmup=WARMUP_SECONDS, duration=DURATION_SECONDS)
                cpu = _cpu_seconds(server.process.pid) - cpu_before
                if worker is not None:
                    worker_figures = _drained(url, worker)
            finally:
                if worker is not None:
                    worker.terminate()
                    worker.wait(10)
    finally:
        database.__exit__(None, None, None)
    figures = result.figures("recorded")
    duplicates = result.outcomes.get("duplicate", 0)
    ingested = figures["recorded"] + duplicates
    return {"database": "postgresql", "endpoint": "POST /webhooks/stripe (customer.updated)",
            "worker": "its own process" if separate else "in the API process",
            **figures, "duplicates_detected": duplicates,
            "events_ingested_per_second": round(ingested / result.seconds, 1)
            if result.seconds else 0.0,
            "api_cpu_ms_per_request": round(1000 * cpu / len(sent), 3) if sent else None,
            "requests_sent": len(sent), "connections": CONNECTIONS, **worker_figures}


def _worker_process(url: str):
    import subprocess
    import sys

    from tests.e2e.http_helpers import ROOT, _base_env

    env = _base_env(CHECKOUT_SAGA_DATABASE_URL=url, STRIPE_SECRET_KEY="sk_test_bench",
                    STRIPE_API_BASE="http://127.0.0.1:9")  # these events never reach Stripe
    return subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _drained(url: str, worker) -> dict[str, Any]:
    """Wait (bounded) until the worker has applied every recorded event."""
    import psycopg

    started, cpu_before = time.monotonic(), _cpu_seconds(worker.pid)
    with psycopg.connect(url, autocommit=True) as conn:
        applied = conn.execute("SELECT COUNT(*) FROM stripe_webhook_log "
                               "WHERE applied_at IS NOT NULL").fetchone()[0]
        while time.monotonic() - started < DRAIN_SECONDS:
            left = conn.execute("SELECT COUNT(*) FROM stripe_webhook_log "
                                "WHERE applied_at IS NULL").fetchone()[0]
            if left == 0:
                break
            time.sleep(0.2)
        total = conn.execute("SELECT COUNT(*) FROM stripe_webhook_log "
                             "WHERE applied_at IS NOT NULL").fetchone()[0]
    return {"applied_during_load": applied, "left_after_load_applied_in_seconds":
            round(time.monotonic() - started, 1), "still_pending": left,
            "worker_events_applied": total,
            "worker_cpu_ms_per_event_after_load": round(
                1000 * (_cpu_seconds(worker.pid) - cpu_before) / max(total - applied, 1), 3)}

if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
