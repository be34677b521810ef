"""The projection runner's wake-ups, without a database: the channel name, polling, and a
listener that cannot connect backing off instead of failing."""

from __future__ import annotations

import threading
import time

from adapters.event_store import APPLICATION_NAME
from projections.listener import PostgresWaker, SleepWaker, channel_for


def test_the_channel_is_the_library_events_table_of_the_application():
    assert channel_for(APPLICATION_NAME) == "checkoutsaga_events"


def test_polling_wakes_on_timeout_and_never_claims_a_notification():
    waker = SleepWaker(threading.Event())

    began = time.monotonic()
    assert waker.wait(0.05) is False
    assert time.monotonic() - began >= 0.05


def test_polling_returns_at_once_when_stopped():
    stop = threading.Event()
    stop.set()

    began = time.monotonic()
    SleepWaker(stop).wait(10)

    assert time.monotonic() - began < 1


def test_a_listener_that_cannot_connect_backs_off_and_keeps_trying():
    waker = PostgresWaker("host=127.0.0.1 port=1 dbname=none connect_timeout=1", "c",
                          threading.Event())

    assert waker.wait(0.05) is False
    assert waker.wait(0.05) is False
    assert waker.backend_pid is None and waker._backoff > 0.1
    waker.close()
