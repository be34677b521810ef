"""One active projection runner per PostgreSQL database, with failover."""

from __future__ import annotations

import pytest

from adapters.database import parse_database_url
from projections.runtime import ReadModels
from tests.integration.test_projection_live import caught_up, start, terminate, wait_until

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


@pytest.fixture
def two_processes(database_url, store):
    """Two ReadModels as two processes would have them, each with its runner started."""
    models = [ReadModels(parse_database_url(database_url), event_store=store) for _ in range(2)]
    models[0].migrate()
    for m in models:
        m.start_background(fallback_poll=0.3)
    yield models
    for m in models:
        m.stop()
        m.close()


def leaders(models):
    return [m for m in models if m.waker is not None and m.waker.is_leader]


def test_exactly_one_runner_leads(two_processes):
    assert wait_until(lambda: len(leaders(two_processes)) == 1)


def test_when_the_leader_dies_the_standby_takes_over_and_catches_up(two_processes, shop, database_url):
    assert wait_until(lambda: len(leaders(two_processes)) == 1)
    (leader,) = leaders(two_processes)
    (standby,) = [m for m in two_processes if m is not leader]
    leader.stop()  # the process goes away; its lock goes with its connection

    start(shop, "cs_leader_0001")

    assert wait_until(lambda: standby.waker.is_leader)
    assert wait_until(lambda: caught_up(standby))


def test_a_killed_listener_connection_hands_leadership_over(two_processes, shop, database_url):
    assert wait_until(lambda: len(leaders(two_processes)) == 1)
    (leader,) = leaders(two_processes)
    terminate(database_url, leader.waker.backend_pid)

    start(shop, "cs_leader_0002")

    assert wait_until(lambda: len(leaders(two_processes)) == 1)
    assert wait_until(lambda: all(caught_up(m) for m in two_processes))
