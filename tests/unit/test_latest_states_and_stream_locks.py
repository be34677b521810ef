"""The cache of latest states holds no lock while a read talks to the database (readers of
one stream never queue), keeps the newest version offered, and stream locks are taken in one
order and forgotten when unused."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from adapters.latest_states import LatestStates
from application.stream_locks import StreamLocks


def fold(state, events):
    for version in events:
        state = SimpleNamespace(version=version)
    return state


def test_a_read_of_a_stream_does_not_wait_for_another_read_of_it_in_flight():
    cache = LatestStates(10)
    cache.read("seller", fold, lambda after: [1])
    second_done = threading.Event()
    first_saw_second = []

    def slow_tail(after):  # the first reader is "in the database" until the second is done
        first_saw_second.append(second_done.wait(timeout=5))
        return []

    first = threading.Thread(target=cache.read, args=("seller", fold, slow_tail))
    first.start()
    cache.read("seller", fold, lambda after: [])
    second_done.set()
    first.join(timeout=10)

    assert first_saw_second == [True]


def test_a_read_replays_only_events_after_the_cached_version_and_keeps_the_newest():
    cache = LatestStates(10)
    asked = []
    tail = {None: [1, 2, 3], 3: [4], 4: []}

    def events_after(after):
        asked.append(after)
        return tail[after]

    assert cache.read("sku", fold, events_after).version == 3
    assert cache.read("sku", fold, events_after).version == 4
    cache._offer("sku", SimpleNamespace(version=2))  # a slower reader's older state
    assert cache.read("sku", fold, events_after).version == 4
    assert asked == [None, 3, 4]


def test_a_stream_with_no_events_reads_as_none_and_is_not_cached():
    cache = LatestStates(10)

    assert cache.read("nothing", fold, lambda after: []) is None
    assert cache._get("nothing") is None


def test_the_cache_forgets_the_least_recently_read_stream_beyond_its_size():
    cache = LatestStates(2)
    for key in ("a", "b", "c"):
        cache.read(key, fold, lambda after: [1] if after is None else [])

    assert cache._get("a") is None and cache._get("c") is not None


def test_stream_locks_are_forgotten_when_released_and_reentrant_for_their_holder():
    locks = StreamLocks()
    held = locks.acquire(["b", "a"], timeout=1)
    again = locks.acquire(["a"], timeout=1)  # the same thread, e.g. a nested command

    assert held == ["a", "b"] and again == ["a"]
    locks.release(again)
    locks.release(held)
    assert locks._locks == {}


def test_a_stream_lock_held_elsewhere_is_given_up_after_the_timeout_holding_nothing():
    locks = StreamLocks()
    taken, release = threading.Event(), threading.Event()

    def holder():
        held = locks.acquire(["hot"], timeout=1)
        taken.set()
        release.wait(timeout=5)
        locks.release(held)

    thread = threading.Thread(target=holder)
    thread.start()
    taken.wait(timeout=5)

    assert locks.acquire(["cold", "hot"], timeout=0.05) is None
    release.set()
    thread.join(timeout=5)
    assert locks._locks == {}


def test_a_stream_lock_goes_to_its_waiters_in_the_order_they_arrived():
    locks = StreamLocks()
    held = locks.acquire(["hot"], timeout=1)
    order = []

    def buyer(n: int) -> None:
        mine = locks.acquire(["hot"], timeout=10)
        order.append(n)
        locks.release(mine)

    threads = []
    for n in range(5):  # each joins the queue before the next one starts
        thread = threading.Thread(target=buyer, args=(n,))
        thread.start()
        threads.append(thread)
        while len(locks._locks["hot"][0]._waiters) < n + 1:  # queued behind the holder
            threading.Event().wait(0.001)
    assert locks.contended(["hot"]) and not locks.contended(["cold"])
    locks.release(held)
    for thread in threads:
        thread.join(timeout=10)

    assert order == [0, 1, 2, 3, 4]
    assert locks._locks == {}
