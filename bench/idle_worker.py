"""CPU of an idle saga worker (``checkout-saga worker``) on PostgreSQL, read from /proc: the
database holds ``CHECKOUTS`` finished checkouts (so a scan would have rows to scan), nothing
is due and nothing new arrives. Reports CPU milliseconds per wall second over
``MEASURE_SECONDS`` after a warm-up. Bounded to ~40 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

WARMUP_SECONDS = 8.0
MEASURE_SECONDS = 20.0
CHECKOUTS = 200


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _seed(url: str) -> None:
    """Finished checkouts through the services (fake gateway): rows in every table."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from adapters.database import parse_database_url
    from adapters.fake_payment_gateway import FakePaymentGateway
    from adapters.settings import Settings
    from bootstrap import build
    from checkout_saga.commands import CartLine, StartCheckout

    system = build(Settings(database_url=url, database=parse_database_url(url)),
                   gateway=FakePaymentGateway())
    try:
        system.catalog.set_seller("acct_idle", charges_enabled=True)
        system.catalog.upsert_product(sku="IDLE", name="Idle", unit_amount=100, currency="usd",
                                      seller_id="acct_idle", active=True)
        system.catalog.adjust_stock("IDLE", CHECKOUTS, "initial")
        for n in range(CHECKOUTS):
            system.checkouts.start_checkout(StartCheckout(
                checkout_session_id=f"cs_idle_{n:06d}", currency="usd",
                items=(CartLine(sku="IDLE", quantity=1),), payment_method="pm_card_visa"))
        worker = system.worker()
        worker.due_work.ensure()
        worker.run_once()  # the index caught up: nothing is left to do
    finally:
        system.close()


def run() -> dict[str, Any]:
    from tests.e2e.http_helpers import ROOT, Unavailable, _base_env, postgres_database

    try:
        database = postgres_database()
        url = database.__enter__()
    except Unavailable as exc:
        return {"skipped": str(exc)}
    try:
        _seed(url)
        with tempfile.TemporaryFile(mode="w+") as out:
            env = _base_env(CHECKOUT_SAGA_DATABASE_URL=url, STRIPE_SECRET_KEY="sk_test_idle",
                            STRIPE_API_BASE="http://127.0.0.1:9")
            process = subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=ROOT,
                                       env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                time.sleep(WARMUP_SECONDS)
                before, started = _cpu_seconds(process.pid), time.monotonic()
                time.sleep(MEASURE_SECONDS)
                used, wall = _cpu_seconds(process.pid) - before, time.monotonic() - started
            finally:
                process.terminate()
                process.wait(10)
    finally:
        database.__exit__(None, None, None)
    return {"database": "postgresql", "finished_checkouts": CHECKOUTS,
            "seconds": round(wall, 1), "cpu_ms_per_second": round(1000 * used / wall, 2)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
