"""The latest folded state of each stream this process has read, so that a read replays only
the events recorded since (a hot SKU is not replayed from its first event).

Why not the eventsourcing library's own aggregate cache: its fast-forward holds a lock per
aggregate across the database read of the new events, so every reader of one stream waits
for the others' round trips. Every checkout reads its products' seller and its SKUs, so all
the checkouts of one seller (or of one hot SKU) queued behind each other on that lock. Here a
read takes no lock while it talks to the database: it picks up the cached state (a dict look-up
under a lock held for nanoseconds), reads the events after that state's version, folds them,
and offers the result back; the newest version wins. States are immutable, so a state handed
to one reader is never changed under another.

Freshness is unchanged: every read still asks the database for what came after the cached
version, so a write acknowledged by any process (a seller disabled) is seen by every read
that starts after the acknowledgement (seed 001 #8)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LatestStates:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._states: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.maxsize > 0

    def read(self, key: Hashable, fold: Callable[[Any, Any], Any],
             events_after: Callable[[int | None], Any]) -> Any:
        """The stream's current state: the cached one fast-forwarded by ``events_after``
        (called with the cached version, or None for a stream not cached yet)."""
        cached = self._get(key) if self.enabled else None
        state = fold(cached, events_after(cached.version if cached is not None else None))
        if state is not None and state is not cached and self.enabled:
            self._offer(key, state)
        return state

    def read_many(self, items: list[tuple[Hashable, Callable[[Any, Any], Any]]],
                  events_after: Callable[[list[int | None]], list[Any]]) -> list[Any]:
        """The current states of several streams, fast-forwarded together: ``events_after``
        gets each stream's cached version (None: not cached) and returns each one's events
        after it, in the same order (e.g. from one database statement)."""
        cached = [self._get(key) if self.enabled else None for key, _ in items]
        news = events_after([c.version if c is not None else None for c in cached])
        states = []
        for (key, fold), before, events in zip(items, cached, news, strict=True):
            state = fold(before, events)
            if state is not None and state is not before and self.enabled:
                self._offer(key, state)
            states.append(state)
        return states

    def peek(self, key: Hashable) -> Any:
        """The cached state, without asking the database what came since (None: not cached).
        Never a basis for a decision on its own: only a guess of what to read."""
        return self._get(key) if self.enabled else None

    def _get(self, key: Hashable) -> Any:
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                self._states.move_to_end(key)
            return state

    def _offer(self, key: Hashable, state: Any) -> None:
        with self._lock:
            current = self._states.get(key)
            if current is not None and current.version >= state.version:
                return
            self._states[key] = state
            self._states.move_to_end(key)
            while len(self._states) > self.maxsize:
                self._states.popitem(last=False)
