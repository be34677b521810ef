"""`make bench`: component benchmarks. Figures go to bench/results/*.json and stdout; nothing
here is asserted. Bounded: a few hundred checkouts per database."""

from __future__ import annotations

import json
import pathlib
import sys

from bench.saga_throughput import run_saga_throughput


def main() -> int:
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    results = {"saga_throughput": run_saga_throughput()}
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
