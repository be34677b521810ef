"""The table ``bench.side_by_side`` prints (product | reference | ratio | target) and the
verdict on each of issue 10's targets (met or missed, by how much)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, str, Callable[[dict[str, Any]], Any], str]
"""(label, phase, figure of one target's phase results, target text)."""


def _get(*path: str) -> Callable[[dict[str, Any]], Any]:
    def read(figures: dict[str, Any]) -> Any:
        value: Any = figures
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value
    return read


def _refusals(figures: dict[str, Any]) -> str | None:
    refusals = figures.get("refusals_by_code")
    if refusals is None:
        return None
    errors = figures.get("wrk_errors") or {}
    parts = [f"{k}={v}" for k, v in sorted(refusals.items())]
    parts += [f"wrk_{k}={v}" for k, v in sorted(errors.items())]
    return ", ".join(parts) or "none"


def _failed(figures: dict[str, Any]) -> int | None:
    outcomes = figures.get("outcomes")
    if outcomes is None:
        return None
    return (sum(v for k, v in outcomes.items() if not k.startswith("201:completed"))
            + sum((figures.get("wrk_errors") or {}).values()))


ROWS: list[Row] = [
    ("completed checkouts/s (c32)", "checkouts", _get("completed_per_second"), ">= 1.0x reference"),
    ("p50 ms (c32)", "checkouts", _get("p50_ms"), ""),
    ("p99 ms (c32)", "checkouts", _get("p99_ms"), "<= 250"),
    ("answers other than completed (c32)", "checkouts", _failed, ""),
    ("CPU ms/checkout: service processes", "checkouts",
     _get("cpu_ms_per_checkout", "service"), "<= 8"),
    ("CPU ms/checkout: emulator", "checkouts", _get("cpu_ms_per_checkout", "emulator"), ""),
    ("CPU ms/checkout: PostgreSQL backends", "checkouts",
     _get("cpu_ms_per_checkout", "postgres_backends"), ""),
    ("CPU ms/checkout: wrk", "checkouts", _get("cpu_ms_per_checkout", "load_generator"), ""),
    ("CPU ms/checkout incl. its webhooks: service", "checkouts",
     _get("cpu_ms_per_checkout_with_its_webhooks", "service"), ""),
    ("CPU ms/checkout incl. its webhooks: PostgreSQL", "checkouts",
     _get("cpu_ms_per_checkout_with_its_webhooks", "postgres_backends"), ""),
    ("CPU ms/webhook delivery after load: service", "checkouts",
     _get("cpu_ms_per_webhook_delivery_after_load", "service"), ""),
    ("machine busy % (all cores, all agents)", "checkouts", _get("machine_busy_percent"), ""),
    ("  of which not this stand (other agents)", "checkouts",
     _get("machine_busy_percent_not_this_stand"), ""),
    ("DB transactions/checkout", "checkouts", _get("transactions_per_checkout"), ""),
    ("webhook deliveries/checkout (quiet sample)", "checkouts",
     _get("webhook_deliveries_per_checkout"), ""),
    ("webhook deliveries/checkout in the window", "checkouts",
     _get("webhook_deliveries_in_window_per_checkout"), ""),
    ("flash sale: sold", "flash_sale", _get("sold"), "== 100"),
    ("flash sale: refusals by code", "flash_sale", _refusals, "only insufficient_stock"),
    ("flash sale: p99 ms (c64)", "flash_sale", _get("p99_ms"), "<= 250"),
    ("webhook ingest events/s (c32)", "webhook_ingest", _get("events_per_second"), ">= 2000"),
    ("webhook ingest p99 ms", "webhook_ingest", _get("p99_ms"), ""),
    ("CPU ms/webhook event: service", "webhook_ingest", _get("service_cpu_ms_per_event"), ""),
]


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ratio(product: Any, reference: Any) -> str:
    numbers = (int, float)
    if isinstance(product, numbers) and isinstance(reference, numbers) and reference:
        return f"{product / reference:.2f}x"
    return ""


def _verdicts(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    product = {phase: (results.get(phase) or {}).get("product") or {} for phase in
               ("checkouts", "flash_sale", "webhook_ingest")}
    reference = (results.get("checkouts") or {}).get("reference") or {}
    mine, theirs = product["checkouts"].get("completed_per_second"), reference.get("completed_per_second")
    refusals = product["flash_sale"].get("refusals_by_code")
    checks = {
        "throughput_vs_reference": (mine / theirs if mine is not None and theirs else None,
                                    lambda v: v >= 1.0, ">= 1.0"),
        "p99_ms_c32": (product["checkouts"].get("p99_ms"), lambda v: v <= 250, "<= 250"),
        "service_cpu_ms_per_checkout": (
            (product["checkouts"].get("cpu_ms_per_checkout") or {}).get("service"),
            lambda v: v <= 8, "<= 8"),
        "flash_sale_sold": (product["flash_sale"].get("sold"), lambda v: v == 100, "== 100"),
        "flash_sale_false_refusals": (
            None if refusals is None else sum(v for k, v in refusals.items()
                                              if k != "409:insufficient_stock")
            + sum((product["flash_sale"].get("wrk_errors") or {}).values()),
            lambda v: v == 0, "== 0"),
        "flash_sale_p99_ms": (product["flash_sale"].get("p99_ms"), lambda v: v <= 250, "<= 250"),
        "webhook_ingest_events_per_second": (product["webhook_ingest"].get("events_per_second"),
                                             lambda v: v >= 2000, ">= 2000"),
    }
    return {name: {"product": None if value is None else round(value, 2), "target": text,
                   "met": None if value is None else bool(test(value))}
            for name, (value, test, text) in checks.items()}


def render_table(results: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    lines = [("", "product", "reference", "ratio", "target")]
    for label, phase, read, target in ROWS:
        figures = results.get(phase) or {}
        product = read(figures.get("product") or {})
        reference = read(figures.get("reference") or {})
        lines.append((label, _text(product), _text(reference), _ratio(product, reference), target))
    for phase in ("checkouts", "flash_sale", "webhook_ingest"):
        for name, figures in (results.get(phase) or {}).items():
            if "error" in figures:
                lines.append((f"{phase} {name}: ERROR", figures["error"][:60], "", "", ""))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    text = "\n".join("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(line)).rstrip() for line in lines)
    verdicts = _verdicts(results)
    summary = "\n".join(
        f"  {name}: {v['product']} (target {v['target']}): "
        f"{'met' if v['met'] else 'MISSED' if v['met'] is False else 'not measured'}"
        for name, v in verdicts.items())
    return f"{text}\n{_noise_warning(results)}\nissue 10 targets, product:\n{summary}", verdicts


NOISY_PERCENT = 20.0


def _noise_warning(results: dict[str, Any]) -> str:
    """A line when other processes took a share of the machine that makes the comparison moot."""
    shares = {name: figures.get("machine_busy_percent_not_this_stand")
              for name, figures in (results.get("checkouts") or {}).items()}
    noisy = {name: share for name, share in shares.items()
             if share is not None and share > NOISY_PERCENT}
    if not noisy:
        return ""
    listed = ", ".join(f"{name} {share:.0f} %" for name, share in noisy.items())
    return (f"\nWARNING: processes outside the stand used the machine during the checkout runs "
            f"({listed} of all cores): the figures measure contention, not the services.\n")
