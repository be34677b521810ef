"""The cost of one checkout on its own path, without webhooks: ``make bench BENCH=checkout_path``.

A fresh stand as in ``bench.side_by_side`` (new PostgreSQL database, standalone emulator,
``checkout-saga serve``) except that **no webhook endpoint is registered at the emulator**, so
no webhook is delivered and the figures are those of ``POST /checkouts`` (``pm_card_visa``,
one unit) alone, plus whatever the worker process does because of it (projections, due-work
index). The checkouts are sent one after the other (``BENCH_CP_CHECKOUTS``, 200), so nothing
queues and every figure is a cost, not a wait.

PostgreSQL counts a backend's transactions in ``pg_stat_database`` when it flushes its
statistics: at most once a second while busy, and 10 s after it went idle. So every reading
is taken after ``QUIET`` seconds without requests. The background work of an idle stand
(the worker's polls) is measured over ``IDLE`` quiet seconds first and subtracted, pro rata,
from the checkouts' window; CPU likewise, from ``/proc`` (the service's process group, the
stand's PostgreSQL backends).

Figures: transactions per checkout (commits + rollbacks), CPU ms per checkout (service,
PostgreSQL backends), and the mean latency of one checkout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.load_rig import (
    ProcessGroup,
    free_port,
    fresh_database,
    postgres_cpu_seconds,
    run_once,
    transactions,
)
from bench.side_by_side_targets import (
    EMULATOR_COMMAND,
    PRODUCT_PREPARE,
    STORE_KEY,
    WEBHOOK_SECRET,
    _env,
    _product_env,
    _seed_product,
)

CHECKOUTS = int(os.environ.get("BENCH_CP_CHECKOUTS", "200"))
WARMUP = int(os.environ.get("BENCH_CP_WARMUP", "20"))
API_PROCESSES = int(os.environ.get("BENCH_CP_WORKERS", "1"))
QUIET, IDLE = 11.0, float(os.environ.get("BENCH_CP_IDLE_SECONDS", "15"))
COMMAND = os.environ.get(
    "BENCH_CP_COMMAND", ".venv/bin/checkout-saga serve --host 127.0.0.1 --port {port} --workers {n}")
SKU = "SKU-PATH"
RESULTS = Path(__file__).parent / "results" / "checkout_path.json"


def _reading(dbname: str, service: ProcessGroup) -> dict[str, float]:
    commits, rollbacks = transactions(dbname)
    backends, _ = postgres_cpu_seconds(dbname)
    return {"xacts": commits + rollbacks, "service_cpu": service.cpu_seconds(),
            "pg_cpu": backends, "at": time.monotonic()}


def _profiler(service: ProcessGroup) -> subprocess.Popen | None:
    """``BENCH_CP_PYSPY=FILE``: py-spy samples every process of the service over the
    checkouts (collapsed stacks, ``--format raw``); it adds CPU of its own to the figures."""
    output = os.environ.get("BENCH_CP_PYSPY")
    if not output:
        return None
    profiler = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(service.pgid), "--subprocesses",
                                 "--format", "raw", "--rate", "200", "--gil", "-o", output],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    return profiler


def _checkout(client: httpx.Client, base_url: str) -> None:
    response = client.post(f"{base_url}/checkouts", headers={"Authorization": f"Bearer {STORE_KEY}"},
                           json={"checkout_session_id": f"cs_path_{uuid.uuid4().hex}",
                                 "currency": "usd",
                                 "customer": {"id": "cus_bench", "email": "ada@example.com"},
                                 "items": [{"sku": SKU, "quantity": 1}],
                                 "payment_method": "pm_card_visa"})
    if response.status_code != 201 or response.json().get("status") != "completed":
        raise RuntimeError(f"checkout not completed: {response.status_code} {response.text[:300]}")


def run() -> dict[str, Any]:
    with fresh_database("bench_path") as (dbname, database_url):
        port, emulator_port = free_port(), free_port()
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        base_url = f"http://127.0.0.1:{port}"
        emulator = ProcessGroup("emulator", EMULATOR_COMMAND.format(port=emulator_port),
                                _env(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET),
                                f"{emulator_url}/_emulator/health")
        env = _product_env(database_url, emulator_url)
        service = ProcessGroup("product", COMMAND.format(port=port, n=API_PROCESSES), env,
                               f"{base_url}/readyz")
        try:
            emulator.start()
            run_once("prepare", PRODUCT_PREPARE, env)
            service.start(timeout=60)  # no webhook endpoint at the emulator: none is delivered
            _seed_product(base_url, {SKU: 1_000_000})
            with httpx.Client(timeout=30) as client:
                for _ in range(WARMUP):
                    _checkout(client, base_url)
                time.sleep(QUIET)
                quiet = _reading(dbname, service)
                time.sleep(IDLE)
                idle = _reading(dbname, service)
                profiler = _profiler(service)
                started = time.perf_counter()
                for _ in range(CHECKOUTS):
                    _checkout(client, base_url)
                busy = time.perf_counter() - started
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)
                    profiler.wait(timeout=60)
                time.sleep(QUIET)
                end = _reading(dbname, service)
        finally:
            service.stop()
            emulator.stop()
    rate = {k: (idle[k] - quiet[k]) / (idle["at"] - quiet["at"]) for k in ("xacts", "service_cpu", "pg_cpu")}
    span = end["at"] - idle["at"]

    def per_checkout(key: str, scale: float = 1.0) -> float:
        return round((end[key] - idle[key] - rate[key] * span) * scale / CHECKOUTS, 2)

    figures = {
        "checkouts": CHECKOUTS, "api_processes": API_PROCESSES,
        "transactions_per_checkout": per_checkout("xacts"),
        "service_cpu_ms_per_checkout": per_checkout("service_cpu", 1000),
        "postgres_cpu_ms_per_checkout": per_checkout("pg_cpu", 1000),
        "mean_latency_ms": round(1000 * busy / CHECKOUTS, 1),
        "idle_transactions_per_second": round(rate["xacts"], 2),
        "idle_service_cpu_ms_per_second": round(1000 * rate["service_cpu"], 1),
        "load_average": os.getloadavg()[0],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2), flush=True)
    return figures


if __name__ == "__main__":
    run()
