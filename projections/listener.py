"""Waking the projection runner on PostgreSQL: LISTEN on the event store's channel.

The ``eventsourcing`` PostgreSQL recorder (9.5) sends ``NOTIFY <application>_events`` inside
every insert transaction, so the notification arrives when the events are committed (a test
pins this behaviour). A ``Waker`` holds one autocommit connection of its own that LISTENs
on that channel. ``wait(timeout)`` returns when a notification arrived or the timeout passed
(the polling fall-back); either way the caller catches up from its tracked position, so a
lost or coalesced notification costs at most one timeout, never an event.

Supervision: a connection that dies (terminated backend, restart, network) raises on the
next wait or on the liveness probe each timeout; the waker drops it, reconnects with a
back-off, re-LISTENs and reports ``True`` (as if notified) so the caller catches up at
once — nothing recorded while it was away is skipped, and nothing is applied twice because
catch-up starts from the tracked position. SQLite has no such channel: ``SleepWaker``
simply sleeps (polling).

Leadership: of all the processes sharing one database, one runs the projections. The
waker's connection also holds a session advisory lock; only its holder catches up, the
others stand by and try for the lock at each timeout. A leader whose connection dies loses
the lock with it, so a standby takes over within one timeout (failover). Tracking in the
same transaction keeps two runners safe anyway; leadership only saves the duplicate work."""

from __future__ import annotations

import hashlib
import threading

import structlog

log = structlog.get_logger(__name__)

MAX_BACKOFF = 5.0
_SLICE = 0.25


def leader_lock_key(channel: str) -> int:
    """A stable signed 64-bit advisory lock key for the projection runner of ``channel``."""
    digest = hashlib.sha256(f"projections:{channel}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def channel_for(application_name: str) -> str:
    """The channel the library's recorder notifies: its events table's name."""
    return f"{application_name.lower()}_events"


class SleepWaker:
    """Polling: wakes only on timeout (or stop)."""

    backend_pid = None
    reconnects = 0
    is_leader = True  # SQLite: one process owns the file's writes anyway

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def wait(self, timeout: float) -> bool:
        self._stop.wait(timeout)
        return False

    def close(self) -> None:
        pass


class PostgresWaker:
    def __init__(self, conninfo: str, channel: str, stop: threading.Event) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._stop = stop
        self._conn = None
        self._backoff = 0.1
        self.reconnects = 0  # connections opened after the first
        self._opened = 0
        self.is_leader = False
        self._lock_key = leader_lock_key(channel)

    @property
    def backend_pid(self) -> int | None:
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    def _connect(self) -> None:
        import psycopg
        from psycopg import sql

        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        self._conn = conn
        self._opened += 1
        self.reconnects = self._opened - 1
        self._backoff = 0.1
        log.info("projection_listener_connected", channel=self._channel,
                 pid=conn.info.backend_pid, reconnects=self.reconnects)
        self._try_to_lead()

    def _try_to_lead(self) -> None:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key,)).fetchone()
        if row[0] and not self.is_leader:
            log.info("projection_runner_leading", channel=self._channel,
                     pid=self._conn.info.backend_pid)
        self.is_leader = bool(row[0])

    def _drop(self, exc: BaseException) -> None:
        log.warning("projection_listener_lost", channel=self._channel, error=repr(exc),
                    retry_in=self._backoff)
        conn, self._conn = self._conn, None
        self.is_leader = False  # the advisory lock went with the connection
        if conn is not None:
            try:
                conn.close()
            except Exception as close_exc:  # noqa: BLE001 - the connection is already gone
                log.debug("projection_listener_close_failed", error=repr(close_exc))

    def wait(self, timeout: float) -> bool:
        """True when the caller should catch up now (notified, or just reconnected)."""
        import psycopg

        if self._conn is None:
            try:
                self._connect()
            except psycopg.Error as exc:
                self._drop(exc)
                self._stop.wait(self._backoff)
                self._backoff = min(self._backoff * 2, MAX_BACKOFF)
                return False
            return True  # (re)connected: whatever happened meanwhile is caught up now
        try:
            if self._notified_within(timeout):
                return True
            if not self._stop.is_set():
                # a silent death shows here, once per timeout; a standby also tries to lead
                if self.is_leader:
                    self._conn.execute("SELECT 1")
                    return False
                self._try_to_lead()
                return self.is_leader  # just took over: catch up at once
            return False
        except psycopg.Error as exc:
            self._drop(exc)
            return True

    def _notified_within(self, timeout: float) -> bool:
        """Waits in short slices so that ``stop`` is honoured promptly."""
        remaining = timeout
        while remaining > 0 and not self._stop.is_set():
            step = min(remaining, _SLICE)
            if list(self._conn.notifies(timeout=step, stop_after=1)):
                self._drain()  # after the generator above let go of the connection
                return True
            remaining -= step
        return False

    def _drain(self) -> None:
        """Coalesces the notifications already queued: one catch-up covers them all."""
        for _ in self._conn.notifies(timeout=0):
            pass

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self.is_leader = False
        if conn is not None:
            conn.close()
