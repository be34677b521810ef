"""``checkout-saga serve --workers 2`` on the embedded defaults (a SQLite file, the built-in
emulator): a supervisor, two API processes sharing one port, one worker, the emulator in a
process of its own. Concurrent checkouts through both API processes all complete on SQLite;
a killed API process is reported and replaced and the port keeps serving; a seller disabled
through one request is honoured by every later checkout; /metrics adds up every process;
SIGTERM (or even SIGKILL) of the supervisor leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.http_helpers import ServerProcess, Shop, eventually

CHECKOUTS = 24


def started(server: ServerProcess) -> list[dict]:
    """Every ``child_started`` line the supervisor logged, in order."""
    server._log.seek(0)
    found = []
    for line in server._log.read().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "child_started":
            found.append(record)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by a dead parent's reaper) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def start_supervised(tmp_path) -> ServerProcess:
    server = ServerProcess(f"sqlite:///{tmp_path}/shop.db",
                           extra_env={"CHECKOUT_SAGA_WORKERS": "2"})
    server.start(timeout=60)
    eventually(lambda: len(started(server)) >= 4, 20, what="four children started")
    return server


@pytest.fixture
def server(tmp_path):
    running = start_supervised(tmp_path)
    yield running
    running.stop()


def test_two_api_processes_a_worker_and_the_emulator_serve_concurrent_checkouts_on_sqlite(server):
    roles = sorted(record["role"] for record in started(server))
    assert roles == ["api", "api", "emulator", "worker"]
    shop = Shop(server.base_url)
    try:
        sku = shop.product(stock=CHECKOUTS)
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(lambda _: shop.start_checkout(sku), range(CHECKOUTS)))

        assert [r.status_code for r in responses] == [201] * CHECKOUTS
        assert {r.json()["status"] for r in responses} == {"completed"}
        assert shop.inventory(sku)["sold"] == CHECKOUTS
        assert shop.start_checkout(sku).json()["code"] == "insufficient_stock"
        def scrape_with_worker_metrics() -> str | None:
            text = shop.store.get("/metrics").text
            return text if "saga_deadlines_pending" in text else None

        metrics = eventually(scrape_with_worker_metrics, 15,
                             what="the worker's metrics in an API process's /metrics")
        assert 'http_requests_total{method="POST",route="/checkouts",status="201"} 24.0' in metrics
    finally:
        shop.close()


def test_a_killed_api_process_is_reported_and_replaced_and_the_port_keeps_serving(server):
    shop = Shop(server.base_url)
    try:
        victim = next(r for r in started(server) if r["role"] == "api")
        os.kill(victim["pid"], signal.SIGKILL)

        replaced = eventually(lambda: next((r for r in started(server) if r["child"] == victim["child"]
                                            and r["restarts"] == 1), None), 20,
                              what="the killed API process restarted")
        assert replaced["pid"] != victim["pid"]
        assert "child_exited" in server.output() and "SIGKILL" in server.output()
        sku = shop.product(stock=10)
        assert [shop.start_checkout(sku).status_code for _ in range(6)] == [201] * 6
    finally:
        shop.close()


def test_a_seller_disabled_through_one_request_is_honoured_by_every_later_checkout(server):
    shop = Shop(server.base_url)
    try:
        sku = shop.product(stock=40, seller="acct_disabled_later")
        with ThreadPoolExecutor(max_workers=4) as pool:  # both API processes see the seller
            assert set(pool.map(lambda _: shop.start_checkout(sku).status_code, range(8))) == {201}

        shop.admin.put("/sellers/acct_disabled_later",
                       json={"charges_enabled": False}).raise_for_status()

        with ThreadPoolExecutor(max_workers=4) as pool:
            refused = list(pool.map(lambda _: shop.start_checkout(sku), range(12)))
        assert {(r.status_code, r.json()["code"]) for r in refused} == {
            (409, "seller_cannot_accept_payments")}
        assert shop.inventory(sku)["reserved"] == 0
    finally:
        shop.close()


def test_sigterm_to_the_supervisor_stops_every_child(server):
    pids = [r["pid"] for r in started(server)]

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0

    assert [pid for pid in pids if alive(pid)] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_sigkill_of_the_supervisor_takes_its_children_with_it(server):
    pids = [r["pid"] for r in started(server)]

    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)

    eventually(lambda: not [pid for pid in pids if alive(pid)], 10, what="no child left")
