"""In-process locks per stream, taken by ``CommandRunner`` after a conflict (see there)."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterable


class StreamLocks:
    """One re-entrant lock per stream id, created when first wanted and dropped when no
    thread holds or waits for it (a shop's millions of streams never pile up here)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.RLock, int]] = {}

    def acquire(self, keys: Iterable[Hashable], timeout: float) -> list[Hashable] | None:
        """Takes every key's lock, in one global order (so two holders of overlapping sets
        never deadlock); the keys held, or None (nothing held) after ``timeout`` seconds."""
        ordered = sorted(set(keys), key=str)
        deadline = time.monotonic() + timeout
        held: list[Hashable] = []
        for key in ordered:
            lock = self._use(key)
            if not lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
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

    def _use(self, key: Hashable) -> threading.RLock:
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            if lock is None:
                lock = threading.RLock()
            self._locks[key] = (lock, users + 1)
            return lock

    def _disuse(self, key: Hashable) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
