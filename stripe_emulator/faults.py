"""Injected faults: the failures a real network and a real Stripe produce, on demand.

Request faults match `method` and `path` (where `{anything}` stands for one path
segment) and affect the next `times` matching requests:

- `error_500`: 500 `api_error`, nothing happens.
- `rate_limit`: 429 `rate_limit`, nothing happens.
- `timeout`: the request takes effect; the reply is held `delay_seconds` (so the
  client gives up first) and the idempotency key stays "in use" meanwhile.
- `drop_response`: the request takes effect; the connection is cut mid-reply.

Webhook faults take no method/path and affect the next `times` events:
`duplicate_webhook`, `reorder_webhooks` (swapped with the event after it),
`drop_webhook` (never delivered; still listed by `/v1/events`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from stripe_emulator.errors import ApiError
from stripe_emulator.ids import new_id

Json = dict[str, Any]
REQUEST_FAULTS = ("error_500", "timeout", "rate_limit", "drop_response")
WEBHOOK_FAULTS = ("duplicate_webhook", "reorder_webhooks", "drop_webhook")


@dataclass
class Fault:
    id: str
    fault: str
    method: str | None
    path: str | None
    times: int
    delay_seconds: float
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or _pattern(self.path).fullmatch(path) is not None

    def as_json(self) -> Json:
        return {
            "id": self.id,
            "object": "emulator.fault",
            "fault": self.fault,
            "method": self.method,
            "path": self.path,
            "times": self.times,
            "remaining": self.remaining,
            "delay_seconds": self.delay_seconds,
        }


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/{}]*\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


class FaultBook:
    """Armed faults, consumed in the order they were added."""

    def __init__(self, default_delay: float) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._default_delay = default_delay

    def add(self, body: Json) -> Fault:
        kind = body.get("fault")
        if kind not in REQUEST_FAULTS + WEBHOOK_FAULTS:
            raise _bad(f"fault must be one of {', '.join(REQUEST_FAULTS + WEBHOOK_FAULTS)}")
        times = _number(body.get("times", 1), "times", int)
        delay = _number(body.get("delay_seconds", self._default_delay), "delay_seconds", float)
        method = body.get("method")
        path = body.get("path")
        if kind in WEBHOOK_FAULTS and (method or path):
            raise _bad("webhook faults take no method or path")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise _bad("path must start with /")
        fault = Fault(
            id=new_id("flt"),
            fault=str(kind),
            method=str(method).upper() if method else None,
            path=path,
            times=int(times),
            delay_seconds=float(delay),
            remaining=int(times),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take_request_fault(self, method: str, path: str) -> Fault | None:
        return self._take(lambda f: f.fault in REQUEST_FAULTS and f.matches(method, path))

    def take_webhook_fault(self) -> str | None:
        fault = self._take(lambda f: f.fault in WEBHOOK_FAULTS)
        return fault.fault if fault else None

    def _take(self, wanted: Any) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and wanted(fault):
                    fault.remaining -= 1
                    return fault
        return None

    def armed(self) -> list[Json]:
        with self._lock:
            return [f.as_json() for f in self._faults if f.remaining > 0]

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()


def _number(value: Any, name: str, kind: type) -> float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise _bad(f"{name} must be a number") from None
    if number < (1 if kind is int else 0):
        raise _bad(f"{name} is too small")
    return number


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message, replayable=False)
