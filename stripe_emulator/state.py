"""The emulator's memory: every Stripe object, the event log, and the one lock.

Objects are kept as the JSON dicts Stripe would return, because that is what the
SDK parses and what an event snapshots; a deep copy at emit time freezes the
snapshot. Everything that touches them holds `lock` (re-entrant, so a timer thread
and an HTTP handler never interleave half a state change).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_emulator.config import API_VERSION, EmulatorConfig
from stripe_emulator.errors import resource_missing
from stripe_emulator.ids import new_id

Json = dict[str, Any]
EventListener = Callable[[Json], None]


@dataclass(frozen=True)
class RequestContext:
    """Who caused a state change: stamped on the events it produces."""

    request_id: str | None = None
    idempotency_key: str | None = None
    base_url: str = "http://127.0.0.1"


AUTOMATIC = RequestContext()
"""Changes Stripe makes on its own (a refund failing later, a dispute): no request."""


class Store:
    """All objects by kind, in creation order, plus the event log."""

    KINDS = (
        "payment_intent",
        "charge",
        "refund",
        "dispute",
        "event",
        "customer",
        "payment_method",
        "setup_intent",
        "balance_transaction",
    )

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._objects: dict[str, dict[str, Json]] = {kind: {} for kind in self.KINDS}
        self._listeners: list[EventListener] = []
        self._timers: list[threading.Timer] = []
        self.spent_payment_methods: set[str] = set()
        """PaymentMethods that may not be used again: paid with once while attached to
        no customer, or detached (Stripe keeps this to itself; so does the emulator)."""

    def now(self) -> int:
        return int(self.config.clock())

    def subscribe(self, listener: EventListener) -> None:
        """`listener(event)` runs under the lock, right after the event is recorded, so
        listeners see events in creation order."""
        self._listeners.append(listener)

    def table(self, kind: str) -> dict[str, Json]:
        return self._objects[kind]

    def add(self, obj: Json) -> Json:
        self._objects[obj["object"]][obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, param: str = "id") -> Json:
        found = self._objects[kind].get(object_id)
        if found is None:
            raise resource_missing(kind, object_id, param)
        return found

    def newest_first(self, kind: str) -> list[Json]:
        return list(reversed(self._objects[kind].values()))

    def emit(
        self,
        event_type: str,
        obj: Json,
        ctx: RequestContext,
        previous_attributes: Json | None = None,
    ) -> Json:
        """Record an Event whose `data.object` is `obj` as it is now."""
        data: Json = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = self.add(
            {
                "id": new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": self.now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": 0,
                "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
                "type": event_type,
            }
        )
        for listener in self._listeners:
            listener(event)
        return event

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Run `action` later on a daemon timer, under the lock; cancelled by `reset`."""

        def run() -> None:
            with self.lock:
                action()

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self.lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def reset(self) -> None:
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            for table in self._objects.values():
                table.clear()
            self.spent_payment_methods.clear()
