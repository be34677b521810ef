"""A record of every webhook delivery attempt, for tests and for a developer asking
"did my endpoint get that event?" (`GET /_emulator/webhook_deliveries`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stripe_emulator.ids import new_id

if TYPE_CHECKING:
    from stripe_emulator.delivery import Endpoint, Notice

Json = dict[str, Any]


class DeliveryLog:
    """Thread-safe list of attempts; `on_delivered(event_id)` runs after each 2xx."""

    def __init__(self, on_delivered: Callable[[str], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._attempts: list[Json] = []
        self._on_delivered = on_delivered

    def record(
        self,
        endpoint: Endpoint,
        notice: Notice,
        attempt: int,
        *,
        status_code: int | None = None,
        error: str | None = None,
        outcome: str = "succeeded",
    ) -> None:
        entry = {
            "id": new_id("wd"),
            "object": "emulator.webhook_delivery",
            "endpoint": endpoint.id,
            "url": endpoint.url,
            "event": notice.event_id,
            "event_type": notice.event_type,
            "attempt": attempt,
            "status_code": status_code,
            "error": error,
            "outcome": outcome,
            "at": time.time(),
        }
        with self._lock:
            self._attempts.append(entry)
        if outcome == "succeeded" and self._on_delivered is not None:
            self._on_delivered(notice.event_id)

    def entries(self) -> list[Json]:
        with self._lock:
            return list(self._attempts)

    def reset(self) -> None:
        with self._lock:
            self._attempts.clear()
