"""The side-by-side bench's table: product beside reference with their ratio, and each of
issue 10's targets judged on the product's figures (no timing is measured here)."""

from __future__ import annotations

from bench.side_by_side_report import render_table


def _results(product_rate: float, p99: float, refusals: dict[str, int]) -> dict:
    checkouts = {"completed_per_second": product_rate, "p50_ms": 40.0, "p99_ms": p99,
                 "outcomes": {"201:completed": 100}, "cpu_ms_per_checkout": {"service": 6.0}}
    return {
        "checkouts": {"product": checkouts,
                      "reference": {"completed_per_second": 100.0, "p99_ms": 200.0}},
        "flash_sale": {"product": {"sold": 100, "refusals_by_code": refusals, "p99_ms": 90.0}},
        "webhook_ingest": {"product": {"events_per_second": 2500.0}},
    }


def test_the_table_shows_the_ratio_of_product_to_reference():
    table, _ = render_table(_results(150.0, 120.0, {"409:insufficient_stock": 900}))

    row = next(line for line in table.splitlines() if line.startswith("completed checkouts/s"))
    assert "150" in row and "100" in row and "1.50x" in row


def test_every_target_is_met_when_the_product_meets_it():
    _, verdicts = render_table(_results(150.0, 120.0, {"409:insufficient_stock": 900}))

    assert all(v["met"] for v in verdicts.values()), verdicts


def test_a_slow_product_or_a_false_refusal_misses_its_targets():
    _, verdicts = render_table(_results(50.0, 900.0, {"409:insufficient_stock": 10,
                                                      "409:concurrency_conflict": 3}))

    assert verdicts["throughput_vs_reference"] == {"product": 0.5, "target": ">= 1.0", "met": False}
    assert verdicts["p99_ms_c32"]["met"] is False
    assert verdicts["flash_sale_false_refusals"]["product"] == 3


def test_a_phase_that_failed_is_shown_and_its_targets_are_not_measured():
    table, verdicts = render_table({"checkouts": {"product": {"error": "RigError: no wrk"}}})

    assert "checkouts product: ERROR" in table
    assert verdicts["throughput_vs_reference"]["met"] is None


def test_a_run_on_a_machine_busy_with_other_work_says_so():
    results = _results(150.0, 120.0, {})
    results["checkouts"]["reference"]["machine_busy_percent_not_this_stand"] = 60.0

    table, _ = render_table(results)

    assert "WARNING" in table and "reference 60 %" in table
