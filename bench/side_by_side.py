"""The product beside a minimal reference doing the same external work (issue 10, "Measure"),
in one run: ``make bench BENCH=side_by_side``.

For each phase, for the product then the reference, a fresh stand (``side_by_side_targets``:
new PostgreSQL database, new standalone emulator delivering webhooks to the service, the
service) is started, seeded and loaded by ``wrk`` (scripts in ``bench/wrk/``):

- ``checkouts``: 8 SKUs with ample stock; a warm-up, then ``wrk -c32``; every request is a new
  checkout session of one unit. Completed checkouts are counted in the database (not from
  wrk's answers) at the window's start and end; CPU seconds per process group (the service's
  group with all its children, the emulator's, the PostgreSQL backends connected to the
  stand's database) from ``/proc`` over the same window. Afterwards, once the emulator's
  delivery log stops growing (``BENCH_SBS_DRAIN_SECONDS`` at most), the service is stopped
  and the database's transactions (commits + rollbacks, ``pg_stat_database``) are divided by
  every checkout completed on the stand (sample and warm-up included, as are the seeding's
  few transactions, the service's background work, and only the webhooks delivered by then:
  ``webhook_deliveries_by_stop`` of ``webhook_deliveries_owed``).
  Webhook deliveries per checkout are counted on a quiet sample before the warm-up
  (``SAMPLE_CHECKOUTS`` one after the other). The emulator delivers to an endpoint one
  request at a time from one thread, so under load its deliveries trail far behind the
  checkouts and the window's CPU holds few of them (``webhook_deliveries_in_window_per_checkout``).
  So the CPU per delivery is also measured while the backlog drains after the load (an upper
  bound: background work runs too), and ``cpu_ms_per_checkout_with_its_webhooks`` adds the
  deliveries missing from the window at that price.
- ``flash_sale``: 100 units of one SKU, warm-up on another SKU, then ``wrk -c64``: units sold
  (the product's ``GET /inventory/{sku}`` once steady; the reference's stock row), answers by
  status and problem ``code``, latency.
- ``webhook_ingest``: ``wrk -c32`` posting pre-signed ``customer.updated`` events to
  ``/webhooks/stripe``: events acknowledged per second.

Durations: ``BENCH_SBS_SECONDS`` (10 per measured run), ``BENCH_SBS_WARMUP_SECONDS`` (2),
``BENCH_SBS_DRAIN_SECONDS`` (5); ``BENCH_SBS_PHASES`` and ``BENCH_SBS_TARGETS``
(comma-separated) select a part. Figures go to ``bench/results/side_by_side.json`` and a
table (product | reference | ratio | target) to stdout. Needs ``wrk`` and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import stripe

from bench.load_rig import machine_cpu_seconds, run_wrk
from bench.side_by_side_report import render_table
from bench.side_by_side_targets import TARGETS, WEBHOOK_SECRET, Stand, Target, stand

SECONDS = float(os.environ.get("BENCH_SBS_SECONDS", "10"))
WARMUP_SECONDS = float(os.environ.get("BENCH_SBS_WARMUP_SECONDS", "2"))
DRAIN_SECONDS = float(os.environ.get("BENCH_SBS_DRAIN_SECONDS", "5"))
CONNECTIONS, FLASH_CONNECTIONS, FLASH_UNITS, THREADS = 32, 64, 100, 2
SKUS = [f"SKU-BENCH-{n}" for n in range(8)]
GROUPS = ("service", "emulator", "postgres_backends", "postgres_all")
SAMPLE_CHECKOUTS = 10  # one after the other, to count the webhooks one checkout causes
RESULTS = Path(__file__).parent / "results" / "side_by_side.json"


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000, 1)


def _window(stand: Stand, run: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """wrk figures and the deltas of the stand's counters over the run (and ``after``, the
    counters at its end)."""
    busy0, total0 = machine_cpu_seconds()
    before = stand.snapshot()
    figures = run()
    after = stand.snapshot()
    busy1, total1 = machine_cpu_seconds()
    delta = {k: after[k] - before[k] for k in before}
    span = total1 - total0
    ours = sum(delta[g] for g in ("service", "emulator", "postgres_backends"))
    ours += figures.get("load_generator_cpu_seconds", 0.0)
    delta["machine_busy_fraction"] = (busy1 - busy0) / span if span > 0 else 0.0
    delta["others_busy_fraction"] = (busy1 - busy0 - ours) / span if span > 0 else 0.0
    delta["after"] = after
    return figures, delta


def _latency(wrk: dict[str, Any]) -> dict[str, Any]:
    lat = wrk["latency_us"]
    return {"requests": wrk["requests"], "p50_ms": _ms(lat.get("p50")),
            "p99_ms": _ms(lat.get("p99")), "max_ms": _ms(lat.get("max")),
            "outcomes": wrk["outcomes"],  # wrk's "status" errors are the non-2xx outcomes
            "wrk_errors": {k: v for k, v in wrk["errors"].items() if v and k != "status"}}


def checkouts(target: Target) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    with stand(target) as s:
        target.seed(s.base_url, {sku: 1_000_000 for sku in SKUS})

        def load(tag: str, seconds: float) -> dict[str, Any]:
            return run_wrk(s.base_url, "checkouts.lua", [f"{run_id}{tag}", target.store_key,
                           ",".join(SKUS)], connections=CONNECTIONS, seconds=seconds,
                           threads=THREADS)

        webhooks = s.deliveries_per_checkout(SKUS[0], SAMPLE_CHECKOUTS) or 0.0
        first = s.snapshot()
        if WARMUP_SECONDS > 0:
            load("w", WARMUP_SECONDS)
        wrk, delta = _window(s, lambda: load("m", SECONDS))
        end = delta.pop("after")
        owed = first["deliveries"] + round(webhooks * (end["completed"] - first["completed"]))
        s.settle(owed, DRAIN_SECONDS)
        drained = s.snapshot()
        commits, rollbacks = s.stop_service()
    seconds, done, total = wrk["duration_us"] / 1e6, int(delta["completed"]), drained["completed"]
    drain_deliveries = int(drained["deliveries"] - end["deliveries"])

    def per(value: float, count: float, scale: float = 1000.0) -> float | None:
        return round(value * scale / count, 2) if count else None

    window = {group: per(delta[group], done) for group in GROUPS}
    per_webhook = {group: per(drained[group] - end[group], drain_deliveries) for group in GROUPS}
    missing = webhooks - delta["deliveries"] / done if done else 0.0
    return {
        "connections": CONNECTIONS, "seconds": round(seconds, 2), "completed": done,
        "completed_per_second": round(done / seconds, 1), **_latency(wrk),
        "cpu_ms_per_checkout": window | {"load_generator": per(wrk["load_generator_cpu_seconds"],
                                                              done)},
        "cpu_ms_per_webhook_delivery_after_load": per_webhook,
        "cpu_ms_per_checkout_with_its_webhooks": {
            group: round(window[group] + missing * (per_webhook[group] or 0.0), 2)
            if window[group] is not None else None for group in GROUPS},
        "machine_busy_percent": round(100 * delta["machine_busy_fraction"], 1),
        "machine_busy_percent_not_this_stand": round(100 * delta["others_busy_fraction"], 1),
        "completed_on_stand": int(total),
        "transactions_per_checkout": per(commits + rollbacks, total, 1.0),
        "commits": commits, "rollbacks": rollbacks,
        "webhook_deliveries_per_checkout": webhooks,
        "webhook_deliveries_in_window_per_checkout": per(delta["deliveries"], done, 1.0),
        "webhook_deliveries_by_stop": int(drained["deliveries"]),
        "webhook_deliveries_owed": owed,
    }


def flash_sale(target: Target) -> dict[str, Any]:
    run_id, flash, warm = uuid.uuid4().hex[:8], "SKU-FLASH", "SKU-WARM"
    with stand(target) as s:
        target.seed(s.base_url, {flash: FLASH_UNITS, warm: 1_000_000})
        if WARMUP_SECONDS > 0:
            run_wrk(s.base_url, "checkouts.lua", [f"{run_id}w", target.store_key, warm],
                    connections=CONNECTIONS, seconds=WARMUP_SECONDS, threads=THREADS)
        wrk = run_wrk(s.base_url, "checkouts.lua", [f"{run_id}f", target.store_key, flash],
                      connections=FLASH_CONNECTIONS, seconds=SECONDS, threads=THREADS)
        sold = s.sold(flash)
    refusals = {k: v for k, v in wrk["outcomes"].items() if not k.startswith("2")}
    return {"units": FLASH_UNITS, "connections": FLASH_CONNECTIONS, "sold": sold,
            "completed_answers": wrk["outcomes"].get("201:completed", 0),
            "refusals_by_code": refusals, **_latency(wrk)}


def _signed_events(directory: Path, per_thread: int) -> None:
    """``events_N.txt`` per wrk thread: ``Stripe-Signature<TAB>body`` lines, ids unique."""
    stamp, run_id = int(time.time()), uuid.uuid4().hex[:8]
    for thread in range(THREADS):
        lines = []
        for n in range(per_thread):
            body = json.dumps({
                "id": f"evt_sbs_{run_id}_{thread}_{n:07d}", "object": "event",
                "type": "customer.updated", "api_version": "2026-10-28.endive",
                "created": stamp, "livemode": False, "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": {"id": f"cus_bench_{n % 997}", "object": "customer",
                                    "email": "ada@example.com"}}}, separators=(",", ":"))
            header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET, stamp)
            lines.append(f"{header}\t{body}\n")
        (directory / f"events_{thread}.txt").write_text("".join(lines))


def webhook_ingest(target: Target) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_sbs_") as tmp, stand(target) as s:
        warm, main = Path(tmp, "warm"), Path(tmp, "main")
        warm.mkdir()
        main.mkdir()
        _signed_events(warm, 2000)
        _signed_events(main, int(8000 * SECONDS / THREADS) + 1000)  # ample at 8,000/s
        if WARMUP_SECONDS > 0:
            run_wrk(s.base_url, "webhooks.lua", [str(warm)], connections=CONNECTIONS,
                    seconds=WARMUP_SECONDS, threads=THREADS)
        wrk, delta = _window(s, lambda: run_wrk(s.base_url, "webhooks.lua", [str(main)],
                                                connections=CONNECTIONS, seconds=SECONDS,
                                                threads=THREADS))
    seconds = wrk["duration_us"] / 1e6
    outcomes = wrk["outcomes"]
    acknowledged = outcomes.get("200:recorded", 0) + outcomes.get("200:duplicate", 0)
    return {"connections": CONNECTIONS, "seconds": round(seconds, 2),
            "events_per_second": round(acknowledged / seconds, 1), **_latency(wrk),
            "service_cpu_ms_per_event": round(1000 * delta["service"] / acknowledged, 3)
            if acknowledged else None}


PHASES = {"checkouts": checkouts, "flash_sale": flash_sale, "webhook_ingest": webhook_ingest}


def _selected(variable: str, known: dict[str, Any]) -> list[str]:
    names = [n.strip() for n in os.environ.get(variable, ",".join(known)).split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{variable}: unknown {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # so that every stand's finally stops its processes and database


def run() -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (Debian: apt-get install -y wrk)"}
    phases, targets = _selected("BENCH_SBS_PHASES", PHASES), _selected("BENCH_SBS_TARGETS", TARGETS)
    previous = signal.signal(signal.SIGTERM, _terminate)
    results: dict[str, Any] = {"machine_cpus": os.cpu_count(), "seconds_per_run": SECONDS}
    try:
        for phase in phases:
            for name in targets:
                started = time.perf_counter()
                try:
                    figures = PHASES[phase](TARGETS[name])
                except Exception as exc:  # noqa: BLE001 - one phase failing must not hide the others
                    figures = {"error": f"{type(exc).__name__}: {exc}"}
                figures["phase_seconds"] = round(time.perf_counter() - started, 1)
                results.setdefault(phase, {})[name] = figures
    finally:
        signal.signal(signal.SIGTERM, previous)
    table, verdicts = render_table(results)
    results["targets"] = verdicts
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(table, flush=True)
    return results


if __name__ == "__main__":
    run()
