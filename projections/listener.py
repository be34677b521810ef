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
simply sleeps (polling)."""

from __future__ import annotations

import threading

import structlog

log = structlog.get_logger(__name__)

MAX_BACKOFF = 5.0
_SLICE = 0.25


def channel_for(application_name: str) -> str:
    """The channel the library's recorder notifies: its events table's name."""
    return f"{application_name.lower()}_events"


class SleepWaker:
    """Polling: wakes only on timeout (or stop)."""

    backend_pid = None
    reconnects = 0

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

    def _drop(self, exc: BaseException) -> None:
        log.warning("projection_listener_lost", channel=self._channel, error=repr(exc),
                    retry_in=self._backoff)
        conn, self._conn = self._conn, None
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
                self._conn.execute("SELECT 1")  # a silent death shows here, once per timeout
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
        if conn is not None:
            conn.close()
