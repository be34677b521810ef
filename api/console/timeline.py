"""A checkout's history shaped for the console: each event with its cause in words, its data
without secrets, and the checkout's state at a version. Pure functions of domain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from events import codec
from events.base import Cause, DomainEvent

REDACTED = "[redacted]"
_ENVELOPE = ("originator_id", "originator_version", "occurred_at", "cause")
_HIDDEN_STATE = ("request_fingerprint",)
_CAUSES = {"request": "API request", "webhook": "Stripe event", "timer": "timer",
           "recovery": "recovery worker", "reconciliation": "reconciliation",
           "operator": "operator", "system": "system"}


@dataclass(frozen=True)
class CauseView:
    kind: str  # request | webhook | timer | recovery | reconciliation | operator | system | unknown
    label: str
    ref: str | None = None
    actor: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class TimelineEntry:
    version: int
    type: str
    occurred_at: str
    cause: CauseView
    data: dict[str, Any]


def redacted(value: Any) -> Any:
    """``value`` with every field whose name mentions a secret (a PaymentIntent's
    ``client_secret``, a key) replaced, however deep."""
    if isinstance(value, dict):
        return {k: (REDACTED if "secret" in k.lower() and v is not None else redacted(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return value


def cause_view(cause: Cause | None) -> CauseView:
    if cause is None:
        return CauseView(kind="unknown", label="not recorded")
    return CauseView(kind=cause.kind, label=_CAUSES.get(cause.kind, cause.kind), ref=cause.ref,
                     actor=cause.actor, note=cause.note)


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def timeline(history: list[DomainEvent]) -> list[TimelineEntry]:
    """Every event of the stream, in the order it was recorded."""
    entries = []
    for event in sorted(history, key=lambda e: e.originator_version):
        data = {k: v for k, v in codec.to_jsonable(event).items() if k not in _ENVELOPE}
        entries.append(TimelineEntry(version=event.originator_version, type=type(event).__name__,
                                     occurred_at=moment(event.occurred_at),
                                     cause=cause_view(event.cause), data=redacted(data)))
    return entries


def state_fields(state: msgspec.Struct) -> dict[str, Any]:
    """The aggregate's fields as plain values, secrets redacted (for the "state at version")."""
    fields = msgspec.to_builtins(state)
    return redacted({k: v for k, v in fields.items() if k not in _HIDDEN_STATE})
