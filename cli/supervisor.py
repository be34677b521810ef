"""``checkout-saga serve``: one supervisor, N API processes on one port, one saga-worker
process and (with the built-in emulator) the Stripe emulator in a process of its own.

How the API processes share the port: the supervisor binds and listens on the socket once
and every API child inherits it across the fork (the worker and the emulator close their
copy); each child runs uvicorn on that inherited socket. The kernel queues connections on the one socket and whichever
child is waiting in ``accept`` takes the next one, so an idle child takes work before a busy
one. This is uvicorn's (and gunicorn's) own multi-process model, chosen over ``SO_REUSEPORT``
because: the port is held by the supervisor for its whole life (a restarted child never
races another program for it, and no stray process can join the group and steal traffic);
connections waiting in the queue are not reset when one child dies (with ``SO_REUSEPORT``
each socket has its own queue, lost with its process); and it needs no Linux-only option.
The cost: accept() is not balanced by the kernel, so under keep-alive one process may hold
more connections than another (an idle one still accepts first).
uvicorn's ``workers=`` mode is not used because the worker and the emulator need the same
supervision, and one supervisor with one restart policy is simpler than two.

Children are forks (``os.fork``, no exec) of the supervisor taken while it holds no
connection, pool or thread (the "preload" model of gunicorn; POSIX only): the code is imported once, so a child is serving in
milliseconds instead of importing the whole stack again (on a busy 2-core machine that was
seconds per process), and after the fork each child builds its own ``System`` through
``bootstrap.build`` — no database connection is ever shared across a fork. API children run
no background work (no projection runner, no worker); the worker child runs projections,
timers, recovery and reconciliation; the emulator child runs the standalone emulator.

Supervision: a child that exits is reported (``child_exited``) and started again after a
back-off that doubles on every quick death (0.5 s … 30 s) and resets once a child has lived
``STABLE_SECONDS``. SIGTERM or SIGINT (Ctrl-C) stops the API children first (graceful, they
finish requests in flight), then the worker and the emulator; whatever has not exited after
its grace period is killed. Children run in their own process group, so Ctrl-C in a
terminal reaches only the supervisor, which then stops them in that order. On Linux every
child also asks the kernel to kill it when the supervisor dies (``PR_SET_PDEATHSIG``), so
even ``kill -9`` of the supervisor leaves nothing behind.

Metrics: prometheus_client's multi-process mode. ``PROMETHEUS_MULTIPROC_DIR`` is a fresh
directory under ``./var/prometheus/`` (emptied at start, removed at stop); every child writes
its samples there, and ``/metrics`` in any API process aggregates them all (counters and
histograms summed over processes, the worker's included)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

log = structlog.get_logger("supervisor")

FIRST_BACKOFF, MAX_BACKOFF = 0.5, 30.0
STABLE_SECONDS = 30.0
API_GRACE_SECONDS = 10.0
OTHER_GRACE_SECONDS = 5.0
BIND_WAIT_SECONDS = 10.0
POLL_SECONDS = 0.1
METRICS_ROOT = Path("var") / "prometheus"


@dataclass
class Child:
    """One supervised process: what it runs (in the forked child) and what became of it."""

    name: str
    role: str  # api | worker | emulator
    target: Callable[[], int]
    port: int | None = None  # the emulator's, waited for before the others start
    pid: int | None = None
    returncode: int | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None
    restarts: int = 0

    def alive(self) -> bool:
        """Reaps the child if it has exited (``returncode``: exit status, or -signal)."""
        if self.pid is None or self.returncode is not None:
            return False
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.returncode = -1
            return False
        if pid == 0:
            return True
        self.returncode = os.waitstatus_to_exitcode(status)
        return False

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True


@dataclass
class Supervisor:
    children: list[Child]
    on_started: Callable[[], None] | None = None
    metrics_dir: Path | None = None
    _stopping: bool = field(default=False, init=False)
    _signal: int | None = field(default=None, init=False)

    def run(self) -> int:
        """Start every child, keep them running until SIGTERM/SIGINT, then stop them all."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for child in self.children:
                self._spawn(child)
                if child.port is not None:
                    _wait_for_port(child)
            if self.on_started is not None:
                self.on_started()
            while not self._stopping:
                self._check_children()
                time.sleep(POLL_SECONDS)
            log.info("supervisor_stopping", signal=_signal_name(self._signal))
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.metrics_dir is not None:
                shutil.rmtree(self.metrics_dir, ignore_errors=True)
        return 0

    def _on_signal(self, signum, _frame) -> None:
        self._stopping = True
        self._signal = signum

    def _spawn(self, child: Child) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the supervisor's code
            os._exit(_run_child(child, parent))
        child.pid, child.returncode = pid, None
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("child_started", child=child.name, role=child.role, pid=child.pid,
                 restarts=child.restarts)

    def _check_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self._stopping:
                    child.restarts += 1
                    self._spawn(child)
                continue
            if child.alive():
                continue
            code = child.returncode
            lived = now - child.started_at
            delay = FIRST_BACKOFF if lived >= STABLE_SECONDS else child.backoff
            child.backoff = min(delay * 2, MAX_BACKOFF)
            child.restart_at = now + delay
            log.warning("child_exited", child=child.name, role=child.role, pid=child.pid,
                        exit_code=code, signal=_signal_name(-code) if code and code < 0 else None,
                        lived_seconds=round(lived, 1), restart_in=delay)
            self._forget_metrics(child.pid)

    def _forget_metrics(self, pid: int | None) -> None:
        if self.metrics_dir is None or pid is None:
            return
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(self.metrics_dir))

    def stop_all(self) -> None:
        """API children first (they finish their requests), then the rest; kill stragglers."""
        api = [c for c in self.children if c.role == "api"]
        rest = [c for c in self.children if c.role != "api"]
        _terminate(api, API_GRACE_SECONDS)
        _terminate(rest, OTHER_GRACE_SECONDS)
        for child in self.children:
            if child.pid is not None and child.returncode is not None:
                log.info("child_stopped", child=child.name, pid=child.pid,
                         exit_code=child.returncode)


