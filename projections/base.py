"""What a projection is: a pure fold ``(row | None, event) -> row | None`` per key, and the
table it lives in. Rows are plain dicts; JSON columns hold Python values until stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.base import DomainEvent

Row = dict[str, Any]


@dataclass(frozen=True)
class Projection:
    name: str  # also the served table's name
    key_column: str
    columns: tuple[str, ...]
    json_columns: frozenset[str]
    key: Callable[[DomainEvent], str | None]  # the row an event touches, or None
    apply: Callable[[Row | None, DomainEvent], Row | None]


def ts(value: datetime | None) -> str | None:
    """Stored timestamps: UTC, fixed width, so text order is time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(stored: str | None) -> str | None:
    return None if stored is None else stored[:19] + "Z"


def fold_rows(projection: Projection, rows: dict[str, Row], events: list[DomainEvent]) -> set[str]:
    """Folds events into ``rows`` (key -> row, updated in place); returns the keys changed."""
    changed: set[str] = set()
    for event in events:
        key = projection.key(event)
        if key is None:
            continue
        new = projection.apply(rows.get(key), event)
        if new is not None and new is not rows.get(key):
            rows[key] = new
            changed.add(key)
    return changed
