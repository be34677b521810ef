"""The instruments of ``bench.side_by_side``: services started as process groups of their own
(so every child is measured and stopped with its parent), CPU time read from ``/proc``, a fresh
PostgreSQL database and its transaction counters, and ``wrk`` as the load generator.

Everything binds or connects to 127.0.0.1; every wait is bounded."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
WRK_SCRIPTS = Path(__file__).resolve().parent / "wrk"
PG_ADMIN = "host=127.0.0.1 port=5432 user=root dbname=postgres connect_timeout=3"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class RigError(RuntimeError):
    """A service did not start, or a tool failed; the message carries its output's tail."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- process groups ----------------------------------------------------------------------


@dataclass
class ProcessGroup:
    """A command in a session of its own: its pid is the group id of it and its children."""

    name: str
    command: str
    env: dict[str, str]
    ready_url: str
    process: subprocess.Popen | None = None
    _log: IO[str] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> ProcessGroup:
        self._log = tempfile.TemporaryFile(mode="w+")  # never a full pipe that blocks the child
        self.process = subprocess.Popen(shlex.split(self.command), cwd=ROOT, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RigError(f"{self.name} exited {self.process.returncode}: {self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.ready_url, timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RigError(f"{self.name} not ready at {self.ready_url} in {timeout}s: {self.output()}")

    @property
    def pgid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.pgid) if self.process is not None else 0.0

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-3000:]

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the whole group, SIGKILL to whatever of it is left after ``timeout``."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + timeout
        while _group_members(self.pgid) and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def run_once(name: str, command: str, env: dict[str, str], timeout: float = 60.0) -> None:
    done = subprocess.run(shlex.split(command), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RigError(f"{name} exited {done.returncode}: {(done.stdout + done.stderr)[-3000:]}")


# --- CPU from /proc ----------------------------------------------------------------------


def _stats() -> Iterator[tuple[int, str, int, int, int]]:
    """(pid, comm, process group, CPU ticks incl. reaped children, parent pid) of every
    process."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): pgrp is field 5, utime..cstime are fields 14..17
        yield (int(entry.name), comm, int(fields[2]), sum(int(f) for f in fields[11:15]),
               int(fields[1]))


def _group_members(pgid: int) -> list[int]:
    return [pid for pid, _, group, _, _ in _stats() if group == pgid]


def group_cpu_seconds(pgid: int) -> float:
    """User+system time of every live process of the group and of every descendant of its
    leader (a supervisor's children may move to process groups of their own: ``serve``'s
    do), and of their reaped children."""
    stats = list(_stats())
    children: dict[int, list[int]] = {}
    for pid, _, _, _, parent in stats:
        children.setdefault(parent, []).append(pid)
    ours, todo = set(), [pid for pid, _, group, _, _ in stats if group == pgid]
    while todo:
        pid = todo.pop()
        if pid not in ours:
            ours.add(pid)
            todo.extend(children.get(pid, ()))
    return sum(ticks for pid, _, _, ticks, _ in stats if pid in ours) / CLK_TCK


def postgres_cpu_seconds(dbname: str) -> tuple[float, float]:
    """(backends connected to ``dbname``, every postgres process on the machine): a backend
    is recognised by its process title ``postgres: [CLUSTER: ]USER DBNAME HOST(PORT) STATE``
    (the database names are random). A backend that exits inside a window takes its CPU time
    with it (the services keep pools open)."""
    ours = every = 0
    for pid, comm, _, ticks, _ in _stats():
        if comm != "postgres":
            continue
        every += ticks
        with contextlib.suppress(OSError):
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if dbname in title.split():
                ours += ticks
    return ours / CLK_TCK, every / CLK_TCK


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK


# --- PostgreSQL --------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[tuple[str, str]]:
    """(name, url) of a new database on 127.0.0.1:5432, dropped (with its sessions) after."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def transactions(dbname: str) -> tuple[int, int]:
    """(commits, rollbacks) counted by PostgreSQL for the database (``pg_stat_database``)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        row = admin.execute("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                            "WHERE datname = %s", (dbname,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def scalar(database_url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=3) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0] or 0) if row else 0


# --- wrk ---------------------------------------------------------------------------------


def run_wrk(base_url: str, script: str, args: list[str], *, connections: int, seconds: float,
            threads: int = 2) -> dict[str, Any]:
    """One wrk run; the script's ``done()`` prints ``WRK_JSON {...}``. Adds the run's own CPU
    time (``load_generator_cpu_seconds``)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "30s", "-s", str(WRK_SCRIPTS / script), base_url, "--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RigError(f"wrk exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    figures["load_generator_cpu_seconds"] = round(
        after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)
    return figures