def _terminate(children: list[Child], grace: float) -> None:
    running = [c for c in children if c.alive()]
    for child in running:
        _send(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in running:
        if not child.wait(max(deadline - time.monotonic(), 0.01)):
            log.warning("child_killed", child=child.name, pid=child.pid, after_seconds=grace)
            _send(child, signal.SIGKILL)
            child.wait(5)


def _send(child: Child, sig: int) -> None:
    try:
        os.kill(child.pid, sig)
    except ProcessLookupError:
        pass


def _run_child(child: Child, parent: int) -> int:
    """In the forked child: tie its life to the supervisor's, leave the terminal's process
    group, take default signal handling back, and run the target."""
    try:
        _die_with_parent(parent)
        _name_process(child.name)
        os.setpgid(0, 0)  # Ctrl-C reaches the supervisor only; it stops the children in order
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return int(child.target() or 0)
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - reported; the supervisor restarts the child
        log.error("child_failed", child=child.name, error=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _die_with_parent(parent_pid: int) -> None:
    """Asks Linux to SIGKILL this child when the supervisor dies (and exits at once if it
    already has). Elsewhere a stopped supervisor still stops its children, but ``kill -9``
    of it does not."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def _name_process(name: str) -> None:
    """The child's name in ``ps -o comm``/``top`` (Linux; 15 bytes), e.g. ``cs-api-2``."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_name = 15
        ctypes.CDLL(None).prctl(pr_set_name, f"cs-{name}".encode()[:15], 0, 0, 0)


def _signal_name(signum: int | None) -> str | None:
    if signum is None:
        return None
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _wait_for_port(child: Child, timeout: float = 15.0) -> None:
    """Waits until the emulator answers on its port (or has died: the loop restarts it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.alive():
        try:
            with socket.create_connection(("127.0.0.1", child.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)


# --- the pieces ``serve`` puts together -----------------------------------------------------


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The one listening socket every API child inherits. Waits a little for the port to be
    free (a previous run's children may still be exiting), then fails with the OS's error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + BIND_WAIT_SECONDS
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        sock.listen(backlog)
        sock.set_inheritable(True)
        return sock


def fresh_metrics_dir(root: Path = METRICS_ROOT) -> Path:
    """``./var/prometheus/<pid>``, empty; directories of supervisors no longer running are
    removed on the way."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if old.name.isdigit() and not _pid_alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    mine = root / str(os.getpid())
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir()
    return mine.resolve()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
