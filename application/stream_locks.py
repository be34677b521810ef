"""In-process locks per stream, taken by ``CommandRunner`` after a conflict (see there).

The locks are first-come first-served: on a drop, a buyer who has been waiting for a SKU
goes before one who arrived later (plain ``threading.Lock`` wakes an arbitrary waiter, so a
few unlucky buyers would wait many turns and run out of time while others went through)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable, Iterable


class FairLock:
    """A re-entrant lock handed to its waiters in arrival order."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiters: deque[tuple[int, threading.Lock]] = deque()

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None and not self._waiters:
                self._owner, self._depth = me, 1
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append((me, gate))
        if gate.acquire(timeout=max(timeout, 0.0)):
            return True  # handed over by ``release``: we are the owner
        with self._mutex:
            try:
                self._waiters.remove((me, gate))
                return False
            except ValueError:  # handed over just as we gave up: keep it
                return True

    def release(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, gate = self._waiters.popleft()
                self._depth = 1
                gate.release()
            else:
                self._owner = None

    def busy(self) -> bool:
        with self._mutex:
            return self._owner is not None


class StreamLocks:
    """One ``FairLock`` per stream id, created when first wanted and dropped when no thread
    holds or waits for it (a shop's millions of streams never pile up here)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[FairLock, int]] = {}

    def acquire(self, keys: Iterable[Hashable], timeout: float) -> list[Hashable] | None:
        """Takes every key's lock, in one global order (so two holders of overlapping sets
        never deadlock); the keys held, or None (nothing held) after ``timeout`` seconds."""
        ordered = sorted(set(keys), key=str)
        deadline = time.monotonic() + timeout
        held: list[Hashable] = []
        for key in ordered:
            lock = self._use(key)
            if not lock.acquire(timeout=deadline - time.monotonic()):
                self._disuse(key)
                self.release(held)
                return None
            held.append(key)
        return held

    def release(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            with self._guard:
                lock, _ = self._locks[key]
            lock.release()
            self._disuse(key)

    def contended(self, keys: Iterable[Hashable]) -> bool:
        """Whether another thread of this process holds or waits for one of these streams
        (a newcomer then queues too, instead of racing the queue's head)."""
        with self._guard:
            return any(key in self._locks for key in keys)

    def _use(self, key: Hashable) -> FairLock:
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            if lock is None:
                lock = FairLock()
            self._locks[key] = (lock, users + 1)
            return lock

    def _disuse(self, key: Hashable) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
