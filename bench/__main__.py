"""`make bench`: component and end-to-end benchmarks. Each writes its figures into
bench/results/latest.json and stdout; nothing is asserted. Every bench is bounded in time
and sends traffic only to 127.0.0.1. Run one with `python -m bench NAME ...`."""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
import time
import traceback

BENCHES = {
    "saga_throughput": "bench.saga_throughput:run_saga_throughput",
    "event_store_append": "bench.event_store_append:run",
    "stripe_emulator": "bench.stripe_emulator_bench:run",
    "webhook_ingest": "bench.webhook_ingest:run",
    "http_load": "bench.http_load:run",
    "projections": "bench.projections_bench:run",
    "recovery": "bench.recovery:run",
    "side_by_side": "bench.side_by_side:run",
    "invoices": "bench.invoices_bench:run",
    "checkout_path": "bench.checkout_path:run",
}


def _run(target: str) -> dict:
    module, _, function = target.partition(":")
    started = time.perf_counter()
    try:
        figures = getattr(importlib.import_module(module), function)()
    except Exception as exc:  # noqa: BLE001 - one bench failing must not hide the others' figures
        traceback.print_exc()
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    results = {}
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        results[name] = _run(BENCHES[name])
        print(json.dumps({name: results[name]}, indent=2), flush=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
