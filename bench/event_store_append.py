"""Appends per second straight through the event store's PostgreSQL recorder, 1 and 8 appender
threads: the library's recorder (LOCK TABLE, NOTIFY and INSERT in a client-side transaction,
the lock held across round trips) against ours (adapters.postgres_recorder: one server-side
call). Each append is ``EVENTS_PER_APPEND`` events of ``STATE_BYTES`` on the thread's own
stream (the saga appends 1-4 events per transaction). Each run gets a fresh database and
``BENCH_APPEND_SECONDS`` (default 3) of appending; the variants alternate for
``BENCH_APPEND_ROUNDS`` rounds (default 2) so that machine noise hits both alike.

Group commit (adapters.postgres_group_commit) is measured too. The ``_no_flush_wait`` variants
(``synchronous_commit = off`` on the bench database) are NOT candidates — a crash may lose
acknowledged appends: they take the commit flush (WAL fsync) out of the critical section,
which shows the lock/round-trip cost alone and bounds what sharing flushes (group commit) can
gain."""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from adapters.event_store import APPLICATION_NAME
from adapters.postgres_group_commit import GroupCommitRecorder
from adapters.postgres_recorder import ServerSideAppendRecorder

SECONDS = float(os.environ.get("BENCH_APPEND_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_APPEND_ROUNDS", "2"))
EVENTS_PER_APPEND = 2
STATE_BYTES = 400
ADMIN = "host=127.0.0.1 user=root dbname=postgres"

VARIANTS = {
    "library_recorder": (PostgresApplicationRecorder, {}),
    "server_side_append": (ServerSideAppendRecorder, {}),
    "group_commit": (GroupCommitRecorder, {}),
    "library_recorder_no_flush_wait": (PostgresApplicationRecorder, {"synchronous_commit": "off"}),
    "server_side_append_no_flush_wait": (ServerSideAppendRecorder, {"synchronous_commit": "off"}),
}


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _measure(recorder_class, settings: dict[str, str], threads: int) -> dict:
    name = f"cs_bench_append_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        for key, value in settings.items():
            _admin(f'ALTER DATABASE "{name}" SET {key} = {value}')
        datastore = PostgresDatastore(name, "127.0.0.1", 5432, "root", "", pool_size=threads,
                                      max_overflow=0, lock_timeout=5)
        try:
            recorder = recorder_class(datastore, events_table_name=f"{APPLICATION_NAME.lower()}_events")
            recorder.create_table()
            figures = _drive(recorder, threads)
            if isinstance(recorder, GroupCommitRecorder):
                commits = sum(recorder.batch_sizes.values())
                figures["appends_per_commit"] = round(
                    sum(k * n for k, n in recorder.batch_sizes.items()) / max(commits, 1), 2)
            return figures
        finally:
            datastore.close()
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drive(recorder, threads: int) -> dict:
    state = b'{"pad":"' + b"x" * (STATE_BYTES - 10) + b'"}'
    barrier = threading.Barrier(threads)
    latencies: list[float] = []

    def appender(_: int) -> int:
        stream, version, appends, mine = uuid.uuid4(), 0, 0, []
        recorder.insert_events([StoredEvent(stream, 0, "Warm@1", state)])  # connection + prepare
        barrier.wait()
        deadline = time.perf_counter() + SECONDS
        while (now := time.perf_counter()) < deadline:
            events = [StoredEvent(stream, version + k + 1, "Bench@1", state)
                      for k in range(EVENTS_PER_APPEND)]
            recorder.insert_events(events)
            mine.append(time.perf_counter() - now)
            version += EVENTS_PER_APPEND
            appends += 1
        latencies.extend(mine)
        return appends

    with ThreadPoolExecutor(max_workers=threads) as pool:
        appends = sum(pool.map(appender, range(threads)))
    latencies.sort()
    return {"appends_per_second": round(appends / SECONDS, 1),
            "events_per_second": round(appends * EVENTS_PER_APPEND / SECONDS, 1),
            "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
            "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2)}


def run() -> dict:
    try:
        _admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - the bench reports what it could not measure
        return {"skipped": f"PostgreSQL not reachable: {exc}"}
    runs: dict[str, list[dict]] = {}
    for _ in range(ROUNDS):
        for threads in (1, 8):
            for variant, (recorder_class, settings) in VARIANTS.items():
                key = f"{variant}_{threads}_thread{'s' if threads > 1 else ''}"
                runs.setdefault(key, []).append(_measure(recorder_class, settings, threads))
    results: dict = {"seconds_per_run": SECONDS, "rounds": ROUNDS,
                     "events_per_append": EVENTS_PER_APPEND}
    for key, figures in runs.items():
        rates = [f["appends_per_second"] for f in figures]
        results[key] = {"appends_per_second_median": statistics.median(rates),
                        "appends_per_second_best": max(rates),
                        "appends_per_second_runs": rates,
                        "p50_ms_runs": [f["p50_ms"] for f in figures],
                        "p99_ms_runs": [f["p99_ms"] for f in figures]}
        if "appends_per_commit" in figures[0]:
            results[key]["appends_per_commit_runs"] = [f["appends_per_commit"] for f in figures]
    return results
