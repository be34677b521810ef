"""Base of every stored event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Cause(msgspec.Struct, frozen=True, kw_only=True):
    """What made an event happen, for audit: an API request, a Stripe webhook (its ``evt_``
    id), a timer, the recovery worker, reconciliation or an operator (with who and why)."""

    kind: str  # request | webhook | timer | recovery | reconciliation | operator | system
    ref: str | None = None  # request id, evt_ id, job id
    actor: str | None = None  # operator identity
    note: str | None = None


class LineItem(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    quantity: int
    unit_amount: int = 0


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    """``occurred_at`` comes from the Clock port when the event is decided; replay never
    reads the clock. ``schema_version`` is the payload version this class writes;
    ``upcasters[n]`` turns a stored version-n payload into version n+1."""

    originator_id: UUID
    originator_version: int
    occurred_at: datetime
    cause: Cause | None = None

    schema_version: ClassVar[int] = 1
    upcasters: ClassVar[dict[int, Upcaster]] = {}
